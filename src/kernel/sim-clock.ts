/**
 * Simulated time, kept consistent across CPU threads by conservative synchronisation (as in parallel
 * discrete-event simulation).
 *
 * Every actor (each CPU and the coordinator) publishes a *horizon* in kmem: the simulated time before
 * which it will produce nothing more. A running CPU's horizon is its own clock (1 ns per instruction);
 * an idle CPU's is the wake time of its earliest sleeper (or NEVER); the coordinator's is the time it is
 * working at, or the time of its next timer. Rules:
 * - a running CPU may run ahead of the minimum of the *other* horizons by at most WINDOW_NS, so CPUs
 *   stay close in simulated time (their skew is bounded, like real CPUs sharing one clock);
 * - an idle CPU jumps its clock to its next wake-up once every other horizon has reached it — so when
 *   all tasks sleep, time skips ahead instead of being waited out (`sleep_ms: 5000` costs no real 5 s).
 * The actor with the smallest horizon can always proceed, so there is no deadlock.
 *
 * Who wakes whom (the wake protocol). CPUs run in *groups*, one worker thread each (GlobalField.CpuGroups;
 * CPU c is in group c % groups, whose leader is CPU c % groups). A group that cannot go on sleeps on its
 * leader's PcpuField.Wake word, after publishing in its leader's PcpuField.WaitFor the horizon it waits
 * for: the smallest value the others' minimum must reach for one of its CPUs to go on (plus a slack when
 * the window holds it, cpu-thread.ts). Each group publishes its *group horizon* (PcpuField.GroupHorizon,
 * the least of its CPUs' horizons), which is what the other groups read. An actor that moves its horizon
 * (a group: its group horizon) from `old` up to `value` wakes exactly the groups whose WaitFor lies in
 * (old, value] — those it may have been holding back — and the coordinator if its CoordWaitFor lies there. Other wakes are
 * targeted too: an IPI wakes its CPU's group (wakeCpu()); CPUs wake the coordinator (GlobalField.ClockEpoch)
 * for acknowledgements, task requests and, while it is parked waiting on their progress (CoordParked), at
 * their next slice end. No wake is lost, by a Dekker-style argument on sequentially consistent Atomics:
 * the waiter stores WaitFor and then reads the horizons again before it sleeps, with the Wake value it
 * read before its first look; the mover stores its horizon and then reads WaitFor. Either the waiter's
 * second read sees the new horizon (and it does not sleep), or the mover's read sees WaitFor (and it
 * wakes the waiter, whose Atomics.wait then returns at once, the Wake word having moved). `old` is the
 * lowest value the mover's word held since its last publication, so a horizon that dipped (a task
 * woken earlier) and rose again still wakes a waiter that saw the dip.
 */
import type { KernelMemory } from '../mem/kernel-memory';
import { GlobalField, GlobalView, PcpuField, PercpuView } from '../mem/percpu';

export const NS_PER_INSN = 1;
/** How far (ns) a CPU may run ahead of the slowest other actor. */
export const WINDOW_NS = 2_000_000n;
export const NEVER = 1n << 62n;

/**
 * The end of simulated time. Clocks are JS numbers of nanoseconds, exact up to 2^53 (about 104 days):
 * past it, 1 ns per instruction no longer moves a clock, so a running CPU would stop time. Every clock
 * stays below it; a wake-up past it is NEVER (within the run, that sleeper never wakes), and the
 * coordinator refuses to let time pass it (Machine.sleepUntil()).
 */
export const END_OF_TIME_NS = Number.MAX_SAFE_INTEGER;
/** The longest sleep or timeout a scenario may ask for, msleep()'s `unsigned int msecs` (about 49.7 days). */
export const MAX_SLEEP_MS = 0xffff_ffff;

/** When a task sleeping `delayNs` from `now` wakes: NEVER if that is past the end of simulated time. */
export function wakeTime(now: number, delayNs: number): number {
  const at = now + delayNs;
  return at > END_OF_TIME_NS ? Number(NEVER) : at;
}

/** PcpuField.WaitFor / GlobalField.CoordWaitFor when the actor waits for no horizon. */
export const NO_WAIT = -1n;

/** Counters of the wake protocol in one thread (the benchmark and the tests read them). */
export interface WakeCounters {
  /** Wakes sent to a group because a horizon crossed its WaitFor. */
  crossings: number;
  /** Wakes sent to the coordinator. */
  coordWakes: number;
  /** Targeted wakes of a CPU's group (IPIs, new tasks, answers). */
  cpuWakes: number;
  /** Broadcasts (bumpEpoch()). */
  broadcasts: number;
}

export class SimClock {
  private readonly pcpus: PercpuView[];
  private readonly global: GlobalView;
  private readonly i32: Int32Array;
  readonly counters: WakeCounters = { crossings: 0, coordWakes: 0, cpuWakes: 0, broadcasts: 0 };

