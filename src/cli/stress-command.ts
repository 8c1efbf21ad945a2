/**
 * `klpsim stress` (SPEC section 1): runs seeded random livepatch operations under load with invariant
 * checks, one run per seed (--runs, default --jobs), --jobs at a time; prints a progress line on a TTY,
 * then the summary table (or --json), and for each failing seed its violations and a replay command.
 * --shrink reduces the first failing seed's ops to a short failing sequence. Exit: 0 no violation,
 * 1 a violation (or a CPU thread that hung or crashed), 2 bad input.
 */
import type { Unwinder } from '../kernel/stack-walk';
import type { KernelVersion } from '../kernel/kernel-version';
import type { KlpFault } from '../livepatch/klp-state';
import { parseOp, StressOp } from '../stress/ops';
import { defaultJobs, runSeeds } from '../stress/pool';
import { REPORT_FORMAT, resultJson, ShrunkJson, StressReportJson } from '../stress/report-json';
import { parseShard, Shard, shardSeeds, shardSize } from '../stress/shard';
import { shrink } from '../stress/shrink';
import { StressOptions } from '../stress/stress-run';
import { renderFailure, renderSummary, replayCommand, totals } from '../stress/summary';
import { LIVEPATCHES, patchName } from '../stress/workload';
import { MAX_CPUS } from '../mem/layout';
import { MAX_SEED } from '../util/prng';

export const FAULTS: KlpFault[] = [
  'skip-rcu-sync',
  'skip-text-poke-bp',
  'early-free',
  'skip-stack-check',
  'early-transition-clear',
  'trust-unreliable-stack',
  'switch-kthreads-at-exit',
  'shadow-free-no-rcu',
];

/**
 * `--workload`: `default`, or `shadow`, which adds patched code allocating, reading and freeing shadow
 * variables on every CPU (src/stress/shadow-workload.ts) and the `shadow` check.
 */
export const WORKLOADS = ['default', 'shadow'] as const;
export type WorkloadName = (typeof WORKLOADS)[number];

export interface StressCliOptions {
  cpus: number;
  tasks: number;
  ops?: number;
  duration?: string;
  seed: number;
  /** Default: what the machine's cores take (defaultJobs()). */
  jobs?: number;
  runs?: number;
  /** `I/N`: run only the I-th of N slices of the seeds. */
  shard?: string;
  inject: string[];
  /** Default `default`; `--inject shadow-free-no-rcu` implies `shadow` (nothing else would reach the fault). */
  workload?: string;
  deterministic: boolean;
  nopRemoval: boolean;
  unwinder: Unwinder;
  kernelVersion?: KernelVersion;
  json: boolean;
  shrink: boolean;
  replayOps?: string;
}

export class StressUsageError extends Error {}

/** Tasks per stress run: the machine's 256 task slots less what the workload's module and patches start. */
export const MAX_STRESS_TASKS = 200;

/** "60s", "2m", "500ms", or a plain number of seconds. */
export function parseDuration(v: string): number {
  const m = v.trim().match(/^(\d+(?:\.\d+)?)\s*(ms|s|m|min)?$/);
  if (!m) throw new StressUsageError(`--duration: '${v}' is not a duration (e.g. 30s, 2m, 500ms)`);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return unit === 'ms' ? n : unit === 's' ? n * 1000 : n * 60_000;
}

/** Runs one stress command performs at most: at ~1 s a run, more than a day on one machine. */
export const MAX_STRESS_RUNS = 100_000;

