/**
 * What a stress command reports: the results of its runs (one per seed) added up — ops per kind, checks
 * run and violations per invariant, wall time, ops/s — as a table for people or JSON for machines, and
 * for a failing seed the command that replays it.
 */
import { DEFAULT_KERNEL_VERSION } from '../kernel/kernel-version';
import { describeBlockingTask } from '../livepatch/transition';
import { CHECK_NAMES } from './invariants';
import { OP_KINDS, OpKind } from './ops';
import type { StressResult } from './stress-run';

export interface StressTotals {
  runs: number;
  ops: number;
  opsByKind: Record<OpKind, number>;
  checks: Record<string, number>;
  violationsByCheck: Record<string, number>;
  violations: number;
  wallMs: number;
  opsPerSec: number;
  simNs: number;
  failingSeeds: number[];
}

/**
 * `opsPerSec` defaults to ops over the wall time; a merge passes its own (the shards' rates added, as
 * they ran side by side).
 */
export function totals(results: StressResult[], wallMs: number, opsPerSec?: number): StressTotals {
  const opsByKind = Object.fromEntries(OP_KINDS.map((k) => [k, 0])) as Record<OpKind, number>;
  const checks: Record<string, number> = Object.fromEntries(CHECK_NAMES.map((c) => [c, 0]));
  const violationsByCheck: Record<string, number> = {};
  let ops = 0;
  let violations = 0;
  let simNs = 0;
  for (const r of results) {
    ops += r.ops.length;
    violations += r.violations;
    simNs += r.simNs;
    for (const [k, n] of Object.entries(r.opsByKind)) opsByKind[k as OpKind] += n;
    for (const [k, n] of Object.entries(r.checks)) checks[k] = (checks[k] ?? 0) + n;
    for (const [k, n] of Object.entries(r.violationsByCheck)) violationsByCheck[k] = (violationsByCheck[k] ?? 0) + n;
  }
  return {
    runs: results.length,
    ops,
    opsByKind,
    checks,
    violationsByCheck,
    violations,
    wallMs,
    opsPerSec: opsPerSec ?? (wallMs > 0 ? ops / (wallMs / 1000) : 0),
    simNs,
    failingSeeds: results.filter((r) => r.violations > 0).map((r) => r.seed),
  };
}

