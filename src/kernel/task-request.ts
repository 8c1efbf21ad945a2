/**
 * A task's request to the coordinator, and its answer: how a task on a CPU performs `start_task` and
 * `stop_task` (and reads a charp parameter's text), which only the coordinator can do — it owns task
 * slots, pids and task names — as a kernel thread in kthread_create() hands the work to kthreadd and
 * sleeps until it is done.
 *
 * The path, bounded (at most one request per task in flight, so at most one per task slot):
 * 1. The task's CPU writes ReqAction and ReqClock in the task struct, then Atomics.store's ReqState =
 *    REQ_POSTED, then Atomics.add's GlobalField.TaskRequests and bumps the clock epoch (which wakes a
 *    coordinator waiting on it). The task sleeps, blocked, between two actions (its stack is empty, so a
 *    transition may switch it, as one sleeping between passes).
 * 2. While the request is open the CPU's horizon stays at its clock: simulated time cannot pass a task
 *    that waits for the coordinator (as it cannot pass an unacknowledged IPI), so the request is served
 *    at the time it was made, whatever else the coordinator was doing.
 * 3. The coordinator checks TaskRequests on every poll of every wait (the only places simulated time
 *    moves, see Machine.waitUntil), scans the task structs when it moved — the Atomics.add orders after
 *    the REQ_POSTED store, so a count seen means its request is seen — stores REQ_TAKEN and serves it.
 * 4. The answer goes back over the control plane (CpuPlatform.replyTask: a comlink call on worker
 *    threads, a direct call in lockstep, where serving is synchronous, so a seed still gives one stream);
 *    the CPU stores REQ_NONE, and the task runs again at its CPU's clock.
 */
import type { ActionPos, TaskAction } from './task-program';

export interface TaskReply {
  /** A printk action's text, its `${…}` expanded. */
  text?: string;
  /** The numbers of a `sleep` (its ms) or `call` (its args), their `${…}` expanded. */
  values?: number[];
  /** stop_task: the task to wait for (kthread_stop() waits for its exit); absent when it has ended. */
  wait?: { slot: number; pid: number };
  /** The action cannot be done (a parameter's value does not fit): the task ends with this error. */
  error?: string;
  /** Where the error is (the `${…}` whose value does not fit), if not the action itself. */
  errorAt?: ActionPos;
  /** A service request's return value (rax), service-request.ts. */
  ret?: number;
}

/** Does the CPU need the coordinator for this action? (A charp's text lives only there.) */
export function needsCoordinator(a: TaskAction): boolean {
  switch (a.kind) {
    case 'start_task':
    case 'stop_task':
      return true;
    case 'printk':
      return a.refs.some((r) => r.type === 'charp');
    case 'sleep':
      return typeof a.ms !== 'number' && a.ms.type === 'charp';
    case 'call':
      return a.args.some((v) => typeof v !== 'number' && v.type === 'charp');
  }
}
