/**
 * A module written in C (`sources:`, `c:`, `object:`), loaded and unloaded as kernel/module.c does it:
 * load_module() links the code with its `__this_module` (state COMING, complete_formation()), then
 * prepare_coming_module() (klp_module_coming()), then parse_args() on the module's own `__param` records,
 * then do_init_module(): init_module runs on a CPU in modprobe's process context; its return value fails
 * the load (< 0, unwound through GOING and klp_module_going()) or is warned about (> 0); then LIVE.
 * rmmod: GOING, cleanup_module on a CPU, klp_module_going(), free.
 *
 * A livepatch module's init calls klp_enable_patch(&patch): the CPU posts it to the coordinator
 * (service-request.ts) and waits inside the call; the loader, waiting for init, takes it up, reads the
 * patch from the module's memory (klp-structs.ts) and enables it with the core — the coordinator holds
 * klp_mutex — then answers the CPU with the result, which init returns.
 */
import type { ElfObject } from '../c/elf/elf-types';
import type { ServiceRequestHandler, TaskHandle } from '../coordinator/machine';
import type { LoadedObject } from '../kernel/loader';
import { hasExit, hasInit, kernelParams, thisModuleAddr, writeModuleState } from '../kernel/module-elf';
import type { Module, ModuleState } from '../kernel/modules';
import { parseParam } from '../kernel/module-params';
import { TASK_STRUCT_SIZE } from '../mem/layout';
import { taskEnded } from '../mem/task-struct';
import type { KlpCallback, KlpObjectDef, KlpPatchDef } from '../livepatch/klp-types';
import { KlpStructError, KlpPatchImage, readKlpPatch, readModuleName, writeObjectMod } from '../livepatch/klp-structs';
import { Completions } from './c-completions';
import { EINVAL } from './errno';
import type { ModuleDef } from './scenario-types';
import type { SimContext } from './sim-context';

/** The process context init, exit and the callbacks they cause run in (`current->comm`). */
const MODPROBE_COMM = 'modprobe';

/**
 * A klp_enable_patch() (or register_kprobe() / unregister_kprobe()) call waiting for the loader that runs
 * the calling task's module init, exit or callback: `arg` is the struct klp_patch or struct kprobe.
 */
interface PendingEnable {
  from: TaskHandle;
  service: 'klp_enable_patch' | 'register_kprobe' | 'unregister_kprobe';
  arg: number;
}

/** Per run: enables posted by init tasks, by pid; the struct module of each loaded module. */
interface CModuleState {
  enables: Map<number, PendingEnable>;
  /** Tasks running a module's init or a callback for the loader, which serves their klp_enable_patch(). */
  callers: Set<number>;
  structModule: Map<string, number>;
  workers: Map<number, TaskHandle>;
  /** The work_struct each kworker task runs, by pid. */
  workOf: Map<number, number>;
  kworkers: number;
  completions: Completions;
}

const states = new WeakMap<SimContext, CModuleState>();

function stateOf(ctx: SimContext): CModuleState {
  let s = states.get(ctx);
  if (!s) {
    s = {
      enables: new Map(),
      callers: new Set(),
      structModule: new Map(),
      workers: new Map(),
      workOf: new Map(),
      kworkers: 0,
      completions: new Completions(ctx.m.km, (h, ret) => ctx.m.replyService(h, ret)),
    };
    states.set(ctx, s);
  }
  return s;
}

export const isCModule = (def: ModuleDef): boolean => def.units.length > 0;
export const moduleElfs = (def: ModuleDef): ElfObject[] => def.units.map((u) => u.elf);

/** Moves the module's state, in the registry and in its struct module (what C reads as mod->state). */
export function setModuleState(ctx: SimContext, mod: Module, state: ModuleState): void {
  mod.state = state;
  const addr = stateOf(ctx).structModule.get(mod.name);
  if (addr !== undefined) writeModuleState(ctx.m.km, addr, state);
}

/** After the code is in memory: the struct module is known, state COMING (complete_formation()). */
export function moduleFormed(ctx: SimContext, mod: Module, loaded: LoadedObject): void {
  const addr = thisModuleAddr(loaded);
  if (addr !== undefined) stateOf(ctx).structModule.set(mod.name, addr);
  setModuleState(ctx, mod, 'COMING');
}

