/**
 * Jiffies and the timer wheel, as far as a sleeping task sees them: when the timer that msleep(),
 * msleep_interruptible(), schedule_timeout_interruptible() (and the YAML `sleep_ms` action, which is
 * msleep()) arm fires.
 *
 * The kernel (kernel/time/timer.c, the non-cascading wheel since 4.8; sleep_timeout.c since 6.13):
 * - jiffies count timer ticks (HZ=1000 here: 1 ms each) from INITIAL_JIFFIES, and every timer fires from
 *   the tick: the tick that makes jiffies reach a timer's bucket runs it in that tick's TIMER_SOFTIRQ,
 *   together with every other timer of that bucket. So sleepers wake on tick boundaries, in batches.
 * - schedule_timeout(t) arms a timer with `expires = jiffies + t`; calc_wheel_index() puts it in the level
 *   whose range holds `expires - base->clk`, and calc_index() rounds the expiry *up* to the next multiple
 *   of that level's granularity (8^level jiffies) strictly above `expires` — a timer never fires early,
 *   even when it was armed at the very end of a tick. A level-0 timer therefore fires at the tick
 *   `expires + 1`; a timer 100 jiffies out (level 1) at the next multiple of 8 above `expires`.
 * - Timeouts past the wheel's capacity fire at its limit (WHEEL_TIMEOUT_MAX); msleep()'s loop re-arms
 *   for what is left, so the sleep still ends at the original expiry's bucket.
 * - msleep(ms) loops on `msecs_to_jiffies(ms)` jiffies: up to 6.12 plus one "historical" extra jiffy,
 *   dropped in 6.13 (KernelVersion.msleepExtraJiffy). msecs_to_jiffies() of a value that is negative as
 *   an int is MAX_JIFFY_OFFSET: the sleep never ends.
 */
import { NEVER } from './sim-clock';

/** CONFIG_HZ: arch/x86/configs/x86_64_defconfig's CONFIG_HZ_1000. */
export const HZ = 1000;
export const NS_PER_JIFFY = 1_000_000_000 / HZ;

/**
 * jiffies at boot (include/linux/jiffies.h: `(unsigned long)(unsigned int)(-300*HZ)`), so that wrap bugs
 * show within minutes. It matters here through the wheel's rounding: the higher levels round to absolute
 * multiples of their granularity.
 */
export const INITIAL_JIFFIES = 2 ** 32 - 300 * HZ;

/** MAX_JIFFY_OFFSET (`(LONG_MAX >> 1) - 1`): what msecs_to_jiffies() returns for "forever". */
export const MAX_JIFFY_OFFSET = 2 ** 62 - 1;

const LVL_CLK_SHIFT = 3;
const LVL_BITS = 6;
const LVL_SIZE = 2 ** LVL_BITS;
/** LVL_DEPTH: 9 levels for HZ > 100. */
const LVL_DEPTH = 9;
/** LVL_GRAN(n): 8^n jiffies. */
const gran = (lvl: number): number => 2 ** (lvl * LVL_CLK_SHIFT);
/** LVL_START(n): the smallest `expires - clk` that goes to level n (63, 504, 4032, …). */
const lvlStart = (lvl: number): number => (LVL_SIZE - 1) * 2 ** ((lvl - 1) * LVL_CLK_SHIFT);
const WHEEL_TIMEOUT_CUTOFF = lvlStart(LVL_DEPTH);
const WHEEL_TIMEOUT_MAX = WHEEL_TIMEOUT_CUTOFF - gran(LVL_DEPTH - 1);

/** The value of jiffies at simulated time `ns` (the CPU's clock; the boot was at 0). */
export function jiffiesAt(ns: number): number {
  return INITIAL_JIFFIES + Math.floor(ns / NS_PER_JIFFY);
}

/** The simulated time of the tick that makes jiffies `j`. */
export function tickNs(j: number): number {
  return (j - INITIAL_JIFFIES) * NS_PER_JIFFY;
}

/** The next timer tick after `ns` (where a `hlt` ends). */
export function nextTickNs(ns: number): number {
  return tickNs(jiffiesAt(ns) + 1);
}

/** msecs_to_jiffies() at HZ=1000, of msleep()'s `unsigned int`: an int-negative value is "forever". */
export function msecsToJiffies(ms: number): number {
  const m = ms >>> 0;
  return m >= 2 ** 31 ? MAX_JIFFY_OFFSET : m;
}

/**
 * The jiffy whose tick fires a timer with expiry `expires`, armed when the wheel's clock was `clk`
 * (calc_wheel_index() + calc_index()), following the re-arms of a timeout past the wheel's capacity
 * (msleep()'s and schedule_timeout()'s callers loop on what is left, with the same expiry).
 */
export function timerFiresAt(expires: number, clk: number): number {
  for (;;) {
    const delta = expires - clk;
    if (delta < 0) return clk; // already due: the next run of the wheel
    if (delta >= WHEEL_TIMEOUT_CUTOFF) {
      // Forced to expire at the wheel's limit; the loop arms the rest from there.
      const at = bucket(clk + WHEEL_TIMEOUT_MAX, LVL_DEPTH - 1);
      if (at >= expires) return bucket(expires, LVL_DEPTH - 1);
      clk = at;
      continue;
    }
    let lvl = 0;
    while (lvl < LVL_DEPTH - 1 && delta >= lvlStart(lvl + 1)) lvl++;
    return bucket(expires, lvl);
  }
}

/** calc_index()'s rounding: the next multiple of the level's granularity above `expires`. */
function bucket(expires: number, lvl: number): number {
  const g = gran(lvl);
  return (Math.floor(expires / g) + 1) * g;
}

/** The expiry of a timeout of `timeout` jiffies armed at simulated time `ns` (Infinity: never). */
export function timeoutExpires(ns: number, timeout: number): number {
  return timeout >= MAX_JIFFY_OFFSET ? Infinity : jiffiesAt(ns) + timeout;
}

/** Jiffies left until `expires` at simulated time `ns`, as schedule_timeout() returns them (>= 0). */
export function jiffiesLeft(ns: number, expires: number): number {
  return Math.max(0, Math.min(MAX_JIFFY_OFFSET, expires - jiffiesAt(ns)));
}

/**
 * When the timer with expiry `expires`, armed (or re-armed) at simulated time `ns`, wakes its task: the
 * tick that fires it, in ns. NEVER for a timeout that never ends or that ends past `endNs` (the end of
 * simulated time).
 */
export function timerWakeNs(ns: number, expires: number, endNs: number): number {
  if (!Number.isFinite(expires)) return Number(NEVER);
  const at = tickNs(timerFiresAt(expires, jiffiesAt(ns)));
  return at > endNs ? Number(NEVER) : at;
}

/**
 * When msleep(ms) called at simulated time `ns` returns, for a caller that does not model the timer
 * set-up separately (a module's init or a callback, run by the coordinator in insmod's context): `ns`
 * itself when the timeout is 0 jiffies (msleep(0) from 6.13), NEVER for a timeout that never ends.
 * `extraJiffy`: KernelVersion.msleepExtraJiffy.
 */
export function msleepWakeNs(ns: number, ms: number, extraJiffy: boolean, endNs: number): number {
  const j = msecsToJiffies(ms);
  const timeout = extraJiffy ? Math.min(j + 1, MAX_JIFFY_OFFSET) : j;
  if (timeout === 0) return ns;
  return timerWakeNs(ns, timeoutExpires(ns, timeout), endNs);
}
