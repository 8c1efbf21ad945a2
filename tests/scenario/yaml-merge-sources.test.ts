/**
 * A merge key (`<<`) whose value is not a mapping: yaml threw 'Merge sources must be maps or map
 * aliases' while building the data, which `klpsim check` printed as an internal error (exit 1). Found
 * by the fuzz test (tests/fuzz) once merge keys were accepted.
 */
import { errorsOf } from './helpers';

const MESSAGE = "YAML: a merge key ('<<') takes a mapping, an alias of one, or a list of them";

describe('merge key sources', () => {
  it('refuses a scalar, a sequence alias, and a non-mapping in a list, at the value', () => {
    expect(errorsOf('name: x\nkernel:\n  <<: 1\n')).toEqual([`test.yaml:3:7: ${MESSAGE}`]);
    expect(errorsOf('name: x\nsteps: &s []\nkernel:\n  <<: *s\n')).toEqual([`test.yaml:4:7: ${MESSAGE}`]);
    expect(errorsOf('name: x\nkernel: &k { functions: { f: ret } }\nmodules:\n  m:\n    <<: [*k, 3]\n')).toEqual([
      `test.yaml:5:14: ${MESSAGE}`,
    ]);
  });

  it('still merges mappings and aliases of them', () => {
    // Only the error planted after the merges: they themselves are fine.
    expect(
      errorsOf('name: x\nkernel: &k { functions: { f: ret } }\nmodules:\n  m: { <<: { init: [] } }\n  n: { <<: [*k] }\ncpus: 0\n').filter(
        (l) => l.includes('merge'),
      ),
    ).toEqual([]);
  });
});