export function moduleFreed(ctx: SimContext, name: string): void {
  stateOf(ctx).structModule.delete(name);
}

/**
 * The C module's parameters (mod->kp), registered with their built-in values; null if a record's type is
 * not one klpsim has (logged, -EINVAL).
 */
export function registerCParams(ctx: SimContext, mod: Module, loaded: LoadedObject): boolean {
  const kp = kernelParams(ctx.m.km, ctx.m.kallsyms, loaded);
  if ('error' in kp) {
    ctx.m.log(`${mod.name}: ${kp.error}`);
    return false;
  }
  for (const p of kp) {
    mod.paramTypes.set(p.name, p.type);
    mod.paramVars ??= new Map();
    mod.paramVars.set(p.name, p.arg);
    mod.paramPerms ??= new Map();
    mod.paramPerms.set(p.name, p.perm);
    mod.params.set(p.name, p.initial);
  }
  return true;
}

/** parse_args() against the module's own parameters: 0, or -EINVAL for a value its type refuses. */
export function parseCArgs(ctx: SimContext, mod: Module, args: Record<string, string | null>): number {
  for (const [k, v] of Object.entries(args)) {
    const type = mod.paramTypes.get(k);
    if (!type) {
      ctx.m.log(`${mod.name}: unknown parameter '${k}' ignored`);
      continue;
    }
    const text = v ?? (type === 'bool' ? '1' : null);
    if (text === null || parseParam(type, text) === null || !ctx.modules.setParam(mod, k, text)) {
      ctx.m.log(`${mod.name}: \`${v ?? ''}' invalid for parameter \`${k}'`);
      return EINVAL;
    }
  }
  return 0;
}

/** Calls the C function at `addr` on a CPU in modprobe's context, serving its klp_enable_patch() calls. */
async function callC(ctx: SimContext, addr: number, args: number[], what: string): Promise<number> {
  const func = ctx.m.kallsyms.symbolAt(addr)?.name ?? `0x${addr.toString(16)}`;
  const t = await ctx.m.spawn({ name: MODPROBE_COMM, run: [{ kind: 'call', func, addr, args }], once: true, capture: true });
  const s = stateOf(ctx);
  s.callers.add(t.pid);
  try {
    await serveInit(ctx, s, t, func, what);
  } finally {
    s.callers.delete(t.pid);
  }
  await ctx.m.waitFor(() => ctx.outputs.has(t.pid) || ctx.m.violations() > 0, `the result of ${func}()`, 2_000).catch(() => undefined);
  const out = ctx.outputs.get(t.pid);
  ctx.outputs.delete(t.pid);
  // int: the low 32 bits of rax, signed.
  return out ? out.ret | 0 : 0;
}

/** Waits for the task to finish, enabling the patches it hands klp_enable_patch() on the way. */
async function serveInit(ctx: SimContext, s: CModuleState, t: TaskHandle, func: string, what: string): Promise<void> {
  for (;;) {
    await ctx.m.waitFor(
      () => ctx.outputs.has(t.pid) || taskEnded(t.view, t.pid) || s.enables.has(t.pid),
      `${what} to finish ${func}()`,
      30_000,
    );
    const pending = s.enables.get(t.pid);
    if (!pending) break;
    s.enables.delete(t.pid);
    const ret =
      pending.service === 'klp_enable_patch'
        ? await enableFromC(ctx, pending.arg)
        : pending.service === 'register_kprobe'
          ? await registerKprobeC(ctx, pending.arg)
          : await unregisterKprobeC(ctx, pending.arg);
    ctx.m.replyService(pending.from, ret);
  }
}

/** do_init_module(): init's result (0, or the negative errno that fails modprobe). */
export async function runCInit(ctx: SimContext, def: ModuleDef, loaded: LoadedObject): Promise<number> {
  if (!hasInit(moduleElfs(def))) return 0;
  const init = loaded.symbols.get('init_module');
  if (!init) return 0;
  const ret = await callC(ctx, init.addr, [], `${def.name}'s init`);
  if (ret > 0) {
    // do_init_module(): a positive return is not an error, only suspicious.
    ctx.m.log(`do_init_module: '${def.name}'->init suspiciously returned ${ret}, it should follow 0/-E convention`);
    ctx.m.log(`do_init_module: loading module anyway...`);
    return 0;
  }
  return ret;
}

