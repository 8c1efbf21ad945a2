/**
 * klp_try_complete_transition() wakes an idle CPU whose idle task it could not switch (wake_up_if_idle()),
 * so the idle loop switches it before the next retry. On worker threads, before klpsim sent that
 * reschedule IPI, an idle CPU went around its loop only if it happened to wake before the retry: about
 * half of the transitions took 2 to 7 retries instead of one.
 */
import { resolve } from 'path';
import { runScenario } from './helpers';

const at = (log: string[], times: number[], line: string): number => times[log.indexOf(line)];

it.each([1, 2, 3, 4, 5, 6])(
  'worker threads: with only idle tasks, each transition completes at its first retry, not before (run %i)',
  async () => {
    const { result, log, times } = await runScenario(resolve(__dirname, 'fixtures', 'idle-only.yaml'), { deterministic: false });
    expect(result.failures.map((f) => f.message)).toEqual([]);
    for (const kind of ['patching', 'unpatching']) {
      const started = at(log, times, `livepatch: 'lp': starting ${kind} transition`);
      const done = at(log, times, `livepatch: 'lp': ${kind} complete`);
      // Not sooner either: an idle task switches only in its idle loop's pass, which comes on entering idle
      // or at that IPI — not at every wake-up of the CPU thread (which once let 1 run in 8 complete at once).
      expect(done - started).toBe(1_000_000_000);
    }
  },
  30_000,
);
