/** Every C unit the shipped scenarios compile (what precompiled/ must hold). */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CompileRequest, recordCompiles } from '../src/c/compile-cache';
import { loadScenarioFile } from '../src/scenario/load-scenario';
import { packageRoot } from '../src/util/package-root';
import { UNWINDERS } from '../src/kernel/stack-walk';

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return yamlFiles(p);
    return f.endsWith('.yaml') ? [p] : [];
  });
}

/** Each scenario's C as both unwinders build it, so `--unwinder` works on a machine without gcc too. */
export function shippedScenarioUnits(): CompileRequest[] {
  const out = new Map<string, CompileRequest>();
  for (const file of yamlFiles(join(packageRoot(), 'scenarios')))
    for (const unwinder of UNWINDERS) {
      const { requests } = recordCompiles(() => {
        try {
          loadScenarioFile(file, { unwinder });
        } catch {
          // A scenario that does not load fails its own tests; its C (what was compiled) still counts.
        }
      });
      for (const r of requests) out.set(JSON.stringify([r.flags, r.source]), r);
    }
  return [...out.values()];
}
