/**
 * Keys: a mapping or a sequence as a key is refused at the key (yaml stringified it and printed a Node
 * warning on the user's stderr; found by the fuzz test).
 *
 * Duplicate keys, found by the loader's own check (yaml's compared each key with all before it: a
 * scenario with 20 000 functions took half a minute to load, past the fuzz test's time bound; see
 * tests/fuzz). Same wording and position as yaml's.
 */
import { errorsOf } from './helpers';

describe('collection keys', () => {
  it('are refused at the key, and yaml prints no warning', () => {
    const warnings: string[] = [];
    const onWarning = (w: Error): number => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      expect(errorsOf('name: x\n? [a, b]\n: c\n')).toEqual(['test.yaml:2:3: YAML: a key here is a name, not a mapping or a sequence']);
      expect(errorsOf('name: x\nkernel: { functions: { { a: 1 }: ret } }\n')).toEqual([
        'test.yaml:2:24: YAML: a key here is a name, not a mapping or a sequence',
      ]);
    } finally {
      process.off('warning', onWarning);
    }
    return new Promise<void>((done) =>
      setImmediate(() => {
        expect(warnings).toEqual([]);
        done();
      }),
    );
  });
});

describe('duplicate keys', () => {
  it('are reported at the later key, in block and flow mappings, at any depth', () => {
    expect(errorsOf('name: x\nname: y\n')).toEqual(['test.yaml:2:1: YAML: Map keys must be unique']);
    expect(errorsOf('name: x\nkernel: { functions: { f: ret, g: ret, f: nop } }\n')).toEqual([
      'test.yaml:2:40: YAML: Map keys must be unique',
    ]);
    expect(errorsOf('name: x\nmodules:\n  m:\n    params: { a: 1 }\n    params: { b: 2 }\n')).toEqual([
      'test.yaml:5:5: YAML: Map keys must be unique',
    ]);
  });

  it('compare scalars by value, as yaml does: 1 and "1" differ', () => {
    expect(errorsOf('name: x\nmodules:\n  m:\n    params: { 1: 1, "1": 2 }\n').some((l) => l.includes('unique'))).toBe(false);
  });
});
