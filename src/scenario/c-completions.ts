/**
 * kernel/sched/completion.c for C modules: complete(), complete_all() and wait_for_completion(), served
 * by the coordinator (they are coordinator services, src/kernel/service-request.ts).
 *
 * `struct completion` (include/linux/completion.h) keeps its `done` count in the module's memory, as the
 * kernel's does, so an initializer, reinit_completion() and completion_done() in C see the same count;
 * the waiters are kept here instead of on the struct's swait queue. Only the coordinator writes `done`
 * while a completion is in use (every caller of these three is blocked in its service request while they
 * run): the coordinator's one mailbox is the completion's wait.lock. A waiter reads nothing itself — its
 * answer comes back through the request reply, whose Atomics order the coordinator's plain store of
 * `done` before the waiter resumes; completion_done() in C is a plain racy read, as READ_ONCE() is in the
 * kernel. A C write to `done` while a task waits (init_completion() of a completion in use) is a bug in
 * the kernel too.
 *
 * As in the kernel, complete() adds one to `done` and wakes one waiter, which takes one back;
 * complete_all() sets `done` to UINT_MAX, which no waiter decrements, and wakes every waiter.
 */
import type { TaskHandle } from '../coordinator/machine';
import type { KernelMemory } from '../mem/kernel-memory';
import { taskEnded } from '../mem/task-struct';

const UINT_MAX = 0xffffffff;

export class Completions {
  /** Tasks blocked in wait_for_completion(), oldest first (swait's FIFO), by the completion's address. */
  private readonly waiters = new Map<number, TaskHandle[]>();

  constructor(
    private readonly km: KernelMemory,
    private readonly reply: (h: TaskHandle, ret: number) => void,
    private readonly ended: (h: TaskHandle) => boolean = (h) => taskEnded(h.view, h.pid),
  ) {}

  /** wait_for_completion(): true when `done` was already there to take (the task returns at once). */
  wait(from: TaskHandle, x: number): boolean {
    if (this.take(x)) return true;
    const q = this.waiters.get(x);
    if (q) q.push(from);
    else this.waiters.set(x, [from]);
    return false;
  }

  /** complete() / complete_all(). */
  complete(x: number, all: boolean): void {
    const done = this.done(x);
    this.setDone(x, all ? UINT_MAX : done === UINT_MAX ? done : done + 1);
    const q = this.waiters.get(x);
    while (q && q.length > 0) {
      const w = q.shift() as TaskHandle;
      // A waiter that ended meanwhile (killed with its module) takes nothing.
      if (this.ended(w)) continue;
      this.take(x);
      this.reply(w, 0);
      if (!all) break;
    }
    if (q && q.length === 0) this.waiters.delete(x);
  }

  /** The waker's half of do_wait_for_common(): one `done` taken, unless complete_all() saturated it. */
  private take(x: number): boolean {
    const done = this.done(x);
    if (done === 0) return false;
    if (done !== UINT_MAX) this.setDone(x, done - 1);
    return true;
  }

  private done(x: number): number {
    return this.km.dv.getUint32(x, true);
  }

  private setDone(x: number, v: number): void {
    this.km.dv.setUint32(x, v, true);
  }
}
