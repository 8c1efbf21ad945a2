/**
 * Jiffies and the timer wheel (src/kernel/timer-wheel.ts): a sleep ends at the tick that fires its
 * timer's bucket — calc_index() rounds the expiry up to the level's granularity, strictly above it — and
 * msleep()'s timeout has the historical extra jiffy up to 6.12, not from 6.13. Checked on the functions
 * and through what a user sees: the times at which sleeping tasks run.
 */
import { withMachine } from '../coordinator/helpers';
import { KernelVersion } from '../../src/kernel/kernel-version';
import { NEVER } from '../../src/kernel/sim-clock';
import {
  INITIAL_JIFFIES,
  jiffiesAt,
  msecsToJiffies,
  MAX_JIFFY_OFFSET,
  nextTickNs,
  tickNs,
  timeoutExpires,
  timerFiresAt,
  timerWakeNs,
} from '../../src/kernel/timer-wheel';
import type { SimEvent } from '../../src/kernel/events';
import { CONTEXT_SWITCH_NS, TIMER_WAKEUP_NS } from '../../src/kernel/time-model';

const MS = 1_000_000;

describe('the timer wheel', () => {
  it('counts jiffies from INITIAL_JIFFIES, one per ms tick', () => {
    expect(jiffiesAt(0)).toBe(INITIAL_JIFFIES);
    expect(jiffiesAt(MS - 1)).toBe(INITIAL_JIFFIES);
    expect(jiffiesAt(MS)).toBe(INITIAL_JIFFIES + 1);
    expect(tickNs(INITIAL_JIFFIES + 7)).toBe(7 * MS);
    expect(nextTickNs(0)).toBe(MS);
    expect(nextTickNs(2.5 * MS)).toBe(3 * MS);
    expect(nextTickNs(3 * MS)).toBe(4 * MS);
  });

  it('fires a level-0 timer at the tick after its expiry, never before it', () => {
    const clk = INITIAL_JIFFIES + 10;
    for (let d = 0; d < 63; d++) expect(timerFiresAt(clk + d, clk)).toBe(clk + d + 1);
  });

  it('rounds a higher level up to its granularity, counted on absolute jiffies', () => {
    // INITIAL_JIFFIES is a multiple of 8 (level 1) but 32 past a multiple of 64 (level 2).
    const clk = INITIAL_JIFFIES;
    expect(timerFiresAt(clk + 63, clk)).toBe(clk + 64); // level 1: next multiple of 8 above
    expect(timerFiresAt(clk + 501, clk)).toBe(clk + 504);
    expect(timerFiresAt(clk + 504, clk)).toBe(clk + 544); // level 2: 64-jiffy buckets, 32 off
    expect(timerFiresAt(clk + 1001, clk)).toBe(clk + 1056);
    for (const d of [63, 100, 503, 504, 4031, 4032, 40_000, 1_000_000, 4_294_967_295]) {
      const at = timerFiresAt(clk + d, clk);
      expect(at).toBeGreaterThan(clk + d);
      // The slack is at most one granularity of the level, 12.5 % of the delta above level 0.
      expect(at - (clk + d)).toBeLessThanOrEqual(Math.max(1, d / 8 + 1));
    }
  });

  it('follows a timeout past the wheel capacity to its own bucket (the callers loop on what is left)', () => {
    const clk = INITIAL_JIFFIES;
    const d = 4_294_967_295; // msleep()'s largest unsigned int, far past WHEEL_TIMEOUT_MAX (~12 days)
    const at = timerFiresAt(clk + d, clk);
    // Not at the wheel's limit (clk + ~12 days) but past the expiry, within the last re-arm's level
    // (level 7: 2^21-jiffy buckets).
    expect(at).toBeGreaterThan(clk + d);
    expect(at - (clk + d)).toBeLessThan(2 ** 21);
  });

  it('treats an int-negative msecs as forever (MAX_JIFFY_OFFSET), which never wakes', () => {
    expect(msecsToJiffies(1)).toBe(1);
    expect(msecsToJiffies(2 ** 31 - 1)).toBe(2 ** 31 - 1);
    expect(msecsToJiffies(-19000)).toBe(MAX_JIFFY_OFFSET);
    expect(msecsToJiffies(4_294_948_296)).toBe(MAX_JIFFY_OFFSET);
    expect(timerWakeNs(0, timeoutExpires(0, MAX_JIFFY_OFFSET), Number.MAX_SAFE_INTEGER)).toBe(Number(NEVER));
  });
});

