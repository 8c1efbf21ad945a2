/**
 * Shadow variables (kernel/livepatch/shadow.c), the kernel services emulated code calls:
 *   void *klp_shadow_get(void *obj, unsigned long id);
 *   void *klp_shadow_alloc(void *obj, unsigned long id, size_t size, gfp_t gfp, ctor, void *ctor_data);
 *   void *klp_shadow_get_or_alloc(void *obj, unsigned long id, size_t size, gfp_t gfp, ctor, void *ctor_data);
 *   void klp_shadow_free(void *obj, unsigned long id, dtor);
 *   void klp_shadow_free_all(unsigned long id, dtor);
 * with `int ctor(void *obj, void *shadow_data, void *ctor_data)` and `void dtor(void *obj, void *shadow_data)`.
 *
 * They run on the calling CPU, against the hash table in shared memory (src/mem/shadow-layout.ts): a
 * lookup walks a bucket lock-free inside an RCU-sched read-side section (PreemptCount, as rcu.ts's grace
 * periods see it); allocation and freeing take klp_shadow_lock, a CAS spinlock. As in shadow.c, the
 * constructor runs under the lock, only for a variable that did not exist (a second look under the lock),
 * and the destructor runs under it after the record left the hash; freed records wait for a grace period
 * (kfree_rcu()) before their chunk is poisoned and reused. A service never holds the lock across a slice
 * boundary: the callbacks run to completion inside it (CpuHost.callNested()), so in lockstep mode the lock
 * is never contended and on worker threads a waiter spins for at most one callback.
 *
 * Events: `shadow.alloc` { obj, id, size, data } when a variable is attached, `shadow.free` { obj, id,
 * data, dtor } when one leaves the hash (obj and id as 0x-hex strings: they are unsigned longs).
 */
import type { CpuHost } from '../kernel/cpu-host';
import type { ServiceName } from '../kernel/services';
import { cpuGone, PcpuField, PercpuView } from '../mem/percpu';
import {
  NodeWord,
  SHADOW_BUCKETS,
  SHADOW_CHUNK,
  SHADOW_FAULT_FREE_NO_RCU,
  SHADOW_HASH_BITS,
  SHADOW_HEADER,
  SHADOW_MAGIC,
  SHADOW_MAX_DATA,
  SHADOW_POISON,
  ShadowArea,
  ShadowWord,
} from '../mem/shadow-layout';

/** include/linux/hash.h: GOLDEN_RATIO_64. */
const GOLDEN_RATIO_64 = 0x61c8864680b583ebn;
/** Simulated instructions a lookup or an update costs (hashing, the walk, the lock). */
const LOOKUP_COST = 20;
const UPDATE_COST = 60;
/** Spins on a held klp_shadow_lock before the CPU reports a lockup (a worker thread that never releases it). */
const MAX_SPINS = 50_000_000;

const hex = (v: bigint): string => `0x${v.toString(16)}`;
const lo = (v: bigint): number => Number(v & 0xffffffffn) | 0;
const hi = (v: bigint): number => Number((v >> 32n) & 0xffffffffn) | 0;
const u64 = (l: number, h: number): bigint => (BigInt(h >>> 0) << 32n) | BigInt(l >>> 0);
/** vsprintf's %p in klpsim: the address, unhashed, 16 hex digits. */
const ptr = (v: bigint): string => BigInt.asUintN(64, v).toString(16).padStart(16, '0');

/** hash_min(key, 12) of hash_for_each_possible(): hash_64(key, 12) on a 64-bit kernel. */
export function shadowBucket(obj: bigint): number {
  return Number((BigInt.asUintN(64, obj * GOLDEN_RATIO_64) >> BigInt(64 - SHADOW_HASH_BITS)) & BigInt(SHADOW_BUCKETS - 1));
}

export class KlpShadow {
  private readonly area: ShadowArea;
  private readonly pcpus: PercpuView[];
  /** One report per node and CPU: a reader that keeps meeting it would flood the stream. */
  private readonly reported = new Set<number>();

  constructor(private readonly host: CpuHost) {
    this.area = new ShadowArea(host.km);
    this.pcpus = Array.from({ length: host.km.layout.config.cpus }, (_, i) => new PercpuView(host.km, i));
  }

