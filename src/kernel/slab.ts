/**
 * A slab of fixed-size records in the FTRACE region of kmem, for the structures that CPUs read while the
 * coordinator changes them (klp_ops, klp_func). Like the kernel with slub_debug=P, a freed record is
 * poisoned (every word 0x6b6b6b6b, POISON_FREE) and its generation bumped; links between records carry the
 * generation they were made with. So a CPU that follows a link to a record that has been freed — or freed
 * and reused — sees it at once: that is how use-after-free is caught rather than silently tolerated.
 *
 * Only the coordinator allocates and frees (it is the single writer of record headers). Fresh records are
 * handed out before any freed one is reused (then first-in first-out), which keeps a freed record
 * poisoned for as long as possible.
 *
 * Record layout (RECORD_WORDS Int32 words): [0] magic (a type tag while live, POISON when free),
 * [1] generation, [2..] payload, defined by the record type (src/livepatch/klp-records.ts).
 */
import type { KernelMemory } from '../mem/kernel-memory';
import { FTRACE_USERS_BYTES } from '../mem/ftrace-users';

export const RECORD_WORDS = 16;
export const RECORD_BYTES = RECORD_WORDS * 4;
export const POISON = 0x6b6b6b6b;
/** Bytes at the start of the FTRACE region before the records (the ftrace site hash table lives there). */
export const SLAB_HEADER_BYTES = 16 * 1024;
const GEN_MASK = 0x7fff;

/** Records that fit in an FTRACE region of `bytes`: after the header, before the other ftrace users' tables (mem/ftrace-users.ts). */
export const slabCapacity = (bytes: number): number =>
  Math.min(0xffff, Math.floor((bytes - SLAB_HEADER_BYTES - FTRACE_USERS_BYTES) / RECORD_BYTES));

export const enum RecordWord {
  Magic = 0,
  Gen = 1,
}

/** A link to a record: (generation << 16) | index. 0 is NULL (record 0 is never handed out). */
export type Link = number;
export const NULL_LINK = 0;
export const linkIndex = (l: Link): number => l & 0xffff;
export const linkGen = (l: Link): number => (l >>> 16) & GEN_MASK;

export class Slab {
  private readonly base32: number;
  readonly capacity: number;
  private readonly free: number[] = [];
  private next = 1;
  allocated = 0;

  constructor(private readonly km: KernelMemory) {
    const l = km.layout;
    this.base32 = (l.ftraceBase + SLAB_HEADER_BYTES) >>> 2;
    this.capacity = slabCapacity(l.ftraceEnd - l.ftraceBase);
  }

  /** Int32 index of word `w` of record `index`. */
  word(index: number, w: number): number {
    return this.base32 + index * RECORD_WORDS + w;
  }

  /** Allocates a zeroed record tagged `magic`; returns a link to it. Coordinator only. */
  alloc(magic: number): Link {
    let index: number;
    if (this.next < this.capacity) index = this.next++;
    else if (this.free.length > 0) index = this.free.shift() as number;
    else throw new Error('klp slab exhausted');
    const i32 = this.km.i32;
    const gen = (Atomics.load(i32, this.word(index, RecordWord.Gen)) + 1) & GEN_MASK || 1;
    for (let w = 2; w < RECORD_WORDS; w++) Atomics.store(i32, this.word(index, w), 0);
    Atomics.store(i32, this.word(index, RecordWord.Gen), gen);
    // The magic is stored last: a record becomes live only once its payload is initialised.
    Atomics.store(i32, this.word(index, RecordWord.Magic), magic);
    this.allocated++;
    return (gen << 16) | index;
  }

  /** kfree() with poisoning. Coordinator only; the caller has made sure no CPU can still reach it. */
  release(link: Link): void {
    const index = linkIndex(link);
    const i32 = this.km.i32;
    Atomics.store(i32, this.word(index, RecordWord.Magic), POISON);
    Atomics.store(i32, this.word(index, RecordWord.Gen), (linkGen(link) + 1) & GEN_MASK || 1);
    for (let w = 2; w < RECORD_WORDS; w++) Atomics.store(i32, this.word(index, w), POISON);
    this.free.push(index);
    this.allocated--;
  }

  /**
   * Checks a link before it is followed (any thread): the record must be live with the expected tag and
   * still have the link's generation. Returns null when it is fine, or what is wrong.
   */
  check(link: Link, magic: number): string | null {
    const index = linkIndex(link);
    const i32 = this.km.i32;
    const m = Atomics.load(i32, this.word(index, RecordWord.Magic));
    const g = Atomics.load(i32, this.word(index, RecordWord.Gen));
    if (m === POISON) return `record ${index} was freed (poisoned)`;
    if (g !== linkGen(link)) return `record ${index} was freed and reused (generation ${g}, link has ${linkGen(link)})`;
    if (m !== magic) return `record ${index} has type 0x${(m >>> 0).toString(16)}, expected 0x${(magic >>> 0).toString(16)}`;
    return null;
  }

  get(link: Link, w: number): number {
    return Atomics.load(this.km.i32, this.word(linkIndex(link), w));
  }

  set(link: Link, w: number, v: number): void {
    Atomics.store(this.km.i32, this.word(linkIndex(link), w), v);
  }
}
