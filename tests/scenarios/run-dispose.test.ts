/** A run that throws (a klpsim bug, or a gate that gives up) still stops its CPU threads. */
import { resolve } from 'path';
import { Simulation } from '../../src/scenario/simulation';
import { SCENARIOS } from './helpers';

it('Simulation.run() disposes the machine when a step throws, so the process can exit', async () => {
  const sim = await Simulation.fromFile(resolve(SCENARIOS, 'test-livepatch-basic.yaml'), {
    gate: async ({ index }) => {
      if (index === 1) throw new Error('gave up');
    },
  });
  let completed = false;
  sim.events$.subscribe({ complete: () => (completed = true) });
  await expect(sim.run()).rejects.toThrow('gave up');
  // dispose() stops the CPU workers, then completes events$.
  expect(completed).toBe(true);
}, 30_000);
