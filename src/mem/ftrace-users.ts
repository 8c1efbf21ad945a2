/**
 * What the CPUs need to know about the ftrace users other than livepatch, at the end of the FTRACE region
 * (host-only; its 16 KiB header holds livepatch's filter table and the consistency table, then the klp
 * slab, which stops FTRACE_USERS_BYTES before the end):
 *
 *   ftraceEnd - FTRACE_USERS_BYTES   SITE USERS: 512 slots (ip, word) — which ftrace_ops' filters match a site
 *                       + 4 KiB      CONTROL: the tracer's switches, the armed kprobes, per-CPU ring heads
 *                       + 8 KiB      the trace ring buffer (128 KiB): one ring of TRACE_RING_ENTRIES entries per CPU
 *
 * Writers and ordering:
 * - SITE USERS and the kprobe table: the coordinator only (ftrace_lock / kprobe_mutex), with Atomics.store;
 *   a slot's mask is stored before its key (publication), and a user's bit is set before the site is poked
 *   to call the trampoline, cleared after it was poked away (then ftrace waits for a grace period before it
 *   frees anything the handler reads). CPUs read with Atomics.load inside the trampoline, which is an
 *   RCU-sched read side (PreemptCount = 1), as ftrace_ops_list_func() walks ftrace_ops_list under
 *   preempt_disable_notrace().
 * - `AllMask`: the users whose filter is empty ("all functions", the function tracer with nothing in
 *   set_ftrace_filter): OR-ed into every site's mask.
 * - `TracingOn` (tracing_on) and the trace events' enables: the coordinator (a tracefs write), Atomics.store.
 * - Each CPU's ring: written only by that CPU (entry words first, then Atomics.store of its head, the count
 *   of entries ever written); read by the coordinator (`cat trace`: load the head, then the entries).
 *   The coordinator resets a ring (`echo > trace`) by storing its `tail` (entries before it are gone)
 *   — it never writes the CPU's head.
 */
import type { KernelMemory } from './kernel-memory';

/** The users of an ftrace site besides livepatch (whose own filter table says which klp_ops). */
export const FTRACE_USER_KLP = 1 << 0;
/** The function tracer's ops (trace_ops of kernel/trace/trace_functions.c): function_trace_call(). */
export const FTRACE_USER_FUNCTION = 1 << 1;
/** kprobe_ftrace_ops (FTRACE_OPS_FL_SAVE_REGS): kprobes without a post_handler. */
export const FTRACE_USER_KPROBE = 1 << 2;
/** kprobe_ipmodify_ops (SAVE_REGS | IPMODIFY): kprobes with a post_handler (5.4; before, every kprobe's). */
export const FTRACE_USER_KPROBE_IPMODIFY = 1 << 3;

export const SITE_USER_SLOTS = 512;
const SITE_USERS_BYTES = SITE_USER_SLOTS * 8;
const CONTROL_BYTES = 4 * 1024;
const TOMBSTONE = -1;

export const enum TraceControl {
  /** tracing_on (1 by default). */
  TracingOn = 0,
  /** The users whose filter matches every function. */
  AllMask = 1,
  /** Kprobes armed on ftrace sites: KPROBE_SLOTS records of KPROBE_WORDS words from KprobeBase. */
  KprobeBase = 16,
  /** Per CPU: the ring's head (entries ever written, by the CPU) and tail (first entry kept, by the coordinator). */
  RingHeads = 512,
  RingTails = 576,
}

export const KPROBE_SLOTS = 32;
export const KPROBE_WORDS = 8;
export const enum KprobeWord {
  /** The probed address (0: a free slot). */
  Addr = 0,
  /** struct kprobe * (0 for a kprobe event of kprobe_events), pre_handler, post_handler. */
  Kp = 1,
  Pre = 2,
  Post = 3,
  /** A kprobe event (trace_kprobe) whose events/kprobes/NAME/enable is 1: its hits go to the ring. */
  TraceEvent = 4,
  /** Hits (kprobe handler runs), Atomics.add by the CPUs: the kprobe_profile's count. */
  Hits = 5,
  /** 1 while disabled (kprobe_disabled(): /sys/kernel/debug/kprobes/enabled is 0). */
  Disabled = 6,
}