/** The times (ns) at which `comm` was switched in. */
const runsOf = (events: SimEvent[], comm: string): number[] =>
  events.filter((e) => e.type === 'task.state' && e.comm === comm && e.state === 'running').map((e) => e.t);

describe.each([
  ['5.1', 3, true],
  ['6.12', 3, true],
  ['6.13', 2, false],
])('msleep(1) on %s', (release, periodMs, extraJiffy) => {
  it(`wakes every ${periodMs} ms, on the tick, every sleeper of a tick together (deterministic)`, async () => {
    const kernelVersion = KernelVersion.of(release);
    expect(kernelVersion.msleepExtraJiffy).toBe(extraJiffy);
    await withMachine({ cpus: 1, deterministic: true, kernelVersion }, { f: 'ret' }, async (m, events) => {
      for (let i = 0; i < 4; i++)
        await m.spawn({
          name: `s${i}`,
          cpu: 0,
          kind: 'kthread',
          run: [
            { kind: 'call', func: 'f', args: [] },
            { kind: 'sleep', ms: 1 },
          ],
        });
      await m.sleep(40);
      const all = [0, 1, 2, 3].map((i) => runsOf(events, `s${i}`).slice(2));
      for (const runs of all) {
        expect(runs.length).toBeGreaterThan(5);
        expect(new Set(runs.slice(1).map((t, i) => Math.floor(t / MS) - Math.floor(runs[i] / MS)))).toEqual(new Set([periodMs]));
      }
      // The four timers are in one bucket: the tick wakes them all, and they run back to back in the
      // order they were armed, each after its context switch.
      for (let k = 0; k < 3; k++) {
        const ticks = all.map((runs) => Math.floor(runs[k] / MS));
        expect(new Set(ticks).size).toBe(1);
        const order = all.map((runs) => runs[k]);
        expect([...order].sort((a, b) => a - b)).toEqual(order);
        // The softirq wakes all four before the first runs.
        expect(order[0] % MS).toBe(4 * TIMER_WAKEUP_NS + CONTEXT_SWITCH_NS);
      }
    });
  }, 30_000);
});

describe('msleep(0) and the YAML sleep_ms 0', () => {
  it.each([
    ['6.12', 1],
    ['6.13', 0],
  ])('on %s sleeps %d extra jiffies (the loop does not run from 6.13)', async (release, sleeps) => {
    const kernelVersion = KernelVersion.of(release);
    await withMachine({ cpus: 1, deterministic: true, kernelVersion }, { f: 'ret' }, async (m, events) => {
      await m.spawn({
        name: 'z',
        cpu: 0,
        kind: 'kthread',
        once: true,
        run: [
          { kind: 'sleep', ms: 0 },
          { kind: 'printk', text: 'after', refs: [] },
        ],
      });
      await m.sleep(5);
      const after = events.find((e) => e.type === 'log' && e.text === 'after');
      expect(after).toBeDefined();
      const slept = events.filter((e) => e.type === 'task.state' && e.comm === 'z' && e.state === 'sleeping').length;
      expect(slept).toBe(sleeps);
      // 6.12: msleep(0) is one jiffy, fired at the bucket after it: at 2 ms.
      if (sleeps) expect(Math.floor((after as SimEvent).t / MS)).toBe(2);
      else expect((after as SimEvent).t).toBeLessThan(MS);
    });
  });
});
