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
 * Horizons are Int64 words written with Atomics.store by their owner and read with Atomics.load by anyone;
 * each owner bumps GlobalField.ClockEpoch after moving its horizon so waiters can sleep on that word.
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

export class SimClock {
  private readonly pcpus: PercpuView[];
  private readonly global: GlobalView;

  constructor(private readonly km: KernelMemory) {
    this.pcpus = Array.from({ length: km.layout.config.cpus }, (_, i) => new PercpuView(km, i));
    this.global = new GlobalView(km);
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

  bumpEpoch(): void {
    Atomics.add(this.km.i32, this.global.index(GlobalField.ClockEpoch), 1);
    Atomics.notify(this.km.i32, this.global.index(GlobalField.ClockEpoch));
  }

  epochIndex(): number {
    return this.global.index(GlobalField.ClockEpoch);
  }
}
