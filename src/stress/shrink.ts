/**
 * --shrink: reduce a failing run's ops to a short sequence that still fails the same check — delta
 * debugging (ddmin): try dropping chunks of the sequence, halving the chunk size whenever no chunk can go.
 * Each candidate is a fresh run of exactly those ops (--replay-ops), stopping at its first violation.
 *
 * With --deterministic a candidate's outcome is a function of its ops, so the result is exact. On worker
 * threads it is not: a candidate counts as failing if one of `tries` runs fails, and the result is a
 * sequence that *can* fail, not one that always does. Bounded by `maxRuns` candidate runs.
 */
import type { StressOp } from './ops';
import { runStress, StressOptions, StressResult } from './stress-run';

export interface ShrinkResult {
  ops: StressOp[];
  check: string;
  runs: number;
  /** The last failing run (for its report). */
  last: StressResult;
}

export async function shrink(
  failed: StressResult,
  base: StressOptions,
  maxRuns = 40,
  onStep?: (n: number, len: number) => void,
): Promise<ShrinkResult> {
  const first = failed.firstViolations[0];
  const check = first?.check ?? '';
  let ops = failed.ops.slice(0, Math.max(1, (first?.op ?? failed.ops.length - 1) + 1));
  let last = failed;
  let runs = 0;
  const tries = base.deterministic ? 1 : 2;

  const fails = async (candidate: StressOp[]): Promise<StressResult | null> => {
    for (let i = 0; i < tries && runs < maxRuns; i++) {
      runs++;
      const r = await runStress({ ...base, replay: candidate, stopOnViolation: true, onProgress: undefined });
      onStep?.(runs, candidate.length);
      if (r.violationsByCheck[check]) return r;
    }
    return null;
  };

  let n = 2;
  while (ops.length >= 2 && runs < maxRuns) {
    const size = Math.ceil(ops.length / n);
    let reduced = false;
    for (let start = 0; start < ops.length && runs < maxRuns; start += size) {
      const candidate = [...ops.slice(0, start), ...ops.slice(start + size)];
      if (candidate.length === 0) continue;
      const r = await fails(candidate);
      if (r) {
        ops = candidate;
        last = r;
        n = Math.max(n - 1, 2);
        reduced = true;
        break;
      }
    }
    if (!reduced) {
      if (size === 1) break;
      n = Math.min(ops.length, n * 2);
    }
  }
  return { ops, check, runs, last };
}
