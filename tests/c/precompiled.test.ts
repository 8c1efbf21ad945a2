/**
 * precompiled/ (the objects that let the shipped scenarios, `npm start` among them, run without gcc) is
 * exactly what the current sources and headers compile to: one entry per C unit of scenarios/, no
 * other, each one's headers unchanged and its object what this gcc writes (`npx tsx scripts/precompile.ts`
 * regenerates it).
 */
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  compileCached,
  CompileRequest,
  precompiledDir,
  precompiledPath,
  readEntry,
  sourceKey,
  writeEntry,
} from '../../src/c/compile-cache';
import { GccMissingError, runGcc } from '../../src/c/gcc-driver';
import { kernelCflags } from '../../src/c/kernel-cflags';
import { includeDir } from '../../src/scenario/c-units';
import { describeWithGcc } from './gcc-available';
import { shippedScenarioUnits } from '../../scripts/shipped-c-units';

describeWithGcc('precompiled objects', () => {
  const units = shippedScenarioUnits();

  it('hold every C unit of the shipped scenarios and nothing else', () => {
    const shipped = existsSync(precompiledDir()) ? readdirSync(precompiledDir()).filter((f) => f.endsWith('.json')) : [];
    expect(shipped.sort()).toEqual(units.map((u) => `${sourceKey(u)}.json`).sort());
  });

  it('are what the current sources and headers compile to', () => {
    for (const u of units) {
      const entry = readEntry(precompiledPath(u));
      expect(entry).not.toBeNull();
      const r = runGcc(u);
      expect(r.ok).toBe(true);
      if (r.ok && entry) expect(Buffer.from(entry).equals(Buffer.from(r.object))).toBe(true);
    }
  });
});

describeWithGcc('without gcc', () => {
  it('a shipped object of the same source, flags and headers is used; none: gcc is missing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'klpsim-shipped-'));
    const req: CompileRequest = {
      source: 'int shipped(void) { return 4; }',
      name: 's.c',
      flags: kernelCflags({ framePointer: false, modname: 's', module: false }),
      include: [includeDir()],
    };
    const r = runGcc(req);
    if (!r.ok) throw new Error('gcc failed');
    writeEntry(precompiledPath(req, dir), r.object, r.deps);
    const path = process.env.PATH;
    process.env.PATH = dir;
    try {
      const got = compileCached(req, dir);
      expect(got.ok && got.from).toBe('precompiled');
      expect(got.ok && Buffer.from(got.object).equals(Buffer.from(r.object))).toBe(true);
      expect(() => compileCached({ ...req, source: 'int other(void) { return 5; }' }, dir)).toThrow(GccMissingError);
    } finally {
      process.env.PATH = path;
    }
  });
});
