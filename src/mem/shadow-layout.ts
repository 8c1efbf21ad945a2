/**
 * The shadow variable area (SHADOW in layout.ts): kernel/livepatch/shadow.c's `klp_shadow_hash`
 * (DEFINE_HASHTABLE(klp_shadow_hash, 12): 4096 buckets), `klp_shadow_lock`, and the `struct klp_shadow`
 * records with their data, which emulated code reads and writes through the pointers klp_shadow_get()
 * returns (the area is R+W, as kmalloc memory is).
 *
 * Shared words, their writers, and the ordering (every access is an Atomics operation on Int32 words):
 * | word | written by | read by | ordered by |
 * | --- | --- | --- | --- |
 * | `Lock` (klp_shadow_lock) | any CPU: compareExchange 0 -> cpu+1, store 0 to release | CPUs taking it | the CAS (acquire) and the store (release) |
 * | `Bump`, `Free`, `Cur`, `Next`, `CurArmed`, `Snap[cpu]`, counters | the lock holder | the lock holder | the lock |
 * | bucket heads, a node's `Next` (hash chain) | the lock holder (hash_add_rcu: node complete, then one store of the head; hash_del_rcu: one store of the predecessor's link, the node's own link left intact) | klp_shadow_get() on any CPU, lock-free | Atomics.store / Atomics.load (RCU publish / rcu_dereference) |
 * | a node's `Magic` | the lock holder (SHADOW_MAGIC before publishing; POISON when the chunk is freed, after a grace period) | readers: a poisoned node is a use-after-free | the same stores |
 * | `Faults` | the coordinator, before any task runs | every CPU | set before the CPUs start |
 *
 * Freed records go through kfree_rcu(): the lock holder links them on `Next`; when `Cur` is empty the
 * batch moves to `Cur` and every CPU's RcuQs is snapshotted; the next allocation that finds every other
 * CPU outside a read-side section (PreemptCount 0), or past a quiescent state (RcuQs moved), or gone,
 * poisons the batch and puts it on the free list — the RCU-sched grace period of src/kernel/rcu.ts,
 * checked by CPUs instead of waited for by the coordinator.
 *
 * Records are fixed 256-byte chunks (header 32 bytes, data up to 224): a larger `size` fails as a failed
 * kzalloc() does (NULL).
 */
import type { KernelMemory } from './kernel-memory';

export const enum ShadowWord {
  Lock = 0,
  /** Next never-used chunk index. */
  Bump = 1,
  /** Free chunks (byte address of the first, linked through RcuNext). */
  Free = 2,
  /** The kfree_rcu() batch waiting for its grace period, and the one collecting frees. */
  Cur = 3,
  Next = 4,
  CurArmed = 5,
  Live = 6,
  Allocs = 7,
  Frees = 8,
  Faults = 9,
  /** RcuQs of every CPU when `Cur` was armed (MAX_CPUS words). */
  Snap = 16,
}

export const enum NodeWord {
  Magic = 0,
  /** hlist link: byte address of the next node in the bucket, 0 at the end. */
  Next = 1,
  ObjLo = 2,
  ObjHi = 3,
  IdLo = 4,
  IdHi = 5,
  Size = 6,
  /** kfree_rcu() / free list link. */
  RcuNext = 7,
}

export const SHADOW_HASH_BITS = 12;
export const SHADOW_BUCKETS = 1 << SHADOW_HASH_BITS;
export const SHADOW_BUCKETS_OFFSET = 512;
export const SHADOW_CHUNKS_OFFSET = 32 * 1024;
export const SHADOW_CHUNK = 256;
export const SHADOW_HEADER = 32;
export const SHADOW_MAX_DATA = SHADOW_CHUNK - SHADOW_HEADER;
export const SHADOW_MAGIC = 0x5ad0_5ad0;
export const SHADOW_POISON = 0x6b6b6b6b;
/** Faults bit: klp_shadow_free() frees at once instead of through kfree_rcu() (`--inject shadow-free-no-rcu`). */
export const SHADOW_FAULT_FREE_NO_RCU = 1 << 0;

/** Typed access to the area; every word access is atomic (see the table above). */
export class ShadowArea {
  readonly base: number;
  readonly chunks: number;
  private readonly i32: Int32Array;

  constructor(readonly km: KernelMemory) {
    this.base = km.layout.shadowBase;
    this.chunks = Math.floor((km.layout.shadowEnd - this.base - SHADOW_CHUNKS_OFFSET) / SHADOW_CHUNK);
    this.i32 = km.i32;
  }

  ctl(w: number): number {
    return Atomics.load(this.i32, (this.base >>> 2) + w);
  }

  setCtl(w: number, v: number): void {
    Atomics.store(this.i32, (this.base >>> 2) + w, v);
  }

  casCtl(w: number, expected: number, v: number): number {
    return Atomics.compareExchange(this.i32, (this.base >>> 2) + w, expected, v);
  }

  bucketAddr(i: number): number {
    return this.base + SHADOW_BUCKETS_OFFSET + i * 4;
  }

  chunkAddr(i: number): number {
    return this.base + SHADOW_CHUNKS_OFFSET + i * SHADOW_CHUNK;
  }

  /** Is `addr` the start of a chunk? (A link that is not one is corruption.) */
  isChunk(addr: number): boolean {
    const off = addr - this.base - SHADOW_CHUNKS_OFFSET;
    return off >= 0 && off % SHADOW_CHUNK === 0 && off / SHADOW_CHUNK < this.chunks;
  }

  word(addr: number): number {
    return Atomics.load(this.i32, addr >>> 2);
  }

  setWord(addr: number, v: number): void {
    Atomics.store(this.i32, addr >>> 2, v);
  }

  node(addr: number, w: NodeWord): number {
    return this.word(addr + w * 4);
  }

  setNode(addr: number, w: NodeWord, v: number): void {
    this.setWord(addr + w * 4, v);
  }
}
