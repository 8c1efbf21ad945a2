/** A dead task's task_struct and stack are reused, so a run may create any number of short-lived tasks. */
import { resolve } from 'path';
import { runScenario } from './helpers';

it.each([true, false])(
  '300 cat tasks on a machine of 256 task slots, during a transition (deterministic: %s)',
  async (deterministic) => {
    const { result, log } = await runScenario(resolve(__dirname, 'fixtures', 'many-short-tasks.yaml'), { deterministic });
    expect(result.failures.map((f) => f.message)).toEqual([]);
    expect(result.violations).toBe(0);
    expect(log.filter((l) => l === '% cat /proc/hello')).toHaveLength(300);
    expect(log).toContain("livepatch: 'lp': patching complete");
  },
  60_000,
);
