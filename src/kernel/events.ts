/**
 * Simulation events (SPEC section 5). Every thread produces `RawEvent`s; the coordinator stamps `seq`
 * (strictly increasing, in the order events enter `events$`) when it forwards them.
 * Field names are part of the user-facing contract: add fields, never rename them.
 */
import type { TaskKind } from './task-program';

export interface EventBase {
  /** Simulated time, ns. */
  t: number;
  seq: number;
  /** The CPU the event happened on, null for the coordinator. */
  cpu: number | null;
}

type Ev<T extends string, F> = EventBase & { type: T } & F;

interface FuncRef {
  func: string;
  object: string;
  patch: string;
}

export type LogEvent = Ev<'log', { text: string }>;
export type TaskStateEvent = Ev<'task.state', { pid: number; comm: string; state: string; func?: string }>;
export type TaskOutputEvent = Ev<'task.output', { pid: number; comm: string; text: string; ret: number }>;
export type FaultEvent = Ev<
  'fault',
  { vector: string; rip: number; addr?: number; bytes: string; message: string; pid: number; comm: string }
>;
/** `pos`: the scenario's place, for a run-time error of an action (check `action`). */
export type ViolationEvent = Ev<
  'violation',
  { check: string; message: string; pid?: number; addr?: number; pos?: { file: string; line: number; col: number } }
>;
export type TextPokeEvent = Ev<
  'text.poke',
  { addr: number; symbol: string; old: string; new: string; phase: 'int3' | 'tail' | 'first' | 'direct' }
>;
export type SyncCoreEvent = Ev<'ipi.sync_core', { cpus: number; waitedNs: number }>;
export type FtraceRegEvent = Ev<'ftrace.register' | 'ftrace.unregister', { func: string; addr: number }>;
export type RcuGpStartEvent = Ev<'rcu.gp_start', { reason: string }>;
export type RcuGpEndEvent = Ev<'rcu.gp_end', { reason: string; durationNs: number }>;
export type PatchEnableEvent = Ev<'patch.enable', { patch: string; replace: boolean }>;
export type PatchDisableEvent = Ev<'patch.disable', { patch: string }>;
export type TransitionStartEvent = Ev<'transition.start', { patch: string; target: string; tasks: number }>;
export type TransitionCompleteEvent = Ev<'transition.complete', { patch: string; target: string }>;
export type TransitionReverseEvent = Ev<'transition.reverse', { patch: string; from: string; to: string }>;
/** `how`: 'stack check', 'kernel exit', 'signal', 'idle', 'force'; `kind`: the task's (task-program.ts). */
export type TaskSwitchEvent = Ev<'transition.task_switch', { pid: number; comm: string; state: number; how: string; kind?: TaskKind }>;
export type FuncStackEvent = Ev<'func_stack.push' | 'func_stack.remove', FuncRef & { nop: boolean; depth: number; addr: number }>;
export type NopAddEvent = Ev<'nop.add', FuncRef & { dynamicObject: boolean; replaces: string }>;
export type NopDiscardEvent = Ev<'nop.discard', FuncRef>;
export type KlpFreeEvent = Ev<
  'klp.free',
  { what: 'func' | 'object' | 'patch'; patch: string; func?: string; object?: string; nop?: boolean; dynamic?: boolean; forced?: boolean }
>;
export type CallRedirectEvent = Ev<
  'call.redirect',
  { func: string; from: number; to: number; target: string; patchId: number; pid: number; sampled: number }
>;
export type ShEvent = Ev<'sh', { command: string; stdout: string; stderr: string; exit: number }>;
/**
 * System states (issue 15): a klp_get_state() (`prev: false`: the caller's patch `patch`) or
 * klp_get_prev_state() (`prev: true`: `patch` is the transition patch) lookup of state `id`, and what it
 * found (`found`: the patch whose state it is, or null; `version`: that state's version).
 */
