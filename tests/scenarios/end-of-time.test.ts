/**
 * Simulated time ends at 2^53 - 1 ns (about 104 days), where a JS-number clock stops being exact: a sleep
 * past it ends the run with a clear error on both platforms (it used to wrap the 64-bit horizon words and
 * hang, or run on with clocks that no longer moved), and a task whose wake-up falls past it simply never
 * wakes.
 */
import { resolve } from 'path';
import { SimError } from '../../src/coordinator/machine';
import { runScenario } from './helpers';

const FIXTURE = resolve(__dirname, 'fixtures', 'end-of-time.yaml');

it.each([true, false])(
  'a module init that sleeps past the end of simulated time fails the run (deterministic: %s)',
  async (deterministic) => {
    const run = runScenario(FIXTURE, { deterministic });
    await expect(run).rejects.toThrow(SimError);
    await expect(run).rejects.toThrow(
      /^simulated time cannot pass 9007199254740991 ns \(2\^53 - 1, about 104 days\), where klpsim's clocks end: a sleep from \d+ ns would end at \d+ ns$/,
    );
  },
  30_000,
);
