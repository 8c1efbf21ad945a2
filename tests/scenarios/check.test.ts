/**
 * `klpsim check` accepts every shipped scenario (the loader behind it: loadScenarioFile), and the
 * example of ../shared/examples still gives the upstream "basic function patching" block.
 */
import { existsSync, readdirSync, readFileSync } from 'fs';
import { resolve } from 'path';
import { loadScenarioFile } from '../../src/scenario';
import { filterLog, runScenario, SCENARIOS } from './helpers';

const files = readdirSync(SCENARIOS)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

describe('klpsim check', () => {
  it('finds the shipped scenarios', () => {
    expect(files).toEqual(
      expect.arrayContaining(['atomic-replace-nops.yaml', 'test-livepatch-basic.yaml', 'test-callbacks.yaml', 'test-sysfs.yaml']),
    );
  });
  it.each(files)('accepts scenarios/%s', (f) => {
    const s = loadScenarioFile(resolve(SCENARIOS, f));
    expect(s.name.length).toBeGreaterThan(0);
    expect(s.steps.length).toBeGreaterThan(0);
  });
});

const EXAMPLES = resolve(__dirname, '../../../shared/examples');
const YAML = resolve(EXAMPLES, 'test-livepatch-basic.yaml');
const DMESG = resolve(EXAMPLES, 'test-livepatch-basic.dmesg');

describe('../shared/examples/test-livepatch-basic.yaml', () => {
  // The examples live beside the repository (../shared); a clone without them has nothing to check.
  const maybe = existsSync(YAML) && existsSync(DMESG) ? it : it.skip;
  maybe('logs test-livepatch-basic.dmesg line for line', async () => {
    const r = await runScenario(YAML);
    expect(r.result.exitCode).toBe(0);
    expect(filterLog(r.log)).toEqual(readFileSync(DMESG, 'utf8').replace(/\n$/, '').split('\n'));
  });
});