/** One trace entry: ts (f64 ns), pid, ip, parent ip, type, kprobe slot, cpu flags — 32 bytes. */
export const TRACE_ENTRY_BYTES = 32;
export const TRACE_RING_ENTRIES = 64;
export const MAX_TRACE_CPUS = 64;
export const TRACE_BUFFER_BYTES = TRACE_ENTRY_BYTES * TRACE_RING_ENTRIES * MAX_TRACE_CPUS;
/** What this file takes at the end of the FTRACE region (the slab stops before it). */
export const FTRACE_USERS_BYTES = SITE_USERS_BYTES + CONTROL_BYTES + TRACE_BUFFER_BYTES;

export const TRACE_TYPE_FN = 1;
export const TRACE_TYPE_KPROBE = 2;

export interface TraceEntry {
  cpu: number;
  ts: number;
  pid: number;
  ip: number;
  parent: number;
  type: number;
  kprobe: number;
}

export class FtraceUsers {
  private readonly sites32: number;
  private readonly ctl32: number;
  private readonly ring: number;

  constructor(private readonly km: KernelMemory) {
    const l = km.layout;
    const base = l.ftraceEnd - FTRACE_USERS_BYTES;
    this.sites32 = base >>> 2;
    this.ctl32 = (base + SITE_USERS_BYTES) >>> 2;
    this.ring = base + SITE_USERS_BYTES + CONTROL_BYTES;
  }

  private slot(addr: number): number {
    return ((addr >>> 4) * 2654435761) >>> 23; // Fibonacci hashing into 512 slots
  }

  ctl(w: number): number {
    return Atomics.load(this.km.i32, this.ctl32 + w);
  }

  setCtl(w: number, v: number): void {
    Atomics.store(this.km.i32, this.ctl32 + w, v);
  }

  addCtl(w: number, v: number): number {
    return Atomics.add(this.km.i32, this.ctl32 + w, v);
  }

  /**
   * The site's word: bits 0-7 the users whose filter names it, bits 8-15 the lone user whose trampoline
   * the site calls (0: none named; then the all-functions users). 0 when the site has no slot.
   */
  siteWord(addr: number): number {
    const i32 = this.km.i32;
    for (let i = 0, s = this.slot(addr); i < SITE_USER_SLOTS; i++, s = (s + 1) % SITE_USER_SLOTS) {
      const k = Atomics.load(i32, this.sites32 + 2 * s);
      if (k === 0) return 0;
      if (k === addr) return Atomics.load(i32, this.sites32 + 2 * s + 1);
    }
    return 0;
  }

  /** ftrace_ops_list_func()'s users of a site: those naming it and the all-functions ones. */
  listUsers(addr: number): number {
    return (this.siteWord(addr) & 0xff) | this.ctl(TraceControl.AllMask);
  }

  /** The user whose own trampoline the site calls (`call ftrace_caller`). */
  ownUser(addr: number): number {
    return (this.siteWord(addr) >> 8) & 0xff || this.ctl(TraceControl.AllMask);
  }

