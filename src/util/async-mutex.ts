/**
 * A kernel mutex as the coordinator's single thread needs one (klp_mutex, ftrace_lock, kprobe_mutex):
 * the async steps of one holder (waiting for a grace period, a text_poke_bp) never interleave with
 * another's. Waiters queue in arrival order, as a mutex's wait list; nothing is held across threads.
 */
export class AsyncMutex {
  private tail: Promise<void> = Promise.resolve();

  /** mutex_lock() … fn … mutex_unlock(). */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    const prev = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((r) => (release = r));
    await prev;
    try {
      return await fn();
    } finally {
      release();
    }
  }
}
