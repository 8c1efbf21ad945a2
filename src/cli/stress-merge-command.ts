/**
 * `klpsim stress merge R1.json R2.json … [--json]`: the summary (or JSON) of the runs of several
 * `klpsim stress --json` results — typically the shards of one sweep — as one run of all their seeds
 * would print it. Exit: 0 no violation, 1 a violation (or a run that hung or stopped), 2 bad input
 * (an unreadable file, not JSON, not a stress result, a seed twice, different options).
 */
import { readFileSync } from 'node:fs';
import { MergeInputError, mergeReports } from '../stress/merge';
import { renderFailure, renderSummary } from '../stress/summary';
import { StressUsageError } from './stress-command';

export interface StressMergeOptions {
  json: boolean;
}

export function stressMergeCommand(files: string[], o: StressMergeOptions, out = process.stdout, err = process.stderr): number {
  const inputs = files.map((file) => {
    try {
      return { file, text: readFileSync(file, 'utf8') };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new StressUsageError(
        `${file}: cannot read it: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a directory' : (e as Error).message}`,
      );
    }
  });
  let merged;
  try {
    merged = mergeReports(inputs);
  } catch (e) {
    if (e instanceof MergeInputError) throw new StressUsageError(e.message);
    throw e;
  }
  for (const w of merged.warnings) err.write(`klpsim stress merge: warning: ${w}\n`);
  const { report, results } = merged;
  if (o.json) out.write(JSON.stringify(report, null, 2) + '\n');
  else {
    out.write(renderSummary(results, report.totals));
    for (const r of results) if (r.violations > 0) out.write('\n' + renderFailure(r));
    const s = report.shrunk;
    if (s) {
      out.write(`\nshrunk seed ${s.seed} to ${s.ops.length} op(s) still failing '${s.check}' (${s.runs} candidate runs):\n`);
      s.ops.forEach((x, i) => out.write(`  ${i + 1}. ${x}\n`));
      out.write(`  replay: ${s.command}\n`);
    }
  }
  return report.totals.violations > 0 || results.some((r) => r.hang || r.error) ? 1 : 0;
}
