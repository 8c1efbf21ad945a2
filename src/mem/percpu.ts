/**
 * Per-CPU areas and the global control block (PERCPU region), as Int32 words plus Int64 clocks.
 *
 * Every word here is accessed with Atomics, because each is a synchronisation point between threads:
 * - `syncReq`/`syncAck`: the sync-core IPI. The poker (coordinator) does Atomics.add on the target's
 *   `syncReq` and wakes the CPU's thread (SimClock.wakeCpu(): its group's `Wake` word); the
 *   CPU, at an instruction boundary, flushes its decoded-instruction cache and then Atomics.store's
 *   `syncAck = syncReq`, and bumps GlobalField.ClockEpoch in turn to wake the poker. The store-after-flush is what lets the poker know
 *   no stale decode of the patched bytes survives on that CPU (the "serialising instruction" of x86).
 * - `reschedReq`/`reschedAck`: the reschedule IPI, the same handshake without the flush (see the fields).
 * - `rcuQs`: incremented (Atomics.add) by the CPU at each quiescent state (context switch, idle, leaving
 *   the ftrace handler's preempt-disabled section); synchronize_rcu() snapshots it and waits for a change
 *   or for `preemptCount` to be seen 0 (src/kernel/rcu.ts).
 * - `eventsPosted`: event batches the CPU has posted; counted before the horizon they belong to moves.
 * - `clock`/`horizon` (Int64): the CPU's simulated time and how far it has committed not to go below; see
 *   src/kernel/sim-clock.ts.
 * - `heartbeat`/`lastRip`: written by the CPU between slices, read by whoever watches for hangs.
 * - `checks*`: invariant-check counters, written by the CPU between slices, summed by the stress runner.
 */
import { PERCPU_SIZE } from './layout';
import type { KernelMemory } from './kernel-memory';
import { AtomicWords } from './atomic-words';

export const enum PcpuField {
  CpuId = 0,
  /** pid of the task running on this CPU, 0 when idle. */
  Current = 1,
  SyncReq = 2,
  SyncAck = 3,
  Heartbeat = 4,
  LastRip = 5,
  Mode = 6,
  RcuQs = 7,
  /** preempt_count: non-zero while inside the ftrace handler's RCU-sched read side. */
  PreemptCount = 8,
  /**
   * The reschedule IPI (smp_send_reschedule(), as wake_up_if_idle() sends it): the same handshake as
   * `syncReq`/`syncAck`, without the cache flush. An idle CPU answers by going once around its idle loop
   * (where the idle task takes its new patch_state) before it acknowledges.
   */
  ReschedReq = 9,
  ReschedAck = 10,
  /** The idle task's (swapper/N) patch_state and TIF flags: it switches in the idle loop. */
  IdlePatchState = 11,
  IdleFlags = 12,
  /** Event batches this CPU has posted to the coordinator (Atomics.add before the horizon moves). */
  EventsPosted = 13,
  /** Int64 at words 16-17. */
  Clock = 16,
  /** Int64 at words 18-19. */
  Horizon = 18,
  /** Int64 at words 20-21: instructions retired. */
  Retired = 20,
  /**
   * How many times this CPU ran each invariant check (the stress summary's "checks run"): ftrace site
   * fetches checked for torn/stale bytes, klp records checked for use-after-free, calls checked for
   * consistency. Plain counters of the CPU, published with Atomics.store at slice boundaries.
   */
  ChecksSite = 22,
  ChecksRecord = 23,
  ChecksConsistency = 24,
  /**
   * The cross-thread wake protocol (src/kernel/sim-clock.ts), used in the word of a CPU group's leader
   * (its lowest CPU): `Wake` is the word the group's thread sleeps on (Atomics.add + notify by whoever
   * wakes it); `WaitFor` (Int64 at words 30-31) is the horizon the group waits for, NO_WAIT when none.
   */
  Wake = 28,
  /** In a group leader's area: the CPU its thread is working on (the watchdog names it on a hang). */
  Active = 29,
  WaitFor = 30,
  /**
   * In a group leader's area (Int64 at words 32-33): the group's horizon, the least of its CPUs' horizons
   * (a lower bound of them at every moment: lowered before any of them is, raised after). Other groups
   * read it instead of each CPU's word, and wakes are sent when it crosses a waiter (sim-clock.ts).
   */
  GroupHorizon = 32,
  /**
   * In a group leader's area: 1 while the thread holds events it has not posted yet (set when its batch
   * gets its first event, cleared after the post is counted in EventsPosted). The coordinator's
   * drainEvents() asks for such a batch with GlobalField.FlushReq.
   */
  EventsBuffered = 34,
  /** In a group leader's area: the last GlobalField.FlushReq the thread answered (stored after the post). */
  FlushAck = 35,
}

export const enum CpuMode {
  Offline = 0,
  Running = 1,
  Idle = 2,
  Stopped = 3,
  Crashed = 4,
}

/** The CPU's thread has stopped or died: it acknowledges nothing and holds up nobody any more. */
export const cpuGone = (mode: number): boolean => mode === CpuMode.Stopped || mode === CpuMode.Crashed;

