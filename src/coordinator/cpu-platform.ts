/**
 * How the coordinator drives the CPUs. Two implementations with one contract:
 * - WorkerCpus: each CPU is a worker thread (real concurrency);
 * - LockstepCpus: every CPU runs on the coordinator's thread, interleaved by a seeded scheduler, so a seed
 *   reproduces the event stream byte for byte (`--deterministic`).
 * The coordinator never blocks its thread: it awaits `waitUntil`, during which lockstep CPUs run and
 * worker CPUs are polled.
 */
import type { TaskSpec } from '../kernel/task-program';

export interface CpuPlatform {
  readonly cpus: number;
  start(): Promise<void>;
  addTask(cpu: number, spec: TaskSpec, startNs: number): Promise<void>;
  /**
   * Resolves true once `pred()` holds, false when `timeoutMs` of real time passed first (or, in lockstep
   * mode, when no CPU can make progress any more).
   */
  waitUntil(pred: () => boolean, timeoutMs: number): Promise<boolean>;
  /** Stops every CPU and collects their last events. */
  stop(): Promise<void>;
}
