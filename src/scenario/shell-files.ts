/**
 * The file tree the shell's commands open: /sys/kernel/livepatch, /sys/module/M/parameters/K and /proc/NAME,
 * each with the mode the kernel gives it, so that a command fails where and as the real one does (as root):
 * - open(2) for writing a sysfs attribute without a write bit fails with EACCES (kernfs_fop_open() checks
 *   the mode itself, so root's CAP_DAC_OVERRIDE does not help), and so does creating a name that a sysfs
 *   directory lacks (kernfs has no `create`); a procfs file opens for root, but its write fails with EIO
 *   (proc_reg_write() of a file without a write method);
 * - a path whose directory does not exist is ENOENT (procfs's lookup says so for any name it lacks);
 * - a directory opened for writing is EISDIR; read(2) of a directory is EISDIR too.
 * Paths outside these trees do not exist.
 */
import { posix } from 'path';
import { LIVEPATCH_ROOT } from '../livepatch/sysfs';
import { EACCES, ENOENT } from './errno';
import type { SimContext } from './sim-context';
import { isTracefsPath, tracefsLookup } from './tracefs-files';

export type FileKind = 'livepatch' | 'param' | 'proc' | 'sysctl' | 'tracefs';

/** The sysctls klpsim has, as their /proc/sys paths (proc_dointvec files, 0644). */
export const SYSCTL_FILES: readonly string[] = ['/proc/sys/kernel/ftrace_enabled'];
const SYSCTL_MODE = 0o644;

export type FileNode =
  | { kind: 'dir'; entries: string[] }
  | { kind: 'file'; of: FileKind; mode: number }
  /** nothing there: open(O_CREAT) of it fails with `createErrno` */
  | { kind: 'none'; createErrno: number };

/** A YAML module's parameter sysfs file: as `module_param(name, type, 0644)` (a C module's have their own perm). */
const PARAM_MODE = 0o644;
/** proc_create_single() files: 0444. */
const PROC_MODE = 0o444;

export function normalizePath(path: string): string {
  const p = posix.normalize(posix.isAbsolute(path) ? path : `/${path}`);
  return p.length > 1 ? p.replace(/\/+$/, '') : p;
}

const dir = (entries: string[]): FileNode => ({ kind: 'dir', entries: [...entries].sort() });

function find(ctx: SimContext, p: string): FileNode | null {
  if (p === '/sys') return dir(['kernel', 'module']);
  if (p === '/sys/kernel') return dir(['debug', 'livepatch', 'tracing']);
  if (p === '/sys/kernel/debug') return dir(['kprobes', 'tracing']);
  if (isTracefsPath(p)) {
    const n = tracefsLookup(ctx, p);
    if (!n) return null;
    return n.kind === 'dir' ? dir(n.entries) : { kind: 'file', of: 'tracefs', mode: n.mode };
  }
  if (p === LIVEPATCH_ROOT || p.startsWith(LIVEPATCH_ROOT + '/')) {
    const n = ctx.klp.lookup(p);
    if (n?.kind === 'dir') return { kind: 'dir', entries: n.entries };
    return n ? { kind: 'file', of: 'livepatch', mode: n.mode } : null;
  }
  if (p === '/sys/module') return dir(ctx.modules.all().map((m) => m.name));
  const m = /^\/sys\/module\/([^/]+)(?:\/([^/]+)(?:\/([^/]+))?)?$/.exec(p);
  if (m) {
    const mod = ctx.modules.get(m[1]);
    if (!mod) return null;
    // A module's parameters directory exists only when it has parameters (module_param_sysfs_setup()).
    // A C module's parameter has the mode its module_param() gave; perm 0 makes no sysfs file.
    const mode = (k: string): number => mod.paramPerms?.get(k) ?? PARAM_MODE;
    const files = [...mod.params.keys()].filter((k) => mode(k) !== 0);
    const hasParams = files.length > 0;
    if (m[2] === undefined) return dir(hasParams ? ['parameters'] : []);
    if (m[2] !== 'parameters' || !hasParams) return null;
    if (m[3] === undefined) return dir(files);
    return files.includes(m[3]) ? { kind: 'file', of: 'param', mode: mode(m[3]) } : null;
  }
  if (p === '/proc') return dir([...Object.keys(ctx.scenario.proc).filter((n) => n !== 'sys'), 'sys']);
  if (p === '/proc/sys') return dir(['kernel']);
  if (p === '/proc/sys/kernel') return dir(SYSCTL_FILES.map((f) => posix.basename(f)));
  if (SYSCTL_FILES.includes(p)) return { kind: 'file', of: 'sysctl', mode: SYSCTL_MODE };
  const proc = /^\/proc\/([^/]+)$/.exec(p);
  if (proc && Object.prototype.hasOwnProperty.call(ctx.scenario.proc, proc[1])) return { kind: 'file', of: 'proc', mode: PROC_MODE };
  return null;
}

/** The node at a path, as lookup and then stat(2) see it. */
export function lookupFile(ctx: SimContext, path: string): FileNode {
  const p = normalizePath(path);
  const node = find(ctx, p);
  if (node) return node;
  // Creating a name is refused by a sysfs directory (EACCES); anywhere else klpsim models (procfs, or a
  // directory that does not exist) the lookup already fails with ENOENT.
  const parent = p.startsWith('/sys/') ? find(ctx, posix.dirname(p)) : null;
  return { kind: 'none', createErrno: parent?.kind === 'dir' ? EACCES : ENOENT };
}
