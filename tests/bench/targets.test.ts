/**
 * The benchmarks held to issue #13's targets run (tiny sizes: whether the code works, not how fast it is —
 * timed assertions do not belong in unit tests) and report a figure, its target and a verdict per line.
 */
import { renderTargets, runTargets, TINY } from '../../src/bench/targets';

describe('bench targets', () => {
  it('every entry measures, states its target and whether it is met', async () => {
    const sections = await runTargets(TINY);
    expect(sections.map((s) => s.lines.map((l) => l.id)).flat()).toEqual([
      'platform.one-busy',
      'platform.all-busy',
      'platform.64-cpus',
      'sim-rate.busy-user',
      'stress.ops-per-sec',
      'faults.skip-stack-check',
    ]);
    for (const l of sections.flatMap((s) => s.lines)) {
      expect(Number.isFinite(l.value)).toBe(true);
      expect(l.value).toBeGreaterThanOrEqual(0);
      expect(l.target).toMatch(/^[<>]= /);
    }
    const text = renderTargets(sections);
    expect(text).toMatch(/4 CPUs, all busy .* target >= 1\.7x +(met|NOT met)/);
    expect(text).toMatch(/skip-stack-check .* target <= 5 s +(met|NOT met)/);
  }, 240_000);
});