export async function stressCommand(o: StressCliOptions, out = process.stdout, err = process.stderr): Promise<number> {
  if (o.cpus < 1 || o.cpus > MAX_CPUS) throw new StressUsageError(`--cpus must be between 1 and ${MAX_CPUS}`);
  if (o.tasks < 1 || o.tasks > MAX_STRESS_TASKS) throw new StressUsageError(`--tasks must be between 1 and ${MAX_STRESS_TASKS}`);
  if (o.jobs !== undefined && (o.jobs < 1 || o.jobs > MAX_CPUS)) throw new StressUsageError(`--jobs must be between 1 and ${MAX_CPUS}`);
  // Seeds seed, seed+1, …: as many as --runs, else as --jobs if given (a run per job), else one.
  const runs = o.runs ?? o.jobs ?? 1;
  // The last seed must still be a seed of its own, not an alias of a small one.
  if (o.seed + runs - 1 > MAX_SEED)
    throw new StressUsageError(`--seed ${o.seed} with ${runs} run(s) goes past the largest seed, ${MAX_SEED}`);
  let shard: Shard | null = null;
  if (o.shard !== undefined) {
    const p = parseShard(o.shard);
    if (typeof p === 'string') throw new StressUsageError(p);
    // Every shard must slice the same sweep, whatever machine it lands on: its size cannot default to a
    // figure of this machine (--jobs) or be left implicit.
    if (o.runs === undefined)
      throw new StressUsageError(`--shard ${o.shard}: give --runs too, the number of seeds in the whole sweep (the same in every shard)`);
    if (p.count > runs)
      throw new StressUsageError(`--shard ${o.shard}: ${runs} run(s) cannot make ${p.count} shards of at least one seed each`);
    shard = p;
  }
  // One command keeps every run's result (its ops, for the report and --shrink) until it prints them.
  if (shardSize({ seed: o.seed, runs }, shard) > MAX_STRESS_RUNS)
    throw new StressUsageError(
      shard
        ? `--shard ${o.shard} of ${runs} runs is more than ${MAX_STRESS_RUNS} runs (one command keeps every run's result; use more shards)`
        : `--runs must be between 1 and ${MAX_STRESS_RUNS} (one command keeps every run's result; run a larger seed range as several commands, e.g. with --shard)`,
    );
  if (o.ops !== undefined && o.duration !== undefined) throw new StressUsageError('give --ops or --duration, not both');
  const bad = o.inject.filter((f) => !FAULTS.includes(f as KlpFault));
  if (bad.length) throw new StressUsageError(`--inject: unknown fault '${bad[0]}' (one of ${FAULTS.join(', ')})`);
  const workload = o.workload ?? 'default';
  if (!WORKLOADS.includes(workload as WorkloadName))
    throw new StressUsageError(`--workload: unknown workload '${workload}' (one of ${WORKLOADS.join(', ')})`);
  const shadow = workload === 'shadow' || o.inject.includes('shadow-free-no-rcu');
  // The shadow part adds a task per CPU to the run's task slots.
  if (shadow && o.tasks + o.cpus > MAX_STRESS_TASKS)
    throw new StressUsageError(
      `--workload shadow adds a task per CPU: --tasks ${o.tasks} with --cpus ${o.cpus} is more than ${MAX_STRESS_TASKS} tasks`,
    );
  let replay: StressOp[] | undefined;
  if (o.replayOps !== undefined) {
    const isPatch = (m: string): boolean => Array.from({ length: LIVEPATCHES }, (_, k) => patchName(k)).includes(m);
    replay = [];
    for (const [i, text] of o.replayOps
      .split(';')
      .map((x) => x.trim())
      .filter(Boolean)
      .entries()) {
      const p = parseOp(text, isPatch);
      if (typeof p === 'string') throw new StressUsageError(`--replay-ops: op ${i + 1}: ${p}`);
      replay.push(p);
    }
  }
  const durationMs = o.duration !== undefined ? parseDuration(o.duration) : undefined;
  const base: Omit<StressOptions, 'onProgress' | 'seed'> = {
    cpus: o.cpus,
    tasks: o.tasks,
    ops: durationMs === undefined && !replay ? (o.ops ?? 100) : o.ops,
    durationMs,
    deterministic: o.deterministic,
    nopRemoval: o.nopRemoval,
    ...(shadow ? { shadow } : {}),
    unwinder: o.unwinder,
    // A string: the options cross to the piscina threads by structured clone.
    kernelVersion: o.kernelVersion?.toString(),
    faults: o.inject as KlpFault[],
    replay,
  };
  const sweep = { seed: o.seed, runs };
  const seeds = shardSeeds(sweep, shard);
  const jobs = Math.min(seeds.length, o.jobs ?? defaultJobs(o.cpus, o.deterministic));
  const tty = Boolean((err as NodeJS.WriteStream).isTTY) && !o.json;
  const started = performance.now();
  let lastDraw = 0;
  const results = await runSeeds(base, seeds, jobs, (p) => {
    if (!tty) return;
    const now = performance.now();
    if (now - lastDraw < 100 && p.done < p.runs) return;
    lastDraw = now;
    const secs = (now - started) / 1000;
    err.write(
      `\r\x1b[2K[stress] runs ${p.done}/${p.runs} · ops ${p.ops} · violations ${p.violations} · ${(p.ops / Math.max(secs, 0.001)).toFixed(1)} ops/s · ${secs.toFixed(0)} s`,
    );
  });
  if (tty) err.write('\r\x1b[2K');
  const t = totals(results, Math.round(performance.now() - started));
  const failing = results.filter((r) => r.violations > 0);
  let shrunk: ShrunkJson | null = null;
  if (o.shrink && failing.length > 0) {
    const f = failing[0];
    if (tty) err.write(`[stress] shrinking seed ${f.seed}…\n`);
    const s = await shrink(f, { ...base, seed: f.seed, ops: undefined, durationMs: undefined });
    shrunk = {
      seed: f.seed,
      ops: s.ops.map((x) => x.text),
      check: s.check,
      runs: s.runs,
      command: replayCommand(
        f,
        s.ops.length,
        s.ops.map((x) => x.text),
      ),
    };
  }
  if (o.json) {
    const report: StressReportJson = { format: REPORT_FORMAT, sweep, shard, totals: t, results: results.map(resultJson), shrunk };
    out.write(JSON.stringify(report, null, 2) + '\n');
  } else {
    out.write(renderSummary(results, t));
    for (const r of failing) out.write('\n' + renderFailure(r));
    if (shrunk) {
      out.write(
        `\nshrunk seed ${shrunk.seed} to ${shrunk.ops.length} op(s) still failing '${shrunk.check}' (${shrunk.runs} candidate runs):\n`,
      );
      shrunk.ops.forEach((x, i) => out.write(`  ${i + 1}. ${x}\n`));
      out.write(`  replay: ${shrunk.command}\n`);
    }
  }
  return t.violations > 0 || results.some((r) => r.hang || r.error) ? 1 : 0;
}