  /** CpuHooks.service: serves one of shadow.c's functions for the current task. */
  serve(name: ServiceName): boolean {
    const h = this.host;
    const a = (i: number): bigint => h.serviceArg(i);
    switch (name) {
      case 'klp_shadow_get':
        h.serviceReturn(this.get(a(0), a(1)));
        return true;
      case 'klp_shadow_alloc':
      case 'klp_shadow_get_or_alloc': {
        const r = this.getOrAlloc(a(0), a(1), a(2), a(4), a(5), name === 'klp_shadow_alloc');
        if (r !== null) h.serviceReturn(r);
        return true;
      }
      case 'klp_shadow_free':
        if (this.free(a(0), a(1), a(2))) h.serviceReturn(0);
        return true;
      case 'klp_shadow_free_all':
        if (this.freeAll(a(0), a(1))) h.serviceReturn(0);
        return true;
      default:
        return false;
    }
  }

  /** klp_shadow_get(): the data of <obj, id>, or 0; lock-free, under rcu_read_lock(). */
  get(obj: bigint, id: bigint): bigint {
    this.host.charge(LOOKUP_COST);
    const pc = this.host.pcpu;
    const outer = pc.get(PcpuField.PreemptCount);
    pc.set(PcpuField.PreemptCount, 1); // rcu_read_lock() (RCU-sched: preemption off)
    try {
      const node = this.find(obj, id);
      return node ? BigInt(node + SHADOW_HEADER) : 0n;
    } finally {
      pc.set(PcpuField.PreemptCount, outer);
    }
  }

  /** hash_for_each_possible_rcu() + klp_shadow_match(): the node's address, or 0. */
  private find(obj: bigint, id: bigint): number {
    const A = this.area;
    let node = A.word(A.bucketAddr(shadowBucket(obj)));
    let steps = 0;
    while (node !== 0) {
      if (!A.isChunk(node) || steps++ > A.chunks) {
        this.corrupt(node, `a bucket of klp_shadow_hash links to 0x${(node >>> 0).toString(16)}, not a shadow variable`);
        return 0;
      }
      const magic = A.node(node, NodeWord.Magic);
      if (magic !== SHADOW_MAGIC) {
        this.corrupt(
          node,
          `klp_shadow_get() on CPU ${this.host.cpu} read a freed shadow variable at 0x${node.toString(16)} (magic 0x${(magic >>> 0).toString(16)})`,
        );
        return 0;
      }
      if (
        u64(A.node(node, NodeWord.ObjLo), A.node(node, NodeWord.ObjHi)) === obj &&
        u64(A.node(node, NodeWord.IdLo), A.node(node, NodeWord.IdHi)) === id
      )
        return node;
      node = A.node(node, NodeWord.Next);
    }
    return 0;
  }

  private corrupt(node: number, message: string): void {
    if (this.reported.has(node)) return;
    this.reported.add(node);
    this.host.violation('use-after-free', message, node);
  }

  /** spin_lock_irqsave(&klp_shadow_lock): false when this CPU already holds it (a callback re-entered). */
  private lock(): boolean {
    const me = this.host.cpu + 1;
    for (let spins = 0; ; spins++) {
      const was = this.area.casCtl(ShadowWord.Lock, 0, me);
      if (was === 0) return true;
      if (was === me || spins > MAX_SPINS) {
        this.host.violation(
          'shadow-lock',
          was === me
            ? `CPU ${this.host.cpu}: klp_shadow_lock taken again by a shadow callback (recursive locking: the kernel would deadlock)`
            : `CPU ${this.host.cpu}: klp_shadow_lock held by CPU ${was - 1} for ${MAX_SPINS} spins`,
        );
        return false;
      }
    }
  }

  private unlock(): void {
    this.area.setCtl(ShadowWord.Lock, 0);
  }