  /** Sets the filtered users of a site (0 removes the slot). Coordinator only. */
  setMask(addr: number, mask: number): void {
    const i32 = this.km.i32;
    let free = -1;
    for (let i = 0, s = this.slot(addr); i < SITE_USER_SLOTS; i++, s = (s + 1) % SITE_USER_SLOTS) {
      const k = Atomics.load(i32, this.sites32 + 2 * s);
      if (k === addr) {
        if (mask === 0) {
          Atomics.store(i32, this.sites32 + 2 * s, TOMBSTONE);
          Atomics.store(i32, this.sites32 + 2 * s + 1, 0);
        } else Atomics.store(i32, this.sites32 + 2 * s + 1, mask);
        return;
      }
      if (k === TOMBSTONE && free < 0) free = s;
      if (k === 0) {
        if (free < 0) free = s;
        break;
      }
    }
    if (mask === 0) return;
    if (free < 0) throw new Error('ftrace site users table full');
    Atomics.store(i32, this.sites32 + 2 * free + 1, mask);
    Atomics.store(i32, this.sites32 + 2 * free, addr); // publish the key last
  }

  private kword(slot: number, w: number): number {
    return this.ctl32 + TraceControl.KprobeBase + slot * KPROBE_WORDS + w;
  }

  kprobe(slot: number, w: KprobeWord): number {
    return Atomics.load(this.km.i32, this.kword(slot, w));
  }

  setKprobe(slot: number, w: KprobeWord, v: number): void {
    Atomics.store(this.km.i32, this.kword(slot, w), v);
  }

  kprobeHit(slot: number): void {
    Atomics.add(this.km.i32, this.kword(slot, KprobeWord.Hits), 1);
  }

  /** The armed kprobe slot at `addr` (get_kprobe()), or -1. */
  kprobeAt(addr: number): number {
    for (let s = 0; s < KPROBE_SLOTS; s++) if (this.kprobe(s, KprobeWord.Addr) === addr) return s;
    return -1;
  }

  /** The address of entry number `n` (entries ever written) of CPU `cpu`'s ring. */
  private entryAt(cpu: number, n: number): number {
    return this.ring + (cpu * TRACE_RING_ENTRIES + (n % TRACE_RING_ENTRIES)) * TRACE_ENTRY_BYTES;
  }

  /** Appends an entry to CPU `cpu`'s ring (that CPU only). */
  write(cpu: number, ts: number, pid: number, ip: number, parent: number, type: number, kprobe: number): void {
    const i32 = this.km.i32;
    const head = Atomics.load(i32, this.ctl32 + TraceControl.RingHeads + cpu);
    const at = this.entryAt(cpu, head);
    this.km.f64[at >>> 3] = ts;
    const w = (at >>> 2) + 2;
    i32[w] = pid;
    i32[w + 1] = ip;
    i32[w + 2] = parent;
    i32[w + 3] = type;
    i32[w + 4] = kprobe;
    Atomics.store(i32, this.ctl32 + TraceControl.RingHeads + cpu, head + 1);
  }

  /**
   * The entries kept in CPU `cpu`'s ring, oldest first, and how many were ever written since the last
   * reset (entries-written). Coordinator only.
   */
  read(cpu: number): { entries: TraceEntry[]; written: number } {
    const i32 = this.km.i32;
    const head = Atomics.load(i32, this.ctl32 + TraceControl.RingHeads + cpu);
    const tail = Atomics.load(i32, this.ctl32 + TraceControl.RingTails + cpu);
    const first = Math.max(tail, head - TRACE_RING_ENTRIES);
    const entries: TraceEntry[] = [];
    for (let n = first; n < head; n++) {
      const at = this.entryAt(cpu, n);
      const w = (at >>> 2) + 2;
      entries.push({
        cpu,
        ts: this.km.f64[at >>> 3],
        pid: i32[w],
        ip: i32[w + 1],
        parent: i32[w + 2],
        type: i32[w + 3],
        kprobe: i32[w + 4],
      });
    }
    return { entries, written: head - tail };
  }

  /** tracing_reset_online_cpus(): `echo > trace`. Coordinator only. */
  reset(cpu: number): void {
    const head = Atomics.load(this.km.i32, this.ctl32 + TraceControl.RingHeads + cpu);
    Atomics.store(this.km.i32, this.ctl32 + TraceControl.RingTails + cpu, head);
  }
}
