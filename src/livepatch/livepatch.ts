/**
 * The livepatch subsystem of one simulated machine: the state of core.c/patch.c/transition.c and the
 * operations the rest of klpsim (module loader, shell, CLI, checks) needs from it.
 */
import type { KernelCore } from '../kernel/kernel-core';
import { synchronizeRcu } from '../kernel/rcu';
import { klpReleaseModuleRecords } from './core-free';
import { klpEnablePatch, klpModuleComing, klpModuleGoing, ModuleQuery } from './core';
import { CPU_FAULT_SWITCH_KTHREADS_AT_EXIT, KlpOptions, KlpState } from './klp-state';
import { GlobalField } from '../mem/percpu';
import { SHADOW_FAULT_FREE_NO_RCU, ShadowArea, ShadowWord } from '../mem/shadow-layout';
import { BlockingTask, klpBlockingTasks, klpSendSignals } from './transition';
import type { KlpPatch, KlpPatchDef, KlpStateDef } from './klp-types';
import { klpGetPrevState, klpGetState } from './state';
import { sysfsList, sysfsLookup, SysfsNode, sysfsRead, sysfsWrite, SysfsResult } from './sysfs';

export const DEFAULT_KLP_OPTIONS: KlpOptions = { nopRemoval: true, retryMs: 1000, verbose: false, faults: new Set() };

export interface KlpStats {
  patches: number;
  nops: number;
  dynamicObjects: number;
  ftraceOps: number;
  records: number;
}

export class Livepatch {
  readonly state: KlpState;

  constructor(
    readonly machine: KernelCore,
    options: Partial<KlpOptions> = {},
  ) {
    this.state = new KlpState(machine, { ...DEFAULT_KLP_OPTIONS, ...options });
    // Before any task runs: the CPUs' klp code reads the faults that act there.
    if (this.state.fault('shadow-free-no-rcu')) new ShadowArea(machine.km).setCtl(ShadowWord.Faults, SHADOW_FAULT_FREE_NO_RCU);
    if (this.state.fault('switch-kthreads-at-exit'))
      Atomics.or(machine.km.i32, machine.global.index(GlobalField.KlpCpuFaults), CPU_FAULT_SWITCH_KTHREADS_AT_EXIT);
  }

  enablePatch(def: KlpPatchDef, modules: ModuleQuery): Promise<number> {
    return klpEnablePatch(this.state, def, modules);
  }

  moduleComing(mod: string): Promise<number> {
    return klpModuleComing(this.state, mod);
  }

  moduleGoing(mod: string): Promise<void> {
    return klpModuleGoing(this.state, mod);
  }

  /**
   * A livepatch module holds a reference on itself while its patch exists (try_module_get() in
   * klp_init_patch_early()), and forever once the patch was forced.
   */
  moduleInUse(mod: string): boolean {
    return this.state.byName.has(mod) || this.state.forcedModules.has(mod);
  }

  /** The module is being freed: its klp_func records go with its memory. */
  async releaseModule(mod: string): Promise<void> {
    if (!this.state.moduleRecords.has(mod)) return;
    await synchronizeRcu(this.machine, 'free_module');
    klpReleaseModuleRecords(this.state, mod);
  }

  /** The patch registered by livepatch module `mod`, if it has not been freed. */
  patch(mod: string): KlpPatch | undefined {
    return this.state.byName.get(mod);
  }

  /**
   * klp_get_state(&patch, id) from the code of livepatch module `mod`, whose static klp_patch declares
   * `states` (the function only walks that array: it works before klp_enable_patch() too).
   */
  getState(mod: string, states: readonly KlpStateDef[], id: number): number | null {
    const st = klpGetState({ states: [...states] }, id);
    this.machine.emit({ type: 'state.get', patch: mod, id, prev: false, found: st ? mod : null, version: st?.version ?? null });
    return st?.version ?? null;
  }

  /** klp_get_prev_state(id): the version of the newest older patch's state, or null. */
  getPrevState(id: number): number | null {
    return this.prevState(id)?.state.version ?? null;
  }

  /** The lookup behind both forms of klp_get_prev_state(), with its `state.get` event. */
  private prevState(id: number): ReturnType<typeof klpGetPrevState> {
    const prev = klpGetPrevState(this.state, id);
    this.machine.emit({
      type: 'state.get',
      patch: this.state.transitionPatch?.mod ?? '',
      id,
      prev: true,
      found: prev?.patch.mod ?? null,
      version: prev?.state.version ?? null,
    });
    return prev;
  }

  /** `kernel.ftrace_enabled`: 1 or 0. */
  ftraceEnabled(): boolean {
    return this.state.ftrace.enabled;
  }

  /** A write of the sysctl (ftrace_enable_sysctl()): 0 or a negative errno. */
  ftraceEnabledStore(value: boolean): Promise<number> {
    // ftrace_enable_sysctl() takes ftrace_lock only; the ftrace core turns every site on or off.
    return this.state.ftrace.sysctlWrite(value, this.state.ftraceUpdate());
  }

  /** klp_get_prev_state(id) for C: the address of the older patch's struct klp_state, or 0. */
  getPrevStateAddr(id: number): number {
    return this.prevState(id)?.state.addr ?? 0;
  }

  inTransition(): boolean {
    return this.state.transitionPatch !== null;
  }

  transitionPatch(): KlpPatch | null {
    return this.state.transitionPatch;
  }

  /** klp_send_signals() now (what the sysfs `signal` attribute did before 5.1; 5.1 does it every 15 s). */
  signal(): Promise<void> {
    return this.state.withMutex(async () => {
      if (this.state.transitionPatch) klpSendSignals(this.state);
    });
  }

  blockingTasks(): BlockingTask[] {
    return klpBlockingTasks(this.state);
  }

  read(path: string): SysfsResult {
    return sysfsRead(this.state, path);
  }

  lookup(path: string): SysfsNode | null {
    return sysfsLookup(this.state, path);
  }

  list(path: string): ReturnType<typeof sysfsList> {
    return sysfsList(this.state, path);
  }

  write(path: string, value: string): Promise<number> {
    return sysfsWrite(this.state, path, value);
  }

  /** Is `func` (a vmlinux or module function name) redirected by some func_stack right now? */
  isPatched(func: string): boolean {
    for (const ops of this.state.ops.values()) {
      if (ops.func_stack[0]?.old_name === func) return !ops.func_stack[0].nop;
    }
    return false;
  }

  stats(): KlpStats {
    let nops = 0;
    let dynamicObjects = 0;
    const all = new Set<KlpPatch>([...this.state.byName.values(), ...this.state.patches]);
    for (const p of all) {
      for (const o of p.objs) {
        if (o.dynamic) dynamicObjects++;
        nops += o.funcs.filter((f) => f.nop).length;
      }
    }
    return { patches: all.size, nops, dynamicObjects, ftraceOps: this.state.ops.size, records: this.state.records.slab.allocated };
  }
}