/** cleanup_module on a CPU (rmmod's delete_module(), after the state went GOING). */
export async function runCExit(ctx: SimContext, def: ModuleDef): Promise<void> {
  if (!hasExit(moduleElfs(def))) return;
  const exit = ctx.m.loader.objects.get(def.name)?.symbols.get('cleanup_module');
  if (exit) await callC(ctx, exit.addr, [], `${def.name}'s exit`);
}

/** try_stop_module(): a module with an init but no exit can only be removed by force (-EBUSY). */
export const cannotUnload = (def: ModuleDef): boolean => hasInit(moduleElfs(def)) && !hasExit(moduleElfs(def));

/** The module whose struct module is at `addr`. */
function moduleAt(ctx: SimContext, addr: number): Module | undefined {
  for (const [name, a] of stateOf(ctx).structModule) if (a === addr) return ctx.modules.get(name);
  return undefined;
}

/** klp_enable_patch(patch) as kernel/livepatch/core.c checks it, then the core's enable. */
async function enableFromC(ctx: SimContext, patchAddr: number): Promise<number> {
  let img: KlpPatchImage;
  try {
    img = readKlpPatch(ctx.m.km, patchAddr);
  } catch (e) {
    if (!(e instanceof KlpStructError)) throw e;
    // The kernel returns -EINVAL without a word (or oopses on a wild pointer): klpsim says why, as itself.
    ctx.m.log(`klpsim: klp_enable_patch() of ${patchModuleName(ctx, patchAddr)}: ${e.message}`);
    return EINVAL;
  }
  if (img.mod === 0) return EINVAL;
  const mod = moduleAt(ctx, img.mod);
  if (!mod || !mod.livepatch) {
    let name = mod?.name ?? '?';
    try {
      name = readModuleName(ctx.m.km, img.mod);
    } catch {
      /* a wild pointer: the kernel would oops printing it */
    }
    ctx.m.log(`livepatch: module ${name} is not marked as a livepatch module`);
    return EINVAL;
  }
  const s = stateOf(ctx);
  const objs: KlpObjectDef[] = img.objs.map((o) => {
    const cb = (addr: number, returns: boolean): KlpCallback | undefined =>
      addr === 0
        ? undefined
        : async () => {
            // obj->mod: the target's struct module while it is loaded (klp_find_object_module()), else NULL.
            writeObjectMod(ctx.m.km, o, o.name === null ? 0 : (s.structModule.get(o.name) ?? 0));
            const ret = await callC(ctx, addr, [o.addr], `the callback of '${o.name ?? 'vmlinux'}'`);
            return returns ? ret : undefined;
          };
    return {
      name: o.name,
      funcs: o.funcs.map((f) => ({
        old_name: f.old_name,
        new_name: ctx.m.kallsyms.symbolAt(f.new_func)?.name ?? '',
        new_addr: f.new_func,
        old_sympos: f.old_sympos,
      })),
      callbacks: {
        pre_patch: cb(o.callbacks.pre_patch, true),
        post_patch: cb(o.callbacks.post_patch, false),
        pre_unpatch: cb(o.callbacks.pre_unpatch, false),
        post_unpatch: cb(o.callbacks.post_unpatch, false),
      },
    };
  });
  for (const o of img.objs) writeObjectMod(ctx.m.km, o, o.name === null ? 0 : (s.structModule.get(o.name) ?? 0));
  const def: KlpPatchDef = { mod: mod.name, replace: img.replace, objs, states: img.states };
  return ctx.klp.enablePatch(def, ctx.modules);
}

/** The module whose data holds the patch (for a message). */
function patchModuleName(ctx: SimContext, addr: number): string {
  const o = [...ctx.m.loader.objects.values()].find((x) => addr >= x.dataStart && addr < x.dataEnd);
  return o ? `module ${o.name}` : `the patch at 0x${addr.toString(16)}`;
}

