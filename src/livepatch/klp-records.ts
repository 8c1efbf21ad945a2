/**
 * The parts of struct klp_ops and struct klp_func that klp_ftrace_handler() reads on a CPU, as records in
 * the shared slab (src/kernel/slab.ts), plus the ftrace filter table that maps a patched function's
 * address to its klp_ops (ftrace_set_filter_ip()).
 *
 * Writers and ordering (the coordinator is the only writer; CPUs only read):
 * - func_stack is a singly linked list from ops.head through func.next, newest first, as the kernel's
 *   list_add_rcu() builds it. A func record is fully written before the Atomics.store of the link that
 *   publishes it (rcu_assign_pointer); a CPU reads links with Atomics.load (rcu_dereference).
 * - Removal (list_del_rcu) unlinks with one Atomics.store; the record stays intact until it is freed,
 *   which the coordinator does only after a grace period — or, with a fault injected, too early, which
 *   the handler's link check then reports as a use-after-free.
 * - func.flags (transition, patched, nop) are written with Atomics.store: the handler reads `transition`
 *   after the head link (the smp_rmb() pairing of __klp_enable_patch()).
 */
import type { KernelMemory } from '../mem/kernel-memory';
import { Link, NULL_LINK, Slab, SLAB_HEADER_BYTES } from '../kernel/slab';

export const OPS_MAGIC = 0x4f50534b; // 'KSPO'
export const FUNC_MAGIC = 0x434e554b; // 'KUNC'

export const enum OpsWord {
  OldAddr = 2,
  Head = 3,
}

export const enum FuncWord {
  OldAddr = 2,
  NewAddr = 3,
  Flags = 4,
  Next = 5,
  /** Which patch this func belongs to (an id the coordinator hands out), for events and checks. */
  PatchId = 6,
  NewSize = 7,
  OldSize = 8,
}

export const FUNC_NOP = 1;
export const FUNC_PATCHED = 2;
export const FUNC_TRANSITION = 4;

/** Open-addressing hash table (old_addr -> ops link) at the start of the FTRACE region. */
export const FILTER_SLOTS = 1024;
const TOMBSTONE = -1;

export class KlpRecords {
  readonly slab: Slab;
  private readonly filter32: number;

  constructor(private readonly km: KernelMemory) {
    this.slab = new Slab(km);
    this.filter32 = km.layout.ftraceBase >>> 2;
    if (FILTER_SLOTS * 8 > SLAB_HEADER_BYTES) throw new Error('ftrace filter table does not fit');
  }

  private slot(addr: number): number {
    return ((addr >>> 4) * 2654435761) >>> 22; // Fibonacci hashing into 1024 slots
  }

  /** ftrace_set_filter_ip(): route calls of `addr` to `ops`. Coordinator only. */
  filterAdd(addr: number, ops: Link): void {
    const i32 = this.km.i32;
    for (let n = 0, s = this.slot(addr); n < FILTER_SLOTS; n++, s = (s + 1) % FILTER_SLOTS) {
      const k = Atomics.load(i32, this.filter32 + 2 * s);
      if (k === 0 || k === TOMBSTONE) {
        Atomics.store(i32, this.filter32 + 2 * s + 1, ops);
        Atomics.store(i32, this.filter32 + 2 * s, addr); // publish the key last
        return;
      }
    }
    throw new Error('ftrace filter table full');
  }

  /** Removes the filter entry for `addr` (ftrace_set_filter_ip(..., remove=1)). Coordinator only. */
  filterRemove(addr: number): void {
    const i32 = this.km.i32;
    for (let n = 0, s = this.slot(addr); n < FILTER_SLOTS; n++, s = (s + 1) % FILTER_SLOTS) {
      const k = Atomics.load(i32, this.filter32 + 2 * s);
      if (k === 0) return;
      if (k === addr) {
        Atomics.store(i32, this.filter32 + 2 * s, TOMBSTONE);
        Atomics.store(i32, this.filter32 + 2 * s + 1, NULL_LINK);
        return;
      }
    }
  }

  /** The ops registered for calls of `addr`, or NULL_LINK. Any thread. */
  filterLookup(addr: number): Link {
    const i32 = this.km.i32;
    for (let n = 0, s = this.slot(addr); n < FILTER_SLOTS; n++, s = (s + 1) % FILTER_SLOTS) {
      const k = Atomics.load(i32, this.filter32 + 2 * s);
      if (k === 0) return NULL_LINK;
      if (k === addr) return Atomics.load(i32, this.filter32 + 2 * s + 1);
    }
    return NULL_LINK;
  }
}