/** Word indices in the global control block (the slot before CPU 0). */
export const enum GlobalField {
  /** Set to 1 to stop every CPU (simulation end). */
  StopAll = 0,
  /** text_poke_bp descriptor, valid while PokeActive = 1: address and the 5 intended bytes. */
  PokeActive = 1,
  PokeAddr = 2,
  PokeLen = 3,
  /** Bytes 16..31 of the block hold the intended instruction (PokeBytes offset in bytes). */
  /** Int64 at words 8-9: the coordinator's clock horizon. */
  CoordHorizon = 8,
  /** Count of violations detected anywhere (Atomics.add). */
  Violations = 10,
  /**
   * A debug switch for testing hang and crash detection (never set in normal runs): (cpu + 1) | kind << 8,
   * kind 1 = that CPU's thread spins forever in JS, kind 2 = it throws. Read by the CPU between slices.
   */
  DebugCpuFault = 11,
  /**
   * The coordinator's wake word: bumped (Atomics.add + notify) by a CPU that acknowledges an IPI, posts a
   * task request, crosses CoordWaitFor or finds CoordParked set, and by SimClock.bumpEpoch() (everyone).
   */
  ClockEpoch = 12,
  /** klp_target_state: written by the coordinator before TIF_PATCH_PENDING is set (see transition.ts). */
  KlpTargetState = 13,
  /** The kernel's tainted_mask (kernel/taint.ts): bits set with Atomics.or, never cleared. */
  Taint = 14,
  /** die_counter: the oops number `[#N]`, counted across CPUs as the kernel's one counter is. */
  DieCounter = 15,
  /**
   * (Words 16-19 are the poke bytes, POKE_BYTES_OFFSET.) Task requests posted (Atomics.add by a CPU after
   * it stored REQ_POSTED in the task struct): the coordinator scans the task structs only when this moved
   * since its last look.
   */
  TaskRequests = 20,
  /**
   * The injected faults the CPUs' livepatch code acts on (bits, livepatch/klp-state.ts), written by the
   * coordinator before any task runs.
   */
  KlpCpuFaults = 21,
  /** Version-dependent kernel behaviour the CPUs follow (KERNEL_FEATURE_* bits), written before any task runs. */
  KernelFeatures = 22,
  /**
   * Event types nobody listens to (EVENTS_OFF_* bits): a CPU does not build, post or number them, as a
   * kernel tracepoint that is not enabled costs one static branch. Written by the coordinator, read by
   * every CPU at the event's site (Atomics.load; nothing is ordered by it: an event emitted or left out
   * around a change is still a well-formed stream).
   */
  EventsOff = 23,
  /**
   * The kernel release (major << 8 | minor, src/kernel/kernel-version.ts), written once before any CPU
   * starts, read by CPUs for what they print (the oops header). Word 24: words 16-19 hold the poke bytes.
   */
  KernelVersion = 24,
  /**
   * The wake protocol's coordinator side (src/kernel/sim-clock.ts): CPU threads (groups, 0 in lockstep)
   * as the coordinator set it up; CoordParked = 1 while the coordinator sleeps waiting on the CPUs'
   * progress (the first CPU that makes some clears it and wakes it); CoordWaitFor (Int64 at words 26-27):
   * the horizon the coordinator waits for (time passing), NO_WAIT when none.
   */
  CpuGroups = 25,
  CoordWaitFor = 26,
  CoordParked = 28,
  /** Bytes kmalloc() has handed out from the top of the data region (src/kernel/core-services.ts). */
  KmallocUsed = 30,
  /**
   * Bumped by the coordinator (drainEvents()) to ask every CPU thread holding unposted events to post them
   * now; each thread loads it once per pass. (Word 32: past the words the other fields use.)
   */
  FlushReq = 32,
}
/**
 * cond_resched() calls klp_sched_try_switch(), which switches the current task if its own stack is clean
 * (kernel 6.4, "livepatch,sched: Add livepatch task switching to cond_resched()").
 */
export const KERNEL_FEATURE_COND_RESCHED_SWITCH = 1 << 0;
/** GlobalField.EventsOff: `task.state`, the scheduler's churn (isSchedulerChurn), is not emitted. */
export const EVENTS_OFF_TASK_STATE = 1 << 0;
/** GlobalField.EventsOff: the sampled `call.redirect` of klp_ftrace_handler() is not emitted. */
export const EVENTS_OFF_CALL_REDIRECT = 1 << 1;
export const POKE_BYTES_OFFSET = 64;
export const DEBUG_CPU_HANG = 1;
export const DEBUG_CPU_CRASH = 2;

export class PercpuView extends AtomicWords {
  constructor(
    km: KernelMemory,
    readonly cpu: number,
  ) {
    super(km, km.layout.percpuBase + PERCPU_SIZE * (cpu + 1));
  }
}

export class GlobalView extends AtomicWords {
  constructor(km: KernelMemory) {
    super(km, km.layout.percpuBase);
  }

  get coordHorizon(): bigint {
    return this.get64(GlobalField.CoordHorizon);
  }

  set coordHorizon(v: bigint) {
    this.set64(GlobalField.CoordHorizon, v);
  }
}
