/**
 * The shell of a scenario's `sh:` steps (SPEC section 4): each command with Linux's behaviour and the
 * messages the real tools print (kmod's modprobe/insmod/rmmod, coreutils' cat/ls, bash's redirection
 * errors, GNU grep).
 */
import { LIVEPATCH_ROOT } from '../livepatch/sysfs';
import { EINVAL, insmodStrerror, modprobeStrerror, strerror } from './errno';
import { callOnCpu } from './actions';
import { loadModule, unloadModule } from './module-ops';
import type { ShellCommand } from './scenario-types';
import type { SimContext } from './sim-context';
import { grepLines } from './grep';

export interface ShellResult {
  stdout: string;
  stderr: string;
  exit: number;
}

const ok = (stdout = ''): ShellResult => ({ stdout, stderr: '', exit: 0 });
const fail = (stderr: string, exit = 1): ShellResult => ({ stdout: '', stderr: stderr + '\n', exit });

const PARAMS_RE = /^\/sys\/module\/([^/]+)\/parameters\/([^/]+)$/;

/** Reads a file the way `cat` would: /proc, /sys/kernel/livepatch, module parameters. */
async function readFile(ctx: SimContext, file: string, tool: string): Promise<ShellResult> {
  const proc = /^\/proc\/([^/]+)$/.exec(file);
  if (proc) {
    const func = ctx.scenario.proc[proc[1]];
    if (!func) return fail(`${tool}: ${file}: No such file or directory`);
    return ok((await callOnCpu(ctx, func, [], tool)).text);
  }
  if (file === LIVEPATCH_ROOT || file.startsWith(LIVEPATCH_ROOT + '/')) {
    const r = ctx.klp.read(file);
    return r.ok ? ok(r.text) : fail(`${tool}: ${file}: ${strerror(r.errno)}`);
  }
  const pm = PARAMS_RE.exec(file);
  const value = pm ? ctx.modules.get(pm[1])?.params.get(pm[2]) : undefined;
  if (value !== undefined) return ok(`${value}\n`);
  return fail(`${tool}: ${file}: No such file or directory`);
}

async function writeFile(ctx: SimContext, file: string, value: string): Promise<ShellResult> {
  if (file === '/dev/kmsg') {
    ctx.m.log(value);
    return ok();
  }
  if (file.startsWith(LIVEPATCH_ROOT + '/')) {
    const errno = await ctx.klp.write(file, value);
    if (errno === 0) return ok();
    if (errno === -2) return fail(`-bash: ${file}: No such file or directory`);
    return fail(`-bash: echo: write error: ${strerror(errno)}`);
  }
  const pm = PARAMS_RE.exec(file);
  const mod = pm ? ctx.modules.get(pm[1]) : undefined;
  if (pm && mod && mod.params.has(pm[2])) {
    // param_attr_store(): the parameter's own parser, -EINVAL for a value it rejects.
    return ctx.modules.setParam(mod, pm[2], value) ? ok() : fail(`-bash: echo: write error: ${strerror(EINVAL)}`);
  }
  return fail(`-bash: ${file}: No such file or directory`);
}

function listDir(ctx: SimContext, dir: string): ShellResult {
  const d = dir.replace(/\/+$/, '') || '/';
  let entries: string[] | null = null;
  if (d === LIVEPATCH_ROOT || d.startsWith(LIVEPATCH_ROOT + '/')) {
    const r = ctx.klp.list(d);
    if (r.ok) entries = r.entries;
    else if (r.errno === -20) return ok(`${dir}\n`);
  } else if (d === '/proc') entries = Object.keys(ctx.scenario.proc).sort();
  else if (d === '/sys/module') entries = ctx.modules.all().map((m) => m.name).sort();
  else {
    const pm = /^\/sys\/module\/([^/]+)\/parameters$/.exec(d);
    const mod = pm ? ctx.modules.get(pm[1]) : undefined;
    if (mod) entries = [...mod.params.keys()].sort();
  }
  if (entries === null) return fail(`ls: cannot access '${dir}': No such file or directory`, 2);
  return ok(entries.map((e) => `${e}\n`).join(''));
}

export async function runShell(ctx: SimContext, cmd: ShellCommand): Promise<ShellResult> {
  switch (cmd.cmd) {
    case 'modprobe':
    case 'insmod': {
      const def = ctx.scenario.modules.find((m) => m.name === cmd.module);
      if (!def) {
        return cmd.cmd === 'modprobe'
          ? fail(`modprobe: FATAL: Module ${cmd.module} not found in directory /lib/modules/klpsim`)
          : fail(`insmod: ERROR: could not load module ${cmd.module}.ko: No such file or directory`);
      }
      if (ctx.modules.isLoaded(def.name)) {
        return cmd.cmd === 'modprobe' ? ok() : fail(`insmod: ERROR: could not insert module ${def.name}.ko: File exists`);
      }
      const ret = await loadModule(ctx, def, cmd.params);
      if (ret === 0) return ok();
      return cmd.cmd === 'modprobe'
        ? fail(`modprobe: ERROR: could not insert '${def.name}': ${modprobeStrerror(ret)}`)
        : fail(`insmod: ERROR: could not insert module ${def.name}.ko: ${insmodStrerror(ret)}`);
    }
    case 'rmmod': {
      const def = ctx.scenario.modules.find((m) => m.name === cmd.module);
      const r = await unloadModule(ctx, def, cmd.module);
      if (r === 'not-loaded') return fail(`rmmod: ERROR: Module ${cmd.module} is not currently loaded`);
      if (r === 'in-use') {
        // kmod names the holders when there are any, else only the reference count stands in the way.
        const holders = [...(ctx.modules.get(cmd.module)?.holders ?? [])];
        return fail(holders.length > 0 ? `rmmod: ERROR: Module ${cmd.module} is in use by: ${holders.join(' ')}` : `rmmod: ERROR: Module ${cmd.module} is in use`);
      }
      return ok();
    }
    case 'lsmod':
      return ok(ctx.modules.lsmod((m) => (ctx.klp.moduleInUse(m.name) ? 1 : 0)));
    case 'echo':
      return cmd.target === undefined ? ok(`${cmd.value}\n`) : writeFile(ctx, cmd.target, cmd.value);
    case 'cat':
      return readFile(ctx, cmd.file, 'cat');
    case 'ls':
      return listDir(ctx, cmd.dir);
    case 'grep': {
      const r = await readFile(ctx, cmd.file, 'grep');
      if (r.exit !== 0) return { ...r, exit: 2 };
      return grepLines(r.stdout, cmd.pattern, cmd.flags);
    }
    case 'kmsg': {
      const r = await runShell(ctx, cmd.inner);
      for (const line of r.stdout.split('\n').filter((l, i, a) => !(i === a.length - 1 && l === ''))) ctx.m.log(line);
      return { ...r, stdout: '' };
    }
  }
}
