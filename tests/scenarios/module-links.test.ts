/**
 * Links between modules: klp relocations (a livepatch's code for a module reaches the module's own
 * symbols, written by klp_init_object_loaded() at every load of the module) and use_module() (an ordinary
 * module that calls another needs it loaded, and holds it).
 */
import { resolve } from 'path';
import { runScenario } from './helpers';

const fixture = (f: string): string => resolve(__dirname, 'fixtures', f);

describe('klp relocations and module dependencies', () => {
  it.each([true, false])(
    'the patched module function calls its module, across a reload (deterministic: %s)',
    async (deterministic) => {
      const r = await runScenario(fixture('module-links.yaml'), { deterministic });
      expect(r.result.failures.map((f) => f.message)).toEqual([]);
      // A stale relocation into the first copy of tgt would fault (its pages lose every permission).
      expect(r.result.violations).toBe(0);
      expect(r.log.filter((l) => l.startsWith('lp: tgt_show called 1 times'))).toHaveLength(2);
    },
    60_000,
  );

  it('a klp relocation the module cannot satisfy refuses the module, with the kernel log lines', async () => {
    const r = await runScenario(fixture('klp-reloc-missing.yaml'));
    expect(r.result.failures.map((f) => f.message)).toEqual([]);
  });
});