  /**
   * __klp_shadow_get_or_alloc(): an existing variable (or, with warnOnExist, the kernel's WARN and NULL);
   * else a new zeroed one, built by `ctor` under the lock and then attached. null: the task died in ctor.
   */
  getOrAlloc(obj: bigint, id: bigint, size: bigint, ctor: bigint, ctorData: bigint, warnOnExist: boolean): bigint | null {
    const h = this.host;
    let data = this.get(obj, id);
    if (data === 0n) {
      if (!this.lock()) return 0n;
      h.charge(UPDATE_COST);
      const existing = this.find(obj, id);
      if (existing) {
        this.unlock();
        data = BigInt(existing + SHADOW_HEADER);
      } else {
        const node = size > BigInt(SHADOW_MAX_DATA) ? 0 : this.allocChunk();
        if (node === 0) {
          this.unlock();
          return 0n; // kzalloc() failed
        }
        const A = this.area;
        A.setNode(node, NodeWord.ObjLo, lo(obj));
        A.setNode(node, NodeWord.ObjHi, hi(obj));
        A.setNode(node, NodeWord.IdLo, lo(id));
        A.setNode(node, NodeWord.IdHi, hi(id));
        A.setNode(node, NodeWord.Size, Number(size));
        const nodeData = BigInt(node + SHADOW_HEADER);
        if (ctor !== 0n) {
          const ret = h.callNested(Number(ctor), [obj, nodeData, ctorData]);
          if (ret === null) {
            this.releaseChunk(node);
            this.unlock();
            return null;
          }
          const err = Number(BigInt.asIntN(32, ret));
          if (err) {
            this.releaseChunk(node);
            this.unlock();
            h.printk(`livepatch: Failed to construct shadow variable <${ptr(obj)}, ${id.toString(16)}> (${err})\n`);
            return 0n;
          }
        }
        // hash_add_rcu(): the record is complete before the one store that makes it reachable.
        const bucket = A.bucketAddr(shadowBucket(obj));
        A.setNode(node, NodeWord.Next, A.word(bucket));
        A.setNode(node, NodeWord.Magic, SHADOW_MAGIC);
        A.setWord(bucket, node);
        A.setCtl(ShadowWord.Live, A.ctl(ShadowWord.Live) + 1);
        A.setCtl(ShadowWord.Allocs, A.ctl(ShadowWord.Allocs) + 1);
        this.unlock();
        h.emit({
          type: 'shadow.alloc',
          obj: hex(BigInt.asUintN(64, obj)),
          id: hex(BigInt.asUintN(64, id)),
          size: Number(size),
          data: node + SHADOW_HEADER,
        });
        return nodeData;
      }
    }
    if (warnOnExist) {
      // WARN(1, …): the message after the cut-here line (the register dump and call trace are not printed).
      h.printk('------------[ cut here ]------------\n');
      h.printk(`Duplicate shadow variable <${ptr(obj)}, ${id.toString(16)}>\n`);
      return 0n;
    }
    return data;
  }

  /** klp_shadow_free(): <obj, id> leaves the hash; dtor, then kfree_rcu(). false: the task died in dtor. */
  free(obj: bigint, id: bigint, dtor: bigint): boolean {
    if (!this.lock()) return true;
    this.host.charge(UPDATE_COST);
    let alive = true;
    const node = this.find(obj, id);
    if (node) alive = this.freeStruct(node, dtor);
    this.unlock();
    return alive;
  }

  /** klp_shadow_free_all(): every <*, id>. */
  freeAll(id: bigint, dtor: bigint): boolean {
    if (!this.lock()) return true;
    this.host.charge(UPDATE_COST);
    const A = this.area;
    let alive = true;
    for (let b = 0; b < SHADOW_BUCKETS && alive; b++) {
      let node = A.word(A.bucketAddr(b));
      while (node !== 0 && alive) {
        const next = A.node(node, NodeWord.Next);
        if (A.node(node, NodeWord.Magic) === SHADOW_MAGIC && u64(A.node(node, NodeWord.IdLo), A.node(node, NodeWord.IdHi)) === id)
          alive = this.freeStruct(node, dtor);
        node = next;
      }
    }
    this.unlock();
    return alive;
  }

