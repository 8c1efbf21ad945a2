/**
 * The seeds of tests/stress/faults.test.ts without their faults (a checker that fires anyway would be
 * reporting itself, not the fault), the regressions stress runs found, and deterministic replay.
 */
import type { Unwinder } from '../../src/kernel/stack-walk';
import { parseOp, StressOp } from '../../src/stress/ops';
import { runStress } from '../../src/stress/stress-run';
import { base, CASES } from './fault-cases';

describe("the fault cases' seeds without their faults", () => {
  // Each (seed, unwinder) a fault case uses, once.
  const seeds = [
    ...new Map(CASES.map(([, seed, , , unwinder]) => [`${seed}/${unwinder}`, [seed, unwinder] as [number, Unwinder]])).values(),
  ];
  it.each<[number, Unwinder]>(seeds)(
    'seed %d without a fault (%s): no violation',
    async (seed, unwinder) => {
      const r = await runStress({ ...base, seed, unwinder, faults: [] });
      expect(r.firstViolations).toEqual([]);
      expect(r.violations).toBe(0);
      expect(r.checks.consistency).toBeGreaterThan(0);
      expect(r.checks['switch-point']).toBeGreaterThan(0);
      expect(r.checks['func-stack-order']).toBe(base.ops);
    },
    60_000,
  );

  it('trust-unreliable-stack does nothing to the ORC unwinder, which walks the frameless leaf exactly', async () => {
    const r = await runStress({ ...base, seed: 1, unwinder: 'orc', faults: ['trust-unreliable-stack'] });
    expect(r.firstViolations).toEqual([]);
  }, 60_000);
});

describe('regressions found by stress runs', () => {
  // `klpsim stress --seed 2 --deterministic` (before the generator's force rule changed its sequence):
  // stress_mod's kthread, started by modprobe in the middle of a transition, had patch_state
  // KLP_UNDEFINED, which the handler reported. klp_copy_process() gives a new task its parent's state.
  it('a task created during a transition gets a patch_state', async () => {
    const r = await runStress({
      ...base,
      seed: 2,
      faults: [],
      replay: ['modprobe stress_lp0', 'modprobe stress_mod', 'sleep 5', 'wait', 'sleep 5'].map(
        (t) => parseOp(t, (m) => m.startsWith('stress_lp')) as StressOp,
      ),
    });
    expect(r.ops.map((o) => o.kind)).toEqual(['enable', 'module-load', 'sleep', 'wait', 'sleep']);
    expect(r.firstViolations).toEqual([]);
  }, 60_000);
});

describe('replay', () => {
  it('--deterministic: the same seed reproduces the same event stream, event for event', async () => {
    const run = () => runStress({ ...base, ops: 6, seed: 4, faults: [], digest: true });
    const a = await run();
    const b = await run();
    expect(a.events).toBeGreaterThan(500);
    expect(b.events).toBe(a.events);
    expect(b.eventsDigest).toBe(a.eventsDigest);
    expect(b.ops.map((o) => o.text)).toEqual(a.ops.map((o) => o.text));
    const other = await runStress({ ...base, ops: 6, seed: 6, faults: [], digest: true });
    expect(other.eventsDigest).not.toBe(a.eventsDigest);
  }, 90_000);
});
