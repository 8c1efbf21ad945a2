/**
 * Every injectable fault breaks one of the kernel's ordering rules, and a checker must catch it: a
 * checker that cannot fail is itself a failing test. Each fault runs with a seed (deterministic, so the
 * run is exactly reproducible) under which it is caught within a few ops; the same seeds without the
 * fault run clean, so what is caught is the fault and not noise.
 */
import type { KlpFault } from '../../src/livepatch/klp-state';
import { runStress } from '../../src/stress/stress-run';

const base = { cpus: 4, tasks: 16, ops: 10, deterministic: true, nopRemoval: true };

const CASES: [KlpFault, number, string, RegExp][] = [
  ['skip-rcu-sync', 5, 'use-after-free', /in klp_ftrace_handler for .* read a freed klp_(func|ops)/],
  ['skip-text-poke-bp', 1, 'fetch', /(stale ftrace site|torn instruction)/],
  ['early-free', 3, 'use-after-free', /read a freed klp_func|shared list/],
  ['skip-stack-check', 3, 'consistency', /entered .* while its call chain holds/],
  ['early-transition-clear', 3, 'consistency', /entered .* while its call chain holds/],
];

describe('fault injection: each fault is caught by its checker', () => {
  it.each(CASES)('%s (seed %d) is caught by %s', async (fault, seed, check, message) => {
    const r = await runStress({ ...base, seed, faults: [fault], stopOnViolation: true });
    expect(r.violationsByCheck[check]).toBeGreaterThan(0);
    expect(r.firstViolations.filter((v) => v.check === check).map((v) => v.message).join('\n')).toMatch(message);
  }, 60_000);

  it.each([1, 3, 5])('seed %d without a fault: no violation', async (seed) => {
    const r = await runStress({ ...base, seed, faults: [] });
    expect(r.firstViolations).toEqual([]);
    expect(r.violations).toBe(0);
    expect(r.checks.consistency).toBeGreaterThan(0);
    expect(r.checks['func-stack-order']).toBe(base.ops);
  }, 60_000);
});

describe('regressions found by stress runs', () => {
  // `klpsim stress --seed 2 --deterministic`: stress_mod's kthread, started by modprobe in the middle of
  // a transition, had patch_state KLP_UNDEFINED (klp_copy_process() gives it its parent's state).
  it('seed 2: a task created during a transition gets a patch_state', async () => {
    const r = await runStress({ ...base, seed: 2, ops: 13, faults: [] });
    expect(r.ops.some((o) => o.kind === 'module-load')).toBe(true);
    expect(r.firstViolations).toEqual([]);
  }, 60_000);
});