  /** klp_shadow_free_struct(), under the lock: hash_del_rcu(), dtor(obj, data), kfree_rcu(). */
  private freeStruct(node: number, dtor: bigint): boolean {
    const A = this.area;
    const obj = u64(A.node(node, NodeWord.ObjLo), A.node(node, NodeWord.ObjHi));
    const id = u64(A.node(node, NodeWord.IdLo), A.node(node, NodeWord.IdHi));
    // hash_del_rcu(): the predecessor skips the node; the node keeps its own link for readers on it.
    const bucket = A.bucketAddr(shadowBucket(obj));
    let link = bucket;
    for (let cur = A.word(bucket); cur !== 0 && cur !== node; cur = A.node(cur, NodeWord.Next)) link = cur + NodeWord.Next * 4;
    A.setWord(link, A.node(node, NodeWord.Next));
    A.setCtl(ShadowWord.Live, A.ctl(ShadowWord.Live) - 1);
    A.setCtl(ShadowWord.Frees, A.ctl(ShadowWord.Frees) + 1);
    this.host.emit({ type: 'shadow.free', obj: hex(obj), id: hex(id), data: node + SHADOW_HEADER, dtor: dtor !== 0n });
    let alive = true;
    if (dtor !== 0n) alive = this.host.callNested(Number(dtor), [obj, BigInt(node + SHADOW_HEADER)]) !== null;
    if (A.ctl(ShadowWord.Faults) & SHADOW_FAULT_FREE_NO_RCU) this.releaseChunk(node);
    else {
      A.setNode(node, NodeWord.RcuNext, A.ctl(ShadowWord.Next));
      A.setCtl(ShadowWord.Next, node);
    }
    return alive;
  }

  /** kzalloc() of a record, under the lock: a reclaimed chunk, else a never-used one; 0 when full. */
  private allocChunk(): number {
    const A = this.area;
    this.reclaim();
    let node = A.ctl(ShadowWord.Free);
    if (node !== 0) A.setCtl(ShadowWord.Free, A.node(node, NodeWord.RcuNext));
    else {
      const i = A.ctl(ShadowWord.Bump);
      if (i >= A.chunks) return 0;
      A.setCtl(ShadowWord.Bump, i + 1);
      node = A.chunkAddr(i);
    }
    this.host.km.u8.fill(0, node, node + SHADOW_CHUNK);
    return node;
  }

  /** kfree(): the chunk is poisoned (slub_debug) and goes back to the free list. */
  private releaseChunk(node: number): void {
    const A = this.area;
    for (let w = 0; w < SHADOW_CHUNK / 4; w++) A.setWord(node + w * 4, SHADOW_POISON);
    A.setNode(node, NodeWord.RcuNext, A.ctl(ShadowWord.Free));
    A.setCtl(ShadowWord.Free, node);
  }

  /** The RCU callbacks whose grace period is over run (see shadow-layout.ts); then the next batch is armed. */
  private reclaim(): void {
    const A = this.area;
    if (A.ctl(ShadowWord.CurArmed) && this.gracePeriodOver()) {
      for (let node = A.ctl(ShadowWord.Cur); node !== 0;) {
        const next = A.node(node, NodeWord.RcuNext);
        this.releaseChunk(node);
        node = next;
      }
      A.setCtl(ShadowWord.Cur, 0);
      A.setCtl(ShadowWord.CurArmed, 0);
    }
    if (!A.ctl(ShadowWord.CurArmed) && A.ctl(ShadowWord.Next) !== 0) {
      A.setCtl(ShadowWord.Cur, A.ctl(ShadowWord.Next));
      A.setCtl(ShadowWord.Next, 0);
      this.pcpus.forEach((p, i) => A.setCtl(ShadowWord.Snap + i, p.get(PcpuField.RcuQs)));
      A.setCtl(ShadowWord.CurArmed, 1);
    }
  }

  /** Every other CPU has been seen outside a read-side section since the batch was armed. */
  private gracePeriodOver(): boolean {
    const A = this.area;
    return this.pcpus.every(
      (p, i) =>
        i === this.host.cpu ||
        p.get(PcpuField.PreemptCount) === 0 ||
        p.get(PcpuField.RcuQs) !== A.ctl(ShadowWord.Snap + i) ||
        cpuGone(p.get(PcpuField.Mode)),
    );
  }
}
