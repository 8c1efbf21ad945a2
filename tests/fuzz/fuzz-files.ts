/**
 * The files the fuzzed command lines name: a placeholder (`@valid`, `@missing`, …) becomes a real path
 * in a fresh temporary directory, made once per harness.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import type { FilePlaceholder } from './gen-argv';

const VALID = `name: fuzz valid
cpus: 1
kernel:
  functions:
    f: |
      xor eax, eax
      ret
steps:
  - sh: lsmod
`;

export class FuzzFiles {
  readonly dir = mkdtempSync(join(tmpdir(), 'klpsim-fuzz-'));
  private readonly paths: Record<FilePlaceholder, string>;
  private scratchCount = 0;

  constructor() {
    const file = (name: string, text: string): string => {
      const p = join(this.dir, name);
      writeFileSync(p, text);
      return p;
    };
    mkdirSync(join(this.dir, 'a-dir.yaml'));
    this.paths = {
      '@valid': file('valid.yaml', VALID),
      '@bad-yaml': file('bad-yaml.yaml', 'name: [unclosed\nsteps: {\n'),
      '@bad-schema': file('bad-schema.yaml', 'name: x\ncpus: many\nsteps:\n  - sh: frobnicate\n'),
      '@empty': file('empty.yaml', ''),
      '@missing': join(this.dir, 'no-such-dir', 'missing.yaml'),
      '@dir': join(this.dir, 'a-dir.yaml'),
      '@devnull': '/dev/null',
      '@devzero': '/dev/zero',
      '@ndjson': file('run.ndjson', '{"t":0,"seq":0,"cpu":null,"type":"log","text":"x"}\nnot json\n'),
      '@out': join(this.dir, 'out.json'),
      '@out-missing-dir': join(this.dir, 'no-such-dir', 'out.json'),
      '@out-dir': join(this.dir, 'a-dir.yaml'),
    };
  }

  resolve(arg: string): string {
    return (this.paths as Record<string, string>)[arg] ?? arg;
  }

  /** A new file holding `text` (the scenario inputs that go through `klpsim check` and `run`). */
  scratch(text: string): string {
    const p = join(this.dir, `input-${this.scratchCount++ % 4}.yaml`);
    writeFileSync(p, text);
    return p;
  }
}
