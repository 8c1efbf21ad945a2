/** Typed module parameters: bad values fail the load or the sysfs write as the kernel's parsers make them. */
import { resolve } from 'path';
import { runScenario } from './helpers';

it('module parameters parse by type, at modprobe and at sysfs writes', async () => {
  const r = await runScenario(resolve(__dirname, 'fixtures', 'module-params.yaml'));
  expect(r.result.failures.map((f) => f.message)).toEqual([]);
});

it('a default of every parameter type is a real parameter: ${...}, sysfs, its word, and livepatch replace', async () => {
  const r = await runScenario(resolve(__dirname, 'fixtures', 'param-defaults.yaml'));
  expect(r.result.failures.map((f) => f.message)).toEqual([]);
});
