/**
 * The livepatch core's global state — the kernel's file-scope variables of core.c, patch.c and
 * transition.c (klp_patches, klp_ops, klp_transition_patch, klp_target_state, klp_signals_cnt,
 * klp_mutex) — gathered in one object that the functions of those files take as their first argument.
 */
import type { KernelCore } from '../kernel/kernel-core';
import { FtraceCore, FtraceOpsRef, FtraceUpdateOptions } from '../kernel/ftrace-ops';
import { AsyncMutex } from '../util/async-mutex';
import type { Link } from '../kernel/slab';
import { GlobalField } from '../mem/percpu';
import { KLP_UNDEFINED } from '../mem/task-struct';
import { ConsistencyTable } from './consistency-table';
import { KlpRecords } from './klp-records';
import type { KlpFunc, KlpPatch } from './klp-types';

/** Faults the stress tests inject (SPEC section 1). Each breaks one ordering rule of the kernel. */
export type KlpFault =
  | 'skip-rcu-sync'
  | 'skip-text-poke-bp'
  | 'early-free'
  | 'skip-stack-check'
  | 'early-transition-clear'
  /** The frame-pointer unwinder accepts a walk through an interrupt frame (the bug of issue 12). */
  | 'trust-unreliable-stack'
  /** Kernel threads pass klp_update_patch_state() at the end of every pass, as if they left for user space. */
  | 'switch-kthreads-at-exit'
  /** klp_shadow_free() frees the record at once instead of through kfree_rcu() (src/livepatch/shadow.ts). */
  | 'shadow-free-no-rcu';

/** GlobalField.KlpCpuFaults bits: the faults that act on the CPUs rather than in the core. */
export const CPU_FAULT_SWITCH_KTHREADS_AT_EXIT = 1 << 0;

export interface KlpOptions {
  /** "livepatch: Remove Nop structures when unused" (the default); false gives the behaviour before it. */
  nopRemoval: boolean;
  /** The transition retry period (the kernel's delayed work runs every HZ: 1 s). */
  retryMs: number;
  /** Print klp_try_switch_task's per-task pr_debug lines (SPEC: only with --verbose). */
  verbose: boolean;
  faults: ReadonlySet<KlpFault>;
}

/** struct klp_ops: one per patched old function, with its func_stack (newest first). */
export interface KlpOps {
  old_func: number;
  rec: Link;
  /** ops->fops as ftrace holds it (flags FTRACE_OPS_FL_IPMODIFY, and PERMANENT from 5.5). */
  fops: FtraceOpsRef;
  func_stack: KlpFunc[];
}

export class KlpState {
  readonly records: KlpRecords;
  /** The machine's ftrace core (registered ops, kernel.ftrace_enabled), shared with the tracer and kprobes. */
  get ftrace(): FtraceCore {
    return this.m.ftrace;
  }
  /** The two versions of each function of the latest transition, for the CPUs' consistency check. */
  readonly consistency: ConsistencyTable;
  /** klp_patches: enabled patches and the one in transition, oldest first. */
  readonly patches: KlpPatch[] = [];
  /** Every patch ever registered and not yet freed (for sysfs), by module name. */
  readonly byName = new Map<string, KlpPatch>();
  readonly ops = new Map<number, KlpOps>();
  transitionPatch: KlpPatch | null = null;
  private target = KLP_UNDEFINED;
  signalsCnt = 0;
  nextPatchId = 1;
  /**
   * Records of a livepatch module's own (static) klp_funcs: they live in the module's memory, so they are
   * freed when the module is removed, after the grace period free_module() waits for.
   */
  readonly moduleRecords = new Map<string, Link[]>();
  /** Livepatch modules whose patch was forced: they can never be removed. */
  readonly forcedModules = new Set<string>();
  /** Replaced patches whose free work has not run yet. */
  readonly replacedAwaitingFree: KlpPatch[] = [];
  /** A transition retry is scheduled (the delayed work is pending). */
  retryPending = false;
  private readonly klpMutex = new AsyncMutex();

  constructor(
    readonly m: KernelCore,
    readonly options: KlpOptions,
  ) {
    this.records = new KlpRecords(m.km);
    this.consistency = new ConsistencyTable(m.km);
    m.global.set(GlobalField.KlpTargetState, KLP_UNDEFINED);
  }

  get targetState(): number {
    return this.target;
  }

  /** klp_target_state, mirrored into shared memory where klp_update_patch_state() reads it. */
  set targetState(v: number) {
    this.target = v;
    this.m.global.set(GlobalField.KlpTargetState, v);
  }

  fault(f: KlpFault): boolean {
    return this.options.faults.has(f);
  }

  /** How livepatch asks the ftrace core to change sites and wait (the stress tests' faults skip either). */
  ftraceUpdate(): FtraceUpdateOptions {
    return { protocol: !this.fault('skip-text-poke-bp'), rcu: !this.fault('skip-rcu-sync') };
  }

  /** mutex_lock(&klp_mutex) … mutex_unlock(): serialises everything that changes klp state. */
  withMutex<T>(fn: () => Promise<T>): Promise<T> {
    return this.klpMutex.run(fn);
  }
}
