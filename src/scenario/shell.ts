/**
 * The shell of a scenario's `sh:` steps (SPEC section 4): each command with Linux's behaviour and the
 * messages the real tools print (kmod's modprobe/insmod/rmmod, coreutils' cat/ls, bash's redirection
 * errors, GNU grep).
 */
import { EACCES, EEXIST, EINVAL, EIO, EISDIR, ENOENT, insmodStrerror, modprobeStrerror, strerror } from './errno';
import { lookupFile, normalizePath } from './shell-files';
import { callOnCpu } from './actions';
import { loadModule, unloadModule } from './module-ops';
import type { ShellCommand } from './scenario-types';
import type { SimContext } from './sim-context';
import { grepLines } from './grep';
import { tracefsRead, tracefsWrite } from './tracefs-files';

export interface ShellResult {
  stdout: string;
  stderr: string;
  exit: number;
}

const ok = (stdout = ''): ShellResult => ({ stdout, stderr: '', exit: 0 });
const fail = (stderr: string, exit = 1): ShellResult => ({ stdout: '', stderr: stderr + '\n', exit });

const PARAMS_RE = /^\/sys\/module\/([^/]+)\/parameters\/([^/]+)$/;

/** Reads a file the way `cat` would: open(2) (EACCES for a sysfs file without a read bit), then read(2). */
async function readFile(ctx: SimContext, file: string, tool: string): Promise<ShellResult> {
  const node = lookupFile(ctx, file);
  if (node.kind === 'none') return fail(`${tool}: ${file}: ${strerror(ENOENT)}`);
  if (node.kind === 'dir') return fail(`${tool}: ${file}: ${strerror(EISDIR)}`);
  if ((node.mode & 0o444) === 0) return fail(`${tool}: ${file}: ${strerror(EACCES)}`);
  const path = normalizePath(file);
  switch (node.of) {
    case 'proc':
      return ok((await callOnCpu(ctx, ctx.scenario.proc[path.slice('/proc/'.length)], [], tool)).text);
    case 'livepatch': {
      const r = ctx.klp.read(path);
      return r.ok ? ok(r.text) : fail(`${tool}: ${file}: ${strerror(r.errno)}`);
    }
    case 'param': {
      const pm = PARAMS_RE.exec(path) as RegExpExecArray;
      return ok(`${ctx.modules.get(pm[1])?.params.get(pm[2]) ?? ''}\n`);
    }
    case 'sysctl':
      return ok(`${sysctlRead(ctx)}\n`);
    case 'tracefs':
      return ok(tracefsRead(ctx, path));
  }
}

/** kernel.ftrace_enabled, the one sysctl klpsim has (/proc/sys/kernel/ftrace_enabled). */
const sysctlRead = (ctx: SimContext): string => (ctx.klp.ftraceEnabled() ? '1' : '0');

/** proc_dointvec()'s parse of a write: an integer (leading blanks allowed), else -EINVAL. */
async function sysctlWrite(ctx: SimContext, value: string): Promise<number> {
  const m = /^\s*([-+]?\d+)\s*$/.exec(value);
  if (!m) return EINVAL;
  return ctx.klp.ftraceEnabledStore(Number(m[1]) !== 0);
}

