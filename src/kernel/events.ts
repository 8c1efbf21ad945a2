/**
 * Simulation events (SPEC section 5). Every thread produces `RawEvent`s; the coordinator stamps `seq`
 * (strictly increasing, in the order events enter `events$`) when it forwards them.
 * Field names are part of the user-facing contract: add fields, never rename them.
 */
export interface EventBase {
  /** Simulated time, ns. */
  t: number;
  seq: number;
  /** The CPU the event happened on, null for the coordinator. */
  cpu: number | null;
}

export interface LogEvent extends EventBase { type: 'log'; text: string }
export interface TaskStateEvent extends EventBase { type: 'task.state'; pid: number; comm: string; state: string; func?: string }
export interface FaultEvent extends EventBase {
  type: 'fault'; vector: string; rip: number; addr?: number; bytes: string; message: string; pid: number; comm: string;
}
export interface ViolationEvent extends EventBase { type: 'violation'; check: string; message: string; pid?: number; addr?: number }
export interface TextPokeEvent extends EventBase {
  type: 'text.poke'; addr: number; symbol: string; old: string; new: string; phase: 'int3' | 'tail' | 'first' | 'direct';
}
export interface SyncCoreEvent extends EventBase { type: 'ipi.sync_core'; cpus: number; waitedNs: number }
export interface CpuStateEvent extends EventBase { type: 'cpu.state'; state: string; retired: number }
export interface FtraceRegEvent extends EventBase { type: 'ftrace.register' | 'ftrace.unregister'; func: string; addr: number }
export interface GenericEvent extends EventBase { type: string; [field: string]: unknown }

export type SimEvent =
  | LogEvent
  | TaskStateEvent
  | FaultEvent
  | ViolationEvent
  | TextPokeEvent
  | SyncCoreEvent
  | CpuStateEvent
  | FtraceRegEvent;

/** An event before the coordinator numbers it. */
export type RawEvent = DistributiveOmit<SimEvent, 'seq'> | Omit<GenericEvent, 'seq'>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export const hex = (bytes: ArrayLike<number>): string =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