/** The flags that recreate a run of `r`'s seed, stopping after op `upTo` (1-based count). */
export function replayCommand(r: StressResult, upTo: number, replayOps?: string[]): string {
  const o = r.options;
  const parts = ['klpsim stress', `--cpus ${o.cpus}`, `--tasks ${o.tasks}`, `--seed ${r.seed}`];
  if (replayOps) parts.push(`--replay-ops '${replayOps.join('; ').replace(/'/g, `'\\''`)}'`);
  else parts.push(`--ops ${upTo}`);
  for (const f of o.faults) parts.push(`--inject ${f}`);
  if (o.shadow && !o.faults.includes('shadow-free-no-rcu')) parts.push('--workload shadow');
  if (!o.nopRemoval) parts.push('--no-nop-removal');
  if (o.unwinder && o.unwinder !== 'orc') parts.push(`--unwinder ${o.unwinder}`);
  if (o.kernelVersion && o.kernelVersion !== DEFAULT_KERNEL_VERSION) parts.push(`--kernel-version ${o.kernelVersion}`);
  if (o.deterministic) parts.push('--deterministic');
  return parts.join(' ');
}

const pad = (s: string | number, n: number): string => String(s).padStart(n);

/** `seed 3`, `seeds 1..8`, or, for a merge with gaps, `seeds 1..4, 9..12`. */
export function describeSeeds(seeds: number[]): string {
  const sorted = [...seeds].sort((a, b) => a - b);
  if (sorted.length === 1) return `seed ${sorted[0]}`;
  const ranges: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    ranges.push(i === j ? `${sorted[i]}` : `${sorted[i]}..${sorted[j]}`);
    i = j + 1;
  }
  return `seeds ${ranges.join(', ')}`;
}

export function renderSummary(results: StressResult[], t: StressTotals): string {
  const out: string[] = [];
  const o = results[0]?.options;
  if (o) {
    out.push(
      `klpsim stress: ${o.cpus} CPUs, ${o.tasks} tasks, ${t.runs} run(s) (${describeSeeds(results.map((r) => r.seed))}), ` +
        `faults: ${o.faults.join(', ') || 'none'}, ${o.shadow ? 'shadow workload, ' : ''}NOP removal ${o.nopRemoval ? 'on' : 'off'}, ${o.deterministic ? 'deterministic (lockstep)' : 'worker threads'}` +
        (o.unwinder && o.unwinder !== 'orc' ? `, unwinder ${o.unwinder}` : '') +
        (o.kernelVersion && o.kernelVersion !== DEFAULT_KERNEL_VERSION ? `, kernel ${o.kernelVersion}` : ''),
    );
  }
  out.push('', 'ops                      count');
  for (const k of OP_KINDS) if (t.opsByKind[k]) out.push(`  ${k.padEnd(20)}${pad(t.opsByKind[k], 8)}`);
  out.push(`  ${'total'.padEnd(20)}${pad(t.ops, 8)}   ${t.opsPerSec.toFixed(1)} ops/s`);
  out.push('', 'invariant                 checks run   violations');
  // Then the checks of optional workloads (`shadow`) and any other check a violation was counted under.
  const names = [...new Set<string>([...CHECK_NAMES, ...Object.keys(t.checks), ...Object.keys(t.violationsByCheck)])];
  for (const c of names) out.push(`  ${c.padEnd(22)}${pad(t.checks[c] ?? '-', 12)}${pad(t.violationsByCheck[c] ?? 0, 13)}`);
  const blocked = results.flatMap((r) => r.blocked.map((b) => ({ seed: r.seed, ...b })));
  if (blocked.length > 0) {
    out.push('', `transitions reported blocked (then signalled, forced or finished): ${blocked.length}`);
    for (const b of blocked.slice(0, 3)) {
      out.push(`  seed ${b.seed}: '${b.patch}' after ${b.forMs} ms, blocked by ${b.tasks.map(describeBlockingTask).join(', ')}`);
    }
  }
  out.push(
    '',
    `wall time ${(t.wallMs / 1000).toFixed(1)} s, simulated ${(t.simNs / 1e9).toFixed(3)} s, ${t.ops} ops, ${t.opsPerSec.toFixed(1)} ops/s`,
  );
  for (const r of results) {
    if (r.hang) out.push(`seed ${r.seed}: a CPU thread hung: ${r.hang}`);
    else if (r.error) out.push(`seed ${r.seed}: the run stopped early: ${r.error}`);
  }
  out.push(t.violations === 0 ? 'result: no violation' : `result: ${t.violations} violation(s) in seed(s) ${t.failingSeeds.join(', ')}`);
  return out.join('\n') + '\n';
}

/** The report of one failing run: its first violations, the ops before them, and how to replay it. */
export function renderFailure(r: StressResult): string {
  const out: string[] = [];
  const first = r.firstViolations[0];
  const upTo = Math.max(1, first ? first.op + 1 : r.ops.length);
  out.push(`seed ${r.seed}: ${r.violations} violation(s), the first after ${((first?.wallMs ?? 0) / 1000).toFixed(1)} s`);
  for (const v of r.firstViolations.slice(0, 5))
    out.push(`  violation: ${v.check}: ${v.message} (after op ${v.op + 1}${v.op >= 0 ? `: ${r.ops[v.op]?.text}` : ''})`);
  const lead = r.ops.slice(Math.max(0, upTo - 5), upTo);
  if (lead.length) out.push(`  the ops leading to it: ${lead.map((x, i) => `${upTo - lead.length + i + 1}. ${x.text}`).join(' | ')}`);
  out.push(`  replay: ${replayCommand(r, upTo, r.replayed ? r.ops.slice(0, upTo).map((x) => x.text) : undefined)}`);
  if (!r.options.deterministic && !r.replayed) {
    out.push('  (worker threads interleave differently on every run: the ops are seeded, but which tasks are where is not;');
    out.push(
      `   the exact ops: ${replayCommand(
        r,
        upTo,
        r.ops.slice(0, upTo).map((x) => x.text),
      )})`,
    );
  }
  return out.join('\n') + '\n';
}
