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
import { runSeeds } from '../stress/pool';
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
];

export interface StressCliOptions {
  cpus: number;
  tasks: number;
  ops?: number;
  duration?: string;
  seed: number;
  jobs: number;
  runs?: number;
  inject: string[];
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
  if (o.jobs < 1 || o.jobs > MAX_CPUS) throw new StressUsageError(`--jobs must be between 1 and ${MAX_CPUS}`);
  // One command keeps every run's result (its ops, for the report and --shrink) until it prints them.
  if (o.runs !== undefined && o.runs > MAX_STRESS_RUNS)
    throw new StressUsageError(
      `--runs must be between 1 and ${MAX_STRESS_RUNS} (one command keeps every run's result; run a larger seed range as several commands)`,
    );
  // Seeds seed, seed+1, …: the last must still be a seed of its own, not an alias of a small one.
  if (o.seed + (o.runs ?? o.jobs) - 1 > MAX_SEED)
    throw new StressUsageError(`--seed ${o.seed} with ${o.runs ?? o.jobs} run(s) goes past the largest seed, ${MAX_SEED}`);
  if (o.ops !== undefined && o.duration !== undefined) throw new StressUsageError('give --ops or --duration, not both');
  const bad = o.inject.filter((f) => !FAULTS.includes(f as KlpFault));
  if (bad.length) throw new StressUsageError(`--inject: unknown fault '${bad[0]}' (one of ${FAULTS.join(', ')})`);
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
    unwinder: o.unwinder,
    // A string: the options cross to the piscina threads by structured clone.
    kernelVersion: o.kernelVersion?.toString(),
    faults: o.inject as KlpFault[],
    replay,
  };
  const runs = o.runs ?? o.jobs;
  const seeds = Array.from({ length: runs }, (_, i) => o.seed + i);
  const tty = Boolean((err as NodeJS.WriteStream).isTTY) && !o.json;
  const started = performance.now();
  let lastDraw = 0;
  const results = await runSeeds(base, seeds, o.jobs, (p) => {
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
  let shrunk: { seed: number; ops: string[]; check: string; runs: number; command: string } | null = null;
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
    out.write(
      JSON.stringify(
        {
          totals: t,
          results: results.map((r) => ({
            ...r,
            ops: r.ops.map((x) => x.text),
            replay: r.violations ? replayCommand(r, (r.firstViolations[0]?.op ?? r.ops.length - 1) + 1) : null,
          })),
          shrunk,
        },
        null,
        2,
      ) + '\n',
    );
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
