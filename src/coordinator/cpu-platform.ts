/**
 * How the coordinator drives the CPUs. Two implementations with one contract:
 * - WorkerCpus: each CPU is a worker thread (real concurrency);
 * - LockstepCpus: every CPU runs on the coordinator's thread, interleaved by a seeded scheduler, so a seed
 *   reproduces the event stream byte for byte (`--deterministic`).
 * The coordinator never blocks its thread: it awaits `waitUntil`, during which lockstep CPUs run and
 * worker CPUs are polled.
 */
import type { TaskSpec } from '../kernel/task-program';
import type { TaskReply } from '../kernel/task-request';

export interface CpuPlatform {
  readonly cpus: number;
  start(): Promise<void>;
  addTask(cpu: number, spec: TaskSpec, startNs: number): Promise<void>;
  /** Hands a task its request's answer (src/kernel/task-request.ts); synchronous in lockstep. */
  replyTask(cpu: number, pid: number, reply: TaskReply): void;
  /**
   * Resolves true once `pred()` holds, false when `timeoutMs` of real time passed first (or, in lockstep
   * mode, when no CPU can make progress any more). `relaxed` waits (simulated time passing) may notice
   * the condition a little late; the others (acknowledgements, grace periods) wake at once. `onPoll`
   * runs after each check that found the condition false.
   */
  waitUntil(pred: () => boolean, timeoutMs: number, relaxed?: boolean, onPoll?: () => void): Promise<boolean>;
  /** Resolves once every event batch the CPUs have posted has been received (worker mode). */
  drainEvents(): Promise<void>;
  /** Stops every CPU and collects their last events. */
  stop(): Promise<void>;
}
