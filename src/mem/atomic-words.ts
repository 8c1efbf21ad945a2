/**
 * A block of Int32 (and Int64) words in kmem, every access an Atomics operation: the common shape of the
 * shared records that are synchronisation points between threads (per-CPU areas, the global control
 * block, task structs). Field numbering is the subclass's; an Int64 field occupies two words and must
 * start on an even word.
 */
import type { KernelMemory } from './kernel-memory';

export class AtomicWords {
  protected readonly base32: number;
  protected readonly base64: number;

  constructor(
    protected readonly km: KernelMemory,
    readonly base: number,
  ) {
    this.base32 = base >>> 2;
    this.base64 = base >>> 3;
  }

  get(word: number): number {
    return Atomics.load(this.km.i32, this.base32 + word);
  }

  set(word: number, v: number): void {
    Atomics.store(this.km.i32, this.base32 + word, v);
  }

  /**
   * Stores `v` only if the word holds something else: an Atomics.load is a plain load on x86-64, a
   * sequentially consistent store a locked exchange. For words their one writer often rewrites with the
   * value they hold (a CPU's saved frame of a task that sleeps between passes, its mode and counters);
   * readers that synchronise through a lock or a later store see the same value either way.
   */
  setIfChanged(word: number, v: number): void {
    const i = this.base32 + word;
    if (Atomics.load(this.km.i32, i) !== (v | 0)) Atomics.store(this.km.i32, i, v);
  }

  add(word: number, v: number): number {
    return Atomics.add(this.km.i32, this.base32 + word, v);
  }

  /** Sets bits; returns the word's old value. */
  or(word: number, v: number): number {
    return Atomics.or(this.km.i32, this.base32 + word, v);
  }

  /** The word's index in kmem's Int32Array (for Atomics.wait/notify/and/or on it). */
  index(word: number): number {
    return this.base32 + word;
  }

  get64(word: number): bigint {
    return Atomics.load(this.km.i64, this.base64 + (word >>> 1));
  }

  set64(word: number, v: bigint): void {
    Atomics.store(this.km.i64, this.base64 + (word >>> 1), v);
  }
}