  constructor(private readonly km: KernelMemory) {
    this.pcpus = Array.from({ length: km.layout.config.cpus }, (_, i) => new PercpuView(km, i));
    this.global = new GlobalView(km);
    this.i32 = km.i32;
  }

  /** The smallest horizon of every actor but `exceptCpu` (pass -1 to include all CPUs). */
  minHorizon(exceptCpu: number, includeCoordinator = true): bigint {
    let m = includeCoordinator ? this.global.coordHorizon : NEVER;
    for (let i = 0; i < this.pcpus.length; i++) {
      if (i === exceptCpu) continue;
      const h = this.pcpus[i].get64(PcpuField.Horizon);
      if (h < m) m = h;
    }
    return m;
  }

  /** CPU threads (groups) of the machine; 0 when the CPUs run on the coordinator's thread (lockstep). */
  groups(): number {
    return this.global.get(GlobalField.CpuGroups);
  }

  /**
   * Publishes the group horizon (PcpuField.GroupHorizon in `leader`'s area) `value` (ns) and wakes every
   * other group whose WaitFor it crossed, and the coordinator if it crossed CoordWaitFor: `old` is the
   * lowest value the word held since the last publication (see the protocol above). Only the group's
   * minimum can change what another actor may do, so a CPU whose horizon moves while another CPU of its
   * group holds the minimum costs no wake and no load of the waiters' words.
   */
  publishGroupHorizon(leader: number, old: number, value: number): void {
    this.pcpus[leader].set64(PcpuField.GroupHorizon, BigInt(value));
    if (value > old) this.wakeCrossed(old, value, leader);
  }

  /** Would a move of a group horizon from `old` to `value` wake the coordinator (cross CoordWaitFor)? */
  crossesCoordinator(old: number, value: number): boolean {
    if (value <= old) return false;
    const t = Number(this.global.get64(GlobalField.CoordWaitFor));
    return t > old && t <= value;
  }

  /** The coordinator moves its horizon; a move up wakes the groups it was holding back. */
  setCoordHorizon(v: bigint): void {
    const old = this.global.coordHorizon;
    this.global.coordHorizon = v;
    if (v > old) this.wakeCrossed(Number(old), Number(v), -1);
  }

  /** `fromLeader`: the group that moved (-1: the coordinator). */
  private wakeCrossed(old: number, value: number, fromLeader: number): void {
    const g = this.groups();
    for (let l = 0; l < g; l++) {
      if (l === fromLeader) continue;
      const t = Number(this.pcpus[l].get64(PcpuField.WaitFor));
      if (t > old && t <= value) {
        this.counters.crossings++;
        this.wakeWord(this.pcpus[l].index(PcpuField.Wake));
      }
    }
    if (fromLeader >= 0) {
      const t = Number(this.global.get64(GlobalField.CoordWaitFor));
      if (t > old && t <= value) this.wakeCoordinator();
    }
  }

  /** Wakes the thread that runs `cpu` (an IPI, a new task or an answer for it). */
  wakeCpu(cpu: number): void {
    const g = this.groups();
    // Lockstep has no CPU threads to wake, but its scheduler looks for IPIs only when the epoch moved
    // (src/coordinator/lockstep-cpus.ts): an IPI must still move it there.
    if (g === 0) return this.wakeCoordinator();
    if (cpu < 0 || cpu >= this.pcpus.length) return;
    this.counters.cpuWakes++;
    this.wakeWord(this.pcpus[cpu % g].index(PcpuField.Wake));
  }

  /** Wakes the coordinator (it sleeps on GlobalField.ClockEpoch). */
  wakeCoordinator(): void {
    this.counters.coordWakes++;
    this.wakeWord(this.global.index(GlobalField.ClockEpoch));
  }

  /**
   * A CPU made progress (a slice ended, or it is about to sleep): if the coordinator is parked waiting on
   * the CPUs' progress, the first CPU to see it clears CoordParked and wakes it — one wake per sleep of
   * the coordinator, however many CPUs make progress meanwhile.
   */
  noteProgress(): void {
    const idx = this.global.index(GlobalField.CoordParked);
    if (Atomics.load(this.i32, idx) === 1 && Atomics.compareExchange(this.i32, idx, 1, 0) === 1) this.wakeCoordinator();
  }

  /** Wakes everyone: for the rare events whose waiters are not known (stop, abort, signals). */
  bumpEpoch(): void {
    this.counters.broadcasts++;
    const g = this.groups();
    for (let l = 0; l < g; l++) this.wakeWord(this.pcpus[l].index(PcpuField.Wake));
    this.wakeWord(this.global.index(GlobalField.ClockEpoch));
  }

  epochIndex(): number {
    return this.global.index(GlobalField.ClockEpoch);
  }

  private wakeWord(idx: number): void {
    Atomics.add(this.i32, idx, 1);
    Atomics.notify(this.i32, idx);
  }
}
