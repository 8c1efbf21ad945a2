/**
 * One CPU's run queue and its timers, without a scan of its tasks: the runnable tasks in the order they
 * became runnable (a FIFO: round robin, as CFS gives tasks of equal weight turns), and the sleepers in a
 * min-heap by wake-up time, ties in the order their timers were armed. A sleeper moves to the FIFO when
 * its time comes (expire()) — before anything else is queued behind it, so the FIFO's order is the order
 * in which tasks really became runnable. Each operation is O(1) or O(log n) and allocates nothing once
 * the arrays have grown to the number of tasks.
 *
 * Single-threaded: it belongs to one CpuHost, and only that CPU's thread touches it.
 */

/** What a task carries for the queue (the CpuHost's LocalTask). */
export interface RqEntity {
  /** When it wakes, while it sleeps on a timer. */
  wakeAt: number;
  /** Its place in the timer heap, -1 if it has no timer there. */
  heapIdx: number;
  /** Arming order, for ties. */
  armSeq: number;
  /** On the runnable FIFO. */
  queued: boolean;
}

export class RunQueue<T extends RqEntity> {
  private fifo: (T | null)[] = [];
  private head = 0;
  private size = 0;
  private readonly heap: T[] = [];
  private seq = 0;

  /** Tasks on the runnable FIFO. */
  get runnable(): number {
    return this.size;
  }

  /** The earliest timer's wake-up time, or `none`. */
  earliest(none: number): number {
    return this.heap.length > 0 ? this.heap[0].wakeAt : none;
  }

  /** Appends `t` to the runnable FIFO (no-op if it is there). */
  enqueue(t: T): void {
    if (t.queued) return;
    if (this.size === this.fifo.length) this.grow();
    this.fifo[(this.head + this.size) % this.fifo.length] = t;
    this.size++;
    t.queued = true;
  }

  /** The FIFO's first task, taken off; null if none. */
  dequeue(): T | null {
    while (this.size > 0) {
      const t = this.fifo[this.head];
      this.fifo[this.head] = null;
      this.head = (this.head + 1) % this.fifo.length;
      this.size--;
      // A task taken off by remove() leaves a hole: skip it.
      if (t && t.queued) {
        t.queued = false;
        return t;
      }
    }
    return null;
  }

  /** Takes `t` off the FIFO and the heap (it died). O(n) on the FIFO: rare. */
  remove(t: T): void {
    if (t.queued) {
      const n = this.fifo.length;
      for (let i = 0; i < this.size; i++) {
        const k = (this.head + i) % n;
        if (this.fifo[k] === t) {
          // Close the hole so that `size` stays the number of queued tasks.
          for (let j = i; j < this.size - 1; j++) this.fifo[(this.head + j) % n] = this.fifo[(this.head + j + 1) % n];
          this.fifo[(this.head + this.size - 1) % n] = null;
          this.size--;
          break;
        }
      }
      t.queued = false;
    }
    this.cancel(t);
  }

  /** Arms (or re-arms) `t`'s timer for `at`. */
  arm(t: T, at: number): void {
    t.wakeAt = at;
    t.armSeq = this.seq++;
    if (t.heapIdx < 0) {
      t.heapIdx = this.heap.length;
      this.heap.push(t);
      this.up(t.heapIdx);
    } else {
      this.up(t.heapIdx);
      this.down(t.heapIdx);
    }
  }

  /** Moves `t`'s timer to `at` keeping its arming order (a wake-up moved earlier by another CPU). */
  move(t: T, at: number): void {
    if (t.heapIdx < 0) return;
    t.wakeAt = at;
    this.up(t.heapIdx);
    this.down(t.heapIdx);
  }

  /** Cancels `t`'s timer, if it has one. */
  cancel(t: T): void {
    const i = t.heapIdx;
    if (i < 0) return;
    const last = this.heap.pop() as T;
    t.heapIdx = -1;
    if (last !== t) {
      this.heap[i] = last;
      last.heapIdx = i;
      this.up(i);
      this.down(last.heapIdx);
    }
  }

  /** Moves every task whose timer is due at `now` to the runnable FIFO, earliest first; returns how many. */
  expire(now: number): number {
    let n = 0;
    while (this.heap.length > 0 && this.heap[0].wakeAt <= now) {
      const t = this.heap[0];
      this.cancel(t);
      this.enqueue(t);
      n++;
    }
    return n;
  }

  private less(a: T, b: T): boolean {
    return a.wakeAt < b.wakeAt || (a.wakeAt === b.wakeAt && a.armSeq < b.armSeq);
  }

  private up(i: number): void {
    const h = this.heap;
    const t = h[i];
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(t, h[p])) break;
      h[i] = h[p];
      h[i].heapIdx = i;
      i = p;
    }
    h[i] = t;
    t.heapIdx = i;
  }

  private down(i: number): void {
    const h = this.heap;
    const n = h.length;
    const t = h[i];
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.less(h[r], h[l]) ? r : l;
      if (!this.less(h[c], t)) break;
      h[i] = h[c];
      h[i].heapIdx = i;
      i = c;
    }
    h[i] = t;
    t.heapIdx = i;
  }

  private grow(): void {
    const n = Math.max(8, this.fifo.length * 2);
    const next: (T | null)[] = new Array<T | null>(n).fill(null);
    for (let i = 0; i < this.size; i++) next[i] = this.fifo[(this.head + i) % this.fifo.length];
    this.fifo = next;
    this.head = 0;
  }
}
