/**
 * `--shard I/N`: the I-th of N slices of a sweep's seeds (seed … seed+runs−1), so that N machines (a
 * Kubernetes Indexed Job, a CI matrix) each run one slice and `klpsim stress merge` adds them up.
 *
 * Slices are contiguous blocks, sizes differing by at most one (shard I gets seeds
 * seed+⌊(I−1)·runs/N⌋ … seed+⌊I·runs/N⌋−1), and I counts from 1 as jest's and Playwright's --shard do.
 * Blocks rather than round-robin because a block is a seed range again: each shard's summary says
 * "seeds a..b", its replay commands need no list, and merged in shard order the results are in seed order,
 * so the first failing seed (the one --shrink reduces) is the unsharded run's first failing seed too. The
 * union of the N blocks is exactly the sweep, each seed in one block.
 */
export interface Shard {
  /** 1-based. */
  index: number;
  count: number;
}

export interface Sweep {
  seed: number;
  runs: number;
}

/** Parses `I/N`; returns the problem as text for the caller's usage error. */
export function parseShard(text: string): Shard | string {
  const m = text.trim().match(/^(\d+)\/(\d+)$/);
  if (!m) return `--shard: '${text}' is not I/N (e.g. 1/4: the first of 4 slices of the seeds)`;
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1) return `--shard ${text}: N must be at least 1`;
  if (index < 1 || index > count)
    return `--shard ${text}: I counts from 1 to N (with a 0-based index such as JOB_COMPLETION_INDEX, pass $((INDEX + 1))/${count})`;
  return { index, count };
}

/** Where one shard's block starts and ends in the sweep: [from, to), 0-based. */
function shardBlock(sweep: Sweep, shard: Shard | null): { from: number; to: number } {
  const from = shard ? Math.floor(((shard.index - 1) * sweep.runs) / shard.count) : 0;
  const to = shard ? Math.floor((shard.index * sweep.runs) / shard.count) : sweep.runs;
  return { from, to };
}

/** How many seeds one shard runs (what one command must hold the results of). */
export function shardSize(sweep: Sweep, shard: Shard | null): number {
  const { from, to } = shardBlock(sweep, shard);
  return to - from;
}

/** The seeds of one shard of the sweep, in order. */
export function shardSeeds(sweep: Sweep, shard: Shard | null): number[] {
  const { from, to } = shardBlock(sweep, shard);
  return Array.from({ length: to - from }, (_, i) => sweep.seed + from + i);
}
