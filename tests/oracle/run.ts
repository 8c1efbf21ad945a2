/**
 * `npm run test:oracle`: the differential oracle over many seeds (default 1 000, from seed 1), two programs
 * at a time (gcc runs in its own processes). Exits 1 listing every failing seed with its replay command.
 *
 *   npx tsx tests/oracle/run.ts [--count N] [--start S]
 *   npx tsx tests/oracle/run.ts --seed S [--show]     one seed; --show prints the program and both results
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gccUnavailable } from './gcc';
import { generateProgram } from './generator';
import { check, describeFailure, Verdict } from './oracle';

const out = (s: string): boolean => process.stdout.write(s + '\n');
const err = (s: string): boolean => process.stderr.write(s + '\n');

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<number> {
  const why = gccUnavailable();
  if (why !== undefined) {
    err(`oracle: cannot run: ${why}`);
    return 2;
  }
  const dir = mkdtempSync(join(tmpdir(), 'klpsim-oracle-'));
  try {
    const one = arg('--seed');
    if (one !== undefined) {
      const seed = Number(one);
      if (process.argv.includes('--show')) out(generateProgram(seed).kernel);
      const v = await check(seed, dir);
      out(v.ok ? `oracle seed ${seed}: ok (0x${v.native.toString(16)}, ${v.interp.instructions} instructions)` : describeFailure(v));
      return v.ok ? 0 : 1;
    }
    const count = Number(arg('--count') ?? 1000);
    const start = Number(arg('--start') ?? 1);
    const t0 = Date.now();
    let next = start;
    const failures: Verdict[] = [];
    const broken: number[] = [];
    let done = 0,
      insns = 0;
    const worker = async (): Promise<void> => {
      while (next < start + count) {
        const seed = next++;
        let v: Verdict;
        try {
          v = await check(seed, dir);
        } catch (e) {
          // a program that gcc rejects or that crashes natively is a generator bug: report it, go on
          done++;
          broken.push(seed);
          out(`oracle seed ${seed}: could not be built or run natively: ${e instanceof Error ? e.message : String(e)}`);
          out(`  replay: npx tsx tests/oracle/run.ts --seed ${seed} --show`);
          continue;
        }
        done++;
        insns += v.interp.instructions;
        if (!v.ok) {
          failures.push(v);
          out(describeFailure(v));
        }
        if (done % 100 === 0)
          out(`oracle: ${done}/${count} programs, ${failures.length} failing, ${((Date.now() - t0) / 1000).toFixed(0)} s`);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(4, availableParallelism())) }, worker));
    out(
      `oracle: ${done} programs (seeds ${start}..${start + count - 1}), ${failures.length} failing, ${broken.length} not built, ${insns} instructions emulated per path, ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
    return failures.length === 0 && broken.length === 0 ? 0 : 1;
  } finally {
    rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  }
}

main().then(
  (c) => process.exit(c),
  (e: unknown) => {
    err(e instanceof Error ? e.message : String(e));
    process.exit(2);
  },
);