export type StateGetEvent = Ev<'state.get', { patch: string; id: number; prev: boolean; found: string | null; version: number | null }>;
/** klp_enable_patch() refused `patch`: it cannot handle state `id` of version `installedVersion` that `installed` made. */
export type StateIncompatibleEvent = Ev<
  'state.incompatible',
  { patch: string; id: number; version: number | null; installed: string; installedVersion: number }
>;

/** Shadow variables (issue 15): <obj, id> attached with `size` bytes at `data`, or taken off the hash (`dtor`: one ran). */
export type ShadowAllocEvent = Ev<'shadow.alloc', { obj: string; id: string; size: number; data: number }>;
export type ShadowFreeEvent = Ev<'shadow.free', { obj: string; id: string; data: number; dtor: boolean }>;
/** What an ftrace site calls now (ftrace-ops.ts): `ops` matching ops, target nop / ftrace_caller / ftrace_ops_list_func. */
export type FtraceSiteEvent = Ev<'ftrace.site', { func: string; addr: number; ops: number; target: string }>;
/** A second FTRACE_OPS_FL_IPMODIFY ops refused on `func` (-EBUSY): `ops` the one refused, `holder` the one there. */
export type FtraceIpmodifyEvent = Ev<'ftrace.ipmodify_conflict', { ops: string; holder: string; func: string; addr: number }>;
/** tracefs: current_tracer changed. */
export type TracerSetEvent = Ev<'tracer.set', { tracer: string }>;
/** register_kprobe() / a kprobe event enabled: `ret` 0 or the errno; `ipmodify`: it went on kprobe_ipmodify_ops. */
export type KprobeRegisterEvent = Ev<'kprobe.register', { symbol: string; addr: number; ipmodify: boolean; ret: number }>;
export type KprobeUnregisterEvent = Ev<'kprobe.unregister', { symbol: string; addr: number }>;

export type SimEvent =
  | LogEvent
  | TaskStateEvent
  | TaskOutputEvent
  | FaultEvent
  | ViolationEvent
  | TextPokeEvent
  | SyncCoreEvent
  | FtraceRegEvent
  | RcuGpStartEvent
  | RcuGpEndEvent
  | PatchEnableEvent
  | PatchDisableEvent
  | TransitionStartEvent
  | TransitionCompleteEvent
  | TransitionReverseEvent
  | TaskSwitchEvent
  | FuncStackEvent
  | NopAddEvent
  | NopDiscardEvent
  | KlpFreeEvent
  | CallRedirectEvent
  | ShEvent
  | StateGetEvent
  | StateIncompatibleEvent
  | ShadowAllocEvent
  | ShadowFreeEvent
  | FtraceSiteEvent
  | FtraceIpmodifyEvent
  | TracerSetEvent
  | KprobeRegisterEvent
  | KprobeUnregisterEvent;

export type SimEventType = SimEvent['type'];

/**
 * The scheduler's churn: tasks waking and sleeping, thousands of times a simulated second for a busy task
 * (the flagship: ~64 000 `task.state` events against ~400 others). `--format pretty` folds it and a failure
 * report leaves it out, so that the livepatch story around it stays readable; ndjson and traces keep it.
 */
export function isSchedulerChurn(ev: SimEvent): ev is TaskStateEvent {
  return ev.type === 'task.state';
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** An event before the coordinator numbers it. */
export type RawEvent = DistributiveOmit<SimEvent, 'seq'>;
/** An event as its producer writes it: time and CPU are filled in by emit(). */
export type EventBody = DistributiveOmit<SimEvent, 'seq' | 't' | 'cpu'>;

/**
 * A `task.state` event, built in one place for both platforms (a CPU in lockstep, the coordinator reading
 * a worker thread's packed records: event-batch.ts): its keys' order is what the ndjson output prints.
 * One object literal per shape, not a spread: two of these per wake-up.
 */
export function taskStateEvent(t: number, cpu: number, pid: number, comm: string, state: string, func: string | undefined): RawEvent {
  return func === undefined ? { t, cpu, type: 'task.state', pid, comm, state } : { t, cpu, type: 'task.state', pid, comm, state, func };
}

export const hex = (bytes: ArrayLike<number>): string => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
