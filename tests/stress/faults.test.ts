/**
 * Every injectable fault breaks one of the kernel's ordering rules, and a checker must catch it: a
 * checker that cannot fail is itself a failing test. Each fault runs with a seed (deterministic, so the
 * run is exactly reproducible) under which it is caught within a few ops; the same seeds without the
 * fault run clean, so what is caught is the fault and not noise.
 */
import type { Unwinder } from '../../src/kernel/stack-walk';
import type { KlpFault } from '../../src/livepatch/klp-state';
import { parseOp, StressOp } from '../../src/stress/ops';
import { runStress } from '../../src/stress/stress-run';

const base = { cpus: 4, tasks: 16, ops: 10, deterministic: true, nopRemoval: true };

const CASES: [KlpFault, number, string, RegExp, Unwinder][] = [
  ['skip-rcu-sync', 5, 'use-after-free', /in klp_ftrace_handler for .* read a freed klp_(func|ops)/, 'orc'],
  ['skip-text-poke-bp', 1, 'fetch', /(stale ftrace site|torn instruction)/, 'orc'],
  ['early-free', 5, 'use-after-free', /read a freed klp_func|shared list/, 'orc'],
  ['skip-stack-check', 2, 'consistency', /entered .* while its call chain holds/, 'orc'],
  ['early-transition-clear', 1, 'consistency', /entered .* while its call chain holds/, 'orc'],
  // The bug of issue 12: a task preempted in the frameless stress_fl_leaf, switched by a frame-pointer
  // walk that trusted the interrupt frame, enters the new stress_fl_next under the old stress_fl_caller.
  [
    'trust-unreliable-stack',
    1,
    'consistency',
    /entered the transition patch's version of stress_fl_next.* while its call chain holds the version without the transition patch of stress_fl_caller/,
    'frame-pointer',
  ],
  ['switch-kthreads-at-exit', 1, 'switch-point', /kthread stress_kt\/\d+:\d+ was switched at "kernel exit"/, 'orc'],
];

describe('fault injection: each fault is caught by its checker', () => {
  it.each(CASES)(
    '%s (seed %d) is caught by %s',
    async (fault, seed, check, message, unwinder) => {
      const r = await runStress({ ...base, seed, unwinder, faults: [fault], stopOnViolation: true });
      expect(r.violationsByCheck[check]).toBeGreaterThan(0);
      expect(
        r.firstViolations
          .filter((v) => v.check === check)
          .map((v) => v.message)
          .join('\n'),
      ).toMatch(message);
    },
    // Every CPU has a busy task now: a lockstep run emulates four CPUs' worth of work per simulated ms.
    120_000,
  );

  // The seeds the cases above use, each clean without its fault (a checker that fires anyway would be
  // reporting itself, not the fault).
  it.each<[number, Unwinder]>([
    [1, 'orc'],
    [2, 'orc'],
    [5, 'orc'],
    [1, 'frame-pointer'],
  ])(
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
