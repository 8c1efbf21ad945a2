/**
 * An alias whose anchor is not set before it is bad YAML: yaml's toJS() threw a ReferenceError, which
 * `klpsim check` printed as an internal error (exit 1). Found by the fuzz test (tests/fuzz).
 */
import { mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { runCli } from '../cli/run-cli';
import { errorsOf } from './helpers';

describe('YAML aliases', () => {
  it('reports each alias without an anchor before it, at the alias', () => {
    expect(errorsOf('name: &n x\nsteps:\n  - sh: *n\n  - sh: *m\n')).toEqual([
      "test.yaml:4:9: YAML: alias '*m' has no anchor '&m' before it",
    ]);
    // An anchor set after the alias does not count, as YAML says.
    expect(errorsOf('name: *n\nseed: &n 1\n')).toEqual(["test.yaml:1:7: YAML: alias '*n' has no anchor '&n' before it"]);
  });

  it('is bad input for klpsim check: exit 2 and FILE:LINE:COL', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'klpsim-alias-')), 'a.yaml');
    writeFileSync(file, 'name: x\nkernel:\n  functions:\n    f: *code\n');
    const r = await runCli(['check', file]);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`${file}:4:8: YAML: alias '*code' has no anchor '&code' before it\n`);
  });

  it('still resolves aliases to anchors set before them, recursive ones included', () => {
    expect(errorsOf('name: &n x\nsteps: &s [ { sh: lsmod }, { sh: *n } ]\ntasks: *s\n').some((l) => l.includes('alias'))).toBe(false);
  });
});
