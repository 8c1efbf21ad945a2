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
