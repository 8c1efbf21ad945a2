/**
 * The core kernel as code on the coordinator thread calls it — the livepatch core (kernel/livepatch) and
 * synchronize_rcu(): the log and trace events, simulated time and delayed work, the task list, per-CPU
 * data, wake_up_if_idle(), text_poke_bp(), kallsyms and the module loader.
 *
 * The coordinator's Machine implements it. Declaring it here, below both, is what lets the livepatch core
 * sit under the coordinator in the layers (x86 < mem < kernel < livepatch < coordinator) although it drives
 * the machine, as kernel/livepatch drives the core kernel without the core kernel knowing it.
 */
import type { KernelMemory } from '../mem/kernel-memory';
import type { Kallsyms } from '../mem/kallsyms';
import type { GlobalView, PercpuView } from '../mem/percpu';
import type { EventBody } from './events';
import type { KernelLoader } from './loader';
import type { SimClock } from './sim-clock';
import type { KernelVersion } from './kernel-version';
import type { ReliableUnwinder } from './stack-walk';
import type { TaskHandle } from './task-handle';
import type { FtraceCore } from './ftrace-ops';

export interface KernelCore {
  readonly km: KernelMemory;
  readonly kallsyms: Kallsyms;
  readonly loader: KernelLoader;
  /** The machine's reliable stack unwinder (stack_trace_save_tsk_reliable()). */
  readonly unwinder: ReliableUnwinder;
  /** The release whose behaviour the machine follows (`kernel_version:`). */
  readonly version: KernelVersion;
  readonly clock: SimClock;
  /** The ftrace core (registered ftrace_ops, what each site calls, kernel.ftrace_enabled). */
  readonly ftrace: FtraceCore;
  readonly global: GlobalView;
  readonly pcpus: readonly PercpuView[];
  /** Every task created so far (ended ones included: ask `taskEnded(view, pid)`). */
  readonly tasks: readonly TaskHandle[];
  readonly cpus: number;
  /** The coordinator's simulated time (ns). */
  readonly now: number;
  /** A trace event, stamped with the time and its place in the stream. */
  emit(ev: EventBody): void;
  /** A kernel log line (printk from the coordinator). */
  log(text: string): void;
  /** Delayed work: `fn` runs once simulated time reaches `at` (ns). */
  schedule(at: number, fn: () => Promise<void> | void): void;
  /** Waits, letting the CPUs run, until `pred` holds; `what` names the wait if it times out. */
  waitFor(pred: () => boolean, what: string, timeoutMs?: number): Promise<void>;
  /** wake_up_if_idle(): a reschedule IPI to an idle CPU, so its idle loop runs. */
  wakeUpIfIdle(cpu: number): void;
  /**
   * The reschedule IPI of try_to_wake_up() for a task on `cpu` whose wake-up time was just moved
   * earlier: the CPU republishes its horizon before it acknowledges, so time does not pass the wake-up.
   */
  kickCpu(cpu: number): void;
  /** text_poke_bp() (`protocol` false: a plain copy, for the fault injection that skips the protocol). */
  textPoke(addr: number, bytes: readonly number[], protocol?: boolean): Promise<void>;
}
