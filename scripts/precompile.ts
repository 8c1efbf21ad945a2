/**
 * Writes precompiled/: the objects of every C unit of the shipped scenarios (scenarios/**.yaml), so
 * `npm start` and the other shipped scenarios run on a machine without gcc (src/c/compile-cache.ts uses
 * them only when gcc is missing). Run it after changing a shipped scenario's C or klpsim's headers:
 * `npx tsx scripts/precompile.ts`; tests/c/precompiled.test.ts fails while precompiled/ is stale.
 */
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { precompiledDir, precompiledPath, sourceKey, writeEntry } from '../src/c/compile-cache';
import { runGcc } from '../src/c/gcc-driver';
import { shippedScenarioUnits } from './shipped-c-units';

const units = shippedScenarioUnits();
const dir = precompiledDir();
mkdirSync(dir, { recursive: true });
const keep = new Set<string>();
for (const req of units) {
  const r = runGcc(req);
  if (!r.ok) throw new Error(`${req.name}: ${r.diagnostics.map((d) => `${d.file}:${d.line}:${d.col}: ${d.message}`).join('\n')}`);
  writeEntry(precompiledPath(req), r.object, r.deps);
  keep.add(`${sourceKey(req)}.json`);
}
for (const f of readdirSync(dir)) if (f.endsWith('.json') && !keep.has(f)) rmSync(join(dir, f));
process.stdout.write(`precompiled/: ${keep.size} objects\n`);