/** The task struct a `struct task_struct *` points at (get_current()'s value). */
function taskAt(ctx: SimContext, addr: number): TaskHandle | undefined {
  const base = ctx.m.km.layout.tasksBase;
  if (addr < base || (addr - base) % TASK_STRUCT_SIZE !== 0) return undefined;
  return stateOf(ctx).workers.get((addr - base) / TASK_STRUCT_SIZE);
}

const taskPtr = (ctx: SimContext, h: TaskHandle): number => ctx.m.km.layout.tasksBase + h.slot * TASK_STRUCT_SIZE;

/**
 * The coordinator's side of C's service calls: klp_enable_patch() is deferred to the loader running the
 * caller's init; kthreads and work items are tasks the coordinator creates and stops.
 */
export function cServiceHandler(ctx: SimContext): ServiceRequestHandler {
  return (from, service, args, atNs) => {
    const s = stateOf(ctx);
    const a = args.map((v) => Number(BigInt.asUintN(64, v)));
    switch (service) {
      case 'klp_enable_patch':
        if (!s.callers.has(from.pid)) {
          // Nothing would take it up (the core runs where modprobe waits for init): refuse it, saying so.
          ctx.m.log(
            `klpsim: ${from.comm} (pid ${from.pid}) called klp_enable_patch() outside a module's init; klpsim enables patches only from init`,
          );
          return { reply: { ret: EINVAL } };
        }
        s.enables.set(from.pid, { from, service, arg: a[0] });
        return null;
      case 'kthread_create_on_node': {
        // kthread_run(): the thread is created and woken at once (wake_up_process() finds it running).
        const fn = a[0];
        const name = ctx.m.km.readCString(a[3], 64) || 'kthread';
        const func = ctx.m.kallsyms.symbolAt(fn)?.name ?? `0x${fn.toString(16)}`;
        const { handle, added } = ctx.m.createTask(
          { name, run: [{ kind: 'call', func, addr: fn, args: [a[1]] }], once: true, kind: 'kthread' },
          atNs,
        );
        s.workers.set(handle.slot, handle);
        return { reply: { ret: taskPtr(ctx, handle) }, ready: added };
      }
      case 'wake_up_process':
        return { reply: { ret: 1 } };
      case 'kthread_stop': {
        const t = taskAt(ctx, a[0]);
        const stopped = t ? ctx.m.requestStop(t.pid, atNs) : null;
        if (!stopped || stopped.pid === from.pid) return { reply: { ret: 0 } };
        return { reply: { ret: 0, wait: { slot: stopped.slot, pid: stopped.pid } } };
      }
      case 'schedule_work':
      case 'schedule_delayed_work': {
        const work = a[0];
        const pending = [...s.workers.values()].find(
          (w) => w.comm.startsWith('kworker/') && s.workOf.get(w.pid) === work && !taskEnded(w.view, w.pid),
        );
        if (pending) return { reply: { ret: 0 } };
        // work->func is the third word of struct work_struct (data, entry, func).
        const fn = ctx.m.km.readU64(work + 24);
        const func = ctx.m.kallsyms.symbolAt(fn)?.name ?? `0x${fn.toString(16)}`;
        const delay = service === 'schedule_delayed_work' ? a[1] : 0;
        const run = [
          ...(delay > 0 ? [{ kind: 'sleep' as const, ms: delay }] : []),
          { kind: 'call' as const, func, addr: fn, args: [work] },
        ];
        const name = `kworker/${from.cpu}:${++s.kworkers}`;
        const { handle, added } = ctx.m.createTask({ name, run, once: true, kind: 'kthread', cpu: from.cpu }, atNs);
        s.workers.set(handle.slot, handle);
        s.workOf.set(handle.pid, work);
        return { reply: { ret: 1 }, ready: added };
      }
      case 'cancel_work_sync':
      case 'cancel_delayed_work_sync':
      case 'flush_work':
      case 'flush_delayed_work': {
        const work = a[0];
        const w = [...s.workers.values()].find((x) => s.workOf.get(x.pid) === work && !taskEnded(x.view, x.pid));
        if (!w || w.pid === from.pid) return { reply: { ret: 0 } };
        // The item is queued or running: wait for it to finish (klpsim runs a queued item's delay out).
        return { reply: { ret: service.startsWith('flush') ? 1 : 0, wait: { slot: w.slot, pid: w.pid } } };
      }
      case 'wait_for_completion':
        // Uninterruptible, as the kernel's: the task sleeps in the service until complete() answers it.
        return s.completions.wait(from, a[0]) ? { reply: { ret: 0 } } : null;
      case 'complete':
      case 'complete_all':
        s.completions.complete(a[0], service === 'complete_all');
        return { reply: { ret: 0 } };
      case 'klp_get_prev_state':
        // The struct klp_state in the older patch's module; NULL outside a transition (the kernel WARNs).
        return { reply: { ret: ctx.klp.getPrevStateAddr(a[0]) } };
      case 'register_kprobe':
      case 'unregister_kprobe': {
        // kprobe_mutex and the ftrace ops are the coordinator's: the loader running the caller's init or
        // exit takes the call up (it pokes sites, which needs the coordinator's waits), as for
        // klp_enable_patch(); the task waits inside the call until the probe is armed or refused.
        if (!s.callers.has(from.pid)) {
          ctx.m.log(
            `klpsim: ${from.comm} (pid ${from.pid}) called ${service}() outside a module's init or exit; klpsim serves it only there`,
          );
          return { reply: { ret: EINVAL } };
        }
        s.enables.set(from.pid, { from, service, arg: a[0] });
        return null;
      }
    }
  };
}