/** procps sysctl: KEY is kernel.ftrace_enabled (dots or slashes); its messages and exit codes. */
async function runSysctl(ctx: SimContext, cmd: Extract<ShellCommand, { cmd: 'sysctl' }>): Promise<ShellResult> {
  const path = `/proc/sys/${cmd.key.replace(/\./g, '/')}`;
  const name = cmd.key.replace(/\//g, '.');
  const node = lookupFile(ctx, path);
  if (node.kind !== 'file' || node.of !== 'sysctl') {
    return fail(`sysctl: cannot stat ${path}: ${strerror(ENOENT)}`, 255);
  }
  if (cmd.value !== undefined) {
    const errno = await sysctlWrite(ctx, cmd.value);
    if (errno !== 0) return fail(`sysctl: setting key "${name}": ${strerror(errno)}`);
    if (cmd.quiet) return ok();
  }
  const v = cmd.value !== undefined ? cmd.value.trim() : sysctlRead(ctx);
  return ok(cmd.valuesOnly ? `${v}\n` : `${name} = ${v}\n`);
}

/**
 * `echo V > FILE`: bash's open(2) of the redirection fails with its own message (`-bash: FILE: …`), a
 * failing write(2) with echo's (`-bash: echo: write error: …`).
 */
async function writeFile(ctx: SimContext, file: string, value: string, append = false): Promise<ShellResult> {
  if (file === '/dev/kmsg') {
    ctx.m.log(value);
    return ok();
  }
  const node = lookupFile(ctx, file);
  if (node.kind === 'none') return fail(`-bash: ${file}: ${strerror(node.createErrno)}`);
  if (node.kind === 'dir') return fail(`-bash: ${file}: ${strerror(EISDIR)}`);
  if ((node.mode & 0o222) === 0) {
    // kernfs refuses the open; procfs lets root open the file, and its write has no method to call
    return node.of === 'proc' ? fail(`-bash: echo: write error: ${strerror(EIO)}`) : fail(`-bash: ${file}: ${strerror(EACCES)}`);
  }
  const path = normalizePath(file);
  if (node.of === 'livepatch') {
    const errno = await ctx.klp.write(path, value);
    return errno === 0 ? ok() : fail(`-bash: echo: write error: ${strerror(errno)}`);
  }
  if (node.of === 'tracefs') {
    const r = await tracefsWrite(ctx, path, value, append);
    if (r.open) return fail(`-bash: ${file}: ${strerror(r.open)}`);
    return r.write === 0 ? ok() : fail(`-bash: echo: write error: ${strerror(r.write)}`);
  }
  if (node.of === 'sysctl') {
    const errno = await sysctlWrite(ctx, value);
    return errno === 0 ? ok() : fail(`-bash: echo: write error: ${strerror(errno)}`);
  }
  const pm = PARAMS_RE.exec(path);
  const mod = pm ? ctx.modules.get(pm[1]) : undefined;
  // param_attr_store(): the parameter's own parser, -EINVAL for a value it rejects.
  if (pm && mod && ctx.modules.setParam(mod, pm[2], value)) return ok();
  return fail(`-bash: echo: write error: ${strerror(EINVAL)}`);
}

/** `ls DIR` lists a directory; `ls FILE` prints the name back, as ls does for a file operand. */
function listDir(ctx: SimContext, dir: string): ShellResult {
  const node = lookupFile(ctx, dir);
  if (node.kind === 'none') return fail(`ls: cannot access '${dir}': ${strerror(ENOENT)}`, 2);
  if (node.kind === 'file') return ok(`${dir}\n`);
  return ok(node.entries.map((e) => `${e}\n`).join(''));
}

export async function runShell(ctx: SimContext, cmd: ShellCommand): Promise<ShellResult> {
  switch (cmd.cmd) {
    case 'modprobe':
    case 'insmod': {
      const def = ctx.scenario.modules.find((m) => m.name === cmd.module);
      if (!def) {
        return cmd.cmd === 'modprobe'
          ? fail(`modprobe: FATAL: Module ${cmd.module} not found in directory /lib/modules/klpsim`)
          : fail(`insmod: ERROR: could not load module ${cmd.file ?? `${cmd.module}.ko`}: No such file or directory`);
      }
      if (ctx.modules.isLoaded(def.name)) {
        return cmd.cmd === 'modprobe' ? ok() : fail(`insmod: ERROR: could not insert module ${cmd.file ?? `${def.name}.ko`}: File exists`);
      }
      const ret = await loadModule(ctx, def, cmd.params);
      // kmod's modprobe takes -EEXIST from init_module() for a module that raced it into the kernel and
      // says nothing (kmod_module_probe_insert_module() without --first-time), even when it was the init
      // that failed; insmod reports it.
      if (ret === 0 || (cmd.cmd === 'modprobe' && ret === EEXIST)) return ok();
      return cmd.cmd === 'modprobe'
        ? fail(`modprobe: ERROR: could not insert '${def.name}': ${modprobeStrerror(ret)}`)
        : fail(`insmod: ERROR: could not insert module ${cmd.file ?? `${def.name}.ko`}: ${insmodStrerror(ret)}`);
    }
    case 'rmmod': {
      const def = ctx.scenario.modules.find((m) => m.name === cmd.module);
      const r = await unloadModule(ctx, def, cmd.module);
      if (r === 'not-loaded') return fail(`rmmod: ERROR: Module ${cmd.module} is not currently loaded`);
      // kmod's rmmod: the reference count is 0, so it calls delete_module(), which refuses.
      if (r === 'busy') return fail(`rmmod: ERROR: could not remove module ${cmd.module}: Device or resource busy`);
      if (r === 'in-use') {
        // kmod names the holders when there are any, else only the reference count stands in the way.
        const holders = [...(ctx.modules.get(cmd.module)?.holders ?? [])];
        return fail(
          holders.length > 0
            ? `rmmod: ERROR: Module ${cmd.module} is in use by: ${holders.join(' ')}`
            : `rmmod: ERROR: Module ${cmd.module} is in use`,
        );
      }
      return ok();
    }
    case 'lsmod':
      return ok(ctx.modules.lsmod((m) => (ctx.klp.moduleInUse(m.name) ? 1 : 0)));
    case 'echo':
      return cmd.target === undefined ? ok(`${cmd.value}\n`) : writeFile(ctx, cmd.target, cmd.value, cmd.append === true);
    case 'cat':
      return readFile(ctx, cmd.file, 'cat');
    case 'ls':
      return listDir(ctx, cmd.dir);
    case 'grep': {
      const r = await readFile(ctx, cmd.file, 'grep');
      if (r.exit !== 0) return { ...r, exit: 2 };
      return grepLines(r.stdout, cmd.pattern, cmd.flags);
    }
    case 'sysctl':
      return runSysctl(ctx, cmd);
    case 'kmsg': {
      const r = await runShell(ctx, cmd.inner);
      for (const line of r.stdout.split('\n').filter((l, i, a) => !(i === a.length - 1 && l === ''))) ctx.m.log(line);
      return { ...r, stdout: '' };
    }
  }
}
