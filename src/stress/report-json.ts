/**
 * The document `klpsim stress --json` prints and `klpsim stress merge` reads and prints: the totals, every
 * run's result (ops as the text a user would type), the shrunk failure if any, and where the seeds came
 * from — the sweep (first seed, runs) and which shard of it this is — so that a merge can tell shards of
 * one sweep apart from unrelated files and name a missing shard.
 */
import type { Shard, Sweep } from './shard';
import type { StressResult } from './stress-run';
import { replayCommand, StressTotals } from './summary';

/** Marks a document as a klpsim stress result, in this layout. */
export const REPORT_FORMAT = 'klpsim-stress/1';

export type StressResultJson = Omit<StressResult, 'ops'> & { ops: string[]; replay: string | null };

export interface ShrunkJson {
  seed: number;
  ops: string[];
  check: string;
  runs: number;
  command: string;
}

export interface MergedInput {
  file: string;
  shard: Shard | null;
}

export interface StressReportJson {
  format: typeof REPORT_FORMAT;
  /** The seed range the command was given; null for a merge of files from different sweeps. */
  sweep: Sweep | null;
  /** The slice of the sweep this document holds (null: all of it, or a merge). */
  shard: Shard | null;
  /** For a merge: the files it combined, in the order given. */
  merged?: MergedInput[];
  totals: StressTotals;
  results: StressResultJson[];
  shrunk: ShrunkJson | null;
}

export function resultJson(r: StressResult): StressResultJson {
  return {
    ...r,
    ops: r.ops.map((x) => x.text),
    replay: r.violations ? replayCommand(r, (r.firstViolations[0]?.op ?? r.ops.length - 1) + 1) : null,
  };
}