/** struct kprobe as include/linux/kprobes.h lays it out (the kernel's field order, x86-64). */
const KPROBE_ADDR = 40;
const KPROBE_SYMBOL_NAME = 48;
const KPROBE_OFFSET = 56;
const KPROBE_PRE_HANDLER = 64;
const KPROBE_POST_HANDLER = 72;

/** register_kprobe(kp): reads the struct from the module's memory; on success kp->addr is the probed address. */
async function registerKprobeC(ctx: SimContext, kp: number): Promise<number> {
  const km = ctx.m.km;
  let symbol: string;
  let addr: number;
  let offset: number;
  let pre: number;
  let post: number;
  try {
    addr = km.readU64(kp + KPROBE_ADDR);
    const name = km.readU64(kp + KPROBE_SYMBOL_NAME);
    symbol = name ? km.readCString(name, 128) : '';
    offset = km.dv.getUint32(kp + KPROBE_OFFSET, true);
    pre = km.readU64(kp + KPROBE_PRE_HANDLER);
    post = km.readU64(kp + KPROBE_POST_HANDLER);
  } catch {
    ctx.m.log(`klpsim: register_kprobe() was handed a struct kprobe it cannot read (0x${kp.toString(16)})`);
    return EINVAL;
  }
  // _kprobe_addr(): exactly one of symbol_name and addr.
  if ((symbol !== '') === (addr !== 0)) return EINVAL;
  if (symbol === '') symbol = ctx.m.kallsyms.symbolAt(addr)?.name ?? '';
  const sym = ctx.m.kallsyms.symbolAt(addr || (ctx.m.kallsyms.lookup(symbol)?.addr ?? 0));
  if (offset !== 0 || (addr !== 0 && sym?.addr !== addr)) {
    ctx.m.log(`klpsim: kprobes need an ftrace site (a traceable function's entry); ${symbol}+0x${offset.toString(16)} is not one`);
    return EINVAL;
  }
  const ret = await ctx.m.kprobes.register({ symbol, kp, pre, post });
  if (ret === 0) km.writeU64(kp + KPROBE_ADDR, ctx.m.kprobes.byStruct(kp)?.addr ?? 0);
  return ret;
}

/** unregister_kprobe(kp): a probe that is not registered is ignored, as the kernel's. */
async function unregisterKprobeC(ctx: SimContext, kp: number): Promise<number> {
  const p = ctx.m.kprobes.byStruct(kp);
  if (p) await ctx.m.kprobes.unregister(p);
  return 0;
}
