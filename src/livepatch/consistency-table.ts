/**
 * The consistency checker's table: for each function the latest transition changes, the code of its two
 * versions — the transition patch's side (its new_func, or the original code for a NOP) and the side
 * without it (the next func_stack entry's version, or the original code). The livepatch consistency model
 * promises that no task ever runs both sides in one call chain; klp_ftrace_handler() checks that on every
 * redirect decision (consistency-check.ts).
 *
 * The table is published when a transition starts and stays until the next one starts: a task that was
 * switched wrongly (skip-stack-check) may still be running the old side well after "patching complete",
 * and that is exactly when it mixes versions. Module text is never reused (loader.ts), so an entry never
 * describes someone else's code.
 *
 * Memory: FTRACE region, after the ftrace filter table, inside the slab header. Single writer: the
 * coordinator, as a seqlock — Atomics.add makes `seq` odd, the entries are written, then Atomics.add makes
 * it even again. A CPU reads `seq`, the entries, and `seq` again (all Atomics.load); if `seq` was odd or
 * changed, the snapshot is discarded and that call goes unchecked (never a false report from a torn read).
 */
import type { KernelMemory } from '../mem/kernel-memory';
import type { KlpFunc, KlpPatch } from './klp-types';

/** Byte offset in the FTRACE region (the filter table takes the first 8 KiB). */
const TABLE_OFFSET = 8 * 1024;
const enum Header {
  Seq = 0,
  Count = 1,
  PatchId = 2,
  Words = 4,
}
const ENTRY_WORDS = 6;
export const CONSISTENCY_MAX_ENTRIES = 320;

/** Which version of a function a piece of code is. */
export const enum Side {
  /** The transition patch's version (new_func, or the original code for its NOP). */
  Patch = 1,
  /** The version the function has without that patch. */
  Without = 2,
}

export interface ConsistencyEntry {
  oldFunc: number;
  patch: [number, number];
  without: [number, number];
}

export interface ConsistencySnapshot {
  seq: number;
  patchId: number;
  byOldFunc: Map<number, ConsistencyEntry>;
  entries: ConsistencyEntry[];
}

export class ConsistencyTable {
  private readonly base32: number;
  private cached: ConsistencySnapshot | null = null;

  constructor(private readonly km: KernelMemory) {
    this.base32 = (km.layout.ftraceBase + TABLE_OFFSET) >>> 2;
  }

  /** Coordinator only: replaces the table. */
  publish(patchId: number, entries: ConsistencyEntry[]): void {
    const i32 = this.km.i32;
    const b = this.base32;
    Atomics.add(i32, b + Header.Seq, 1);
    const n = Math.min(entries.length, CONSISTENCY_MAX_ENTRIES);
    Atomics.store(i32, b + Header.PatchId, patchId);
    for (let i = 0; i < n; i++) {
      const e = entries[i];
      const w = b + Header.Words + i * ENTRY_WORDS;
      Atomics.store(i32, w, e.oldFunc);
      Atomics.store(i32, w + 1, e.patch[0]);
      Atomics.store(i32, w + 2, e.patch[1]);
      Atomics.store(i32, w + 3, e.without[0]);
      Atomics.store(i32, w + 4, e.without[1]);
    }
    Atomics.store(i32, b + Header.Count, n);
    Atomics.add(i32, b + Header.Seq, 1);
  }

  /** Any thread: the current table, or null while it is being rewritten. Cached per `seq`. */
  snapshot(): ConsistencySnapshot | null {
    const i32 = this.km.i32;
    const b = this.base32;
    const seq = Atomics.load(i32, b + Header.Seq);
    if (this.cached && this.cached.seq === seq) return this.cached;
    if (seq & 1) return null;
    const n = Atomics.load(i32, b + Header.Count);
    const patchId = Atomics.load(i32, b + Header.PatchId);
    const entries: ConsistencyEntry[] = [];
    for (let i = 0; i < n && i < CONSISTENCY_MAX_ENTRIES; i++) {
      const w = b + Header.Words + i * ENTRY_WORDS;
      entries.push({
        oldFunc: Atomics.load(i32, w),
        patch: [Atomics.load(i32, w + 1), Atomics.load(i32, w + 2)],
        without: [Atomics.load(i32, w + 3), Atomics.load(i32, w + 4)],
      });
    }
    if (Atomics.load(i32, b + Header.Seq) !== seq) return null;
    this.cached = { seq, patchId, entries, byOldFunc: new Map(entries.map((e) => [e.oldFunc, e])) };
    return this.cached;
  }
}

/** Which side of `e` the code at `addr` belongs to, or 0. */
export function sideOf(e: ConsistencyEntry, addr: number): Side | 0 {
  if (addr >= e.patch[0] && addr < e.patch[1]) return Side.Patch;
  if (addr >= e.without[0] && addr < e.without[1]) return Side.Without;
  return 0;
}

const versionOf = (f: KlpFunc): [number, number] => (f.nop ? [f.old_func, f.old_func + f.old_size] : [f.new_func, f.new_func + f.new_size]);

/**
 * Publishes the two versions of every function the transition patch changes, from the func_stacks as
 * they stand once its objects are patched (klp_start_transition()). Coordinator only.
 */
export function klpPublishConsistency(
  table: ConsistencyTable,
  patch: KlpPatch | null,
  ops: ReadonlyMap<number, { readonly func_stack: readonly KlpFunc[] }>,
): void {
  if (!patch) return;
  const entries: ConsistencyEntry[] = [];
  for (const obj of patch.objs) {
    if (!obj.patched) continue;
    for (const func of obj.funcs) {
      if (!func.old_func) continue;
      const stack = ops.get(func.old_func)?.func_stack ?? [];
      const i = stack.indexOf(func);
      const below = i < 0 ? stack[0] : stack[i + 1];
      const without: [number, number] = below ? versionOf(below) : [func.old_func, func.old_func + func.old_size];
      const mine = versionOf(func);
      // Two NOPs over each other (possible without NOP removal) leave both sides the original code.
      if (mine[0] === without[0]) continue;
      entries.push({ oldFunc: func.old_func, patch: mine, without });
    }
  }
  table.publish(patch.id, entries);
}
