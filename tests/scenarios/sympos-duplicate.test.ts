/**
 * sympos 0 and 1 are one sysfs name (`FUNC,1`): a second kobject of that name fails klp_enable_patch()
 * with -EEXIST, as kobject_add() does in the kernel, instead of two `f1,1` directories.
 */
import { resolve } from 'path';
import { runScenario } from './helpers';

it('a replace naming sympos 1 where the old patch named 0 fails with EEXIST, logged as sysfs and kobject log it', async () => {
  const r = await runScenario(resolve(__dirname, 'fixtures', 'sympos-duplicate.yaml'));
  expect(r.result.failures.map((f) => f.message)).toEqual([]);
});
