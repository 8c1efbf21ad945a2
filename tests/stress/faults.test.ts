/**
 * Every injectable fault breaks one of the kernel's ordering rules, and a checker must catch it: a
 * checker that cannot fail is itself a failing test. Each fault runs with a seed (deterministic, so the
 * run is exactly reproducible) under which it is caught within a few ops; the same seeds without the
 * fault run clean, so what is caught is the fault and not noise.
 */
import { base, CASES } from './fault-cases';
import { runStress } from '../../src/stress/stress-run';

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
});
