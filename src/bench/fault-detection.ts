/**
 * Time to detection per injected fault: `klpsim stress --cpus 4 --tasks 32 --inject F` on worker threads,
 * stopped at its first violation, over several seeds; the figure is the median real time from the start
 * of the run (machine set-up included: what a user waits) to that violation. A run that finds nothing
 * within the cap counts as the cap and is reported as missed — a median is then a lower bound.
 *
 * Each fault runs with the unwinder it breaks (trust-unreliable-stack is a frame-pointer bug; ORC walks
 * the frameless leaf exactly and never trusts the walk it would fool).
 */
import type { KlpFault } from '../livepatch/klp-state';
import { runStress } from '../stress/stress-run';

export interface FaultDetection {
  fault: KlpFault;
  seeds: number[];
  /** Real ms to the first violation, per seed; null: none within the cap. */
  ms: (number | null)[];
  medianMs: number;
  missed: number;
}

export interface FaultDetectionOptions {
  faults: readonly KlpFault[];
  seeds: number[];
  capMs: number;
  cpus?: number;
  tasks?: number;
  /** Lockstep instead of worker threads. */
  deterministic?: boolean;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export async function measureFaultDetection(o: FaultDetectionOptions): Promise<FaultDetection[]> {
  const out: FaultDetection[] = [];
  for (const fault of o.faults) {
    const ms: (number | null)[] = [];
    const seeds: number[] = [];
    for (const seed of o.seeds) {
      // Once most seeds have missed, the median is the cap whatever the rest do: spare their time.
      if (ms.filter((v) => v === null).length * 2 > o.seeds.length) break;
      seeds.push(seed);
      const r = await runStress({
        cpus: o.cpus ?? 4,
        tasks: o.tasks ?? 32,
        seed,
        durationMs: o.capMs,
        deterministic: o.deterministic ?? false,
        nopRemoval: true,
        unwinder: fault === 'trust-unreliable-stack' ? 'frame-pointer' : 'orc',
        faults: [fault],
        // As `--inject shadow-free-no-rcu` implies `--workload shadow`: nothing else reaches the fault.
        shadow: fault === 'shadow-free-no-rcu',
        stopOnViolation: true,
      });
      const first = r.firstViolations[0];
      ms.push(first && first.wallMs <= o.capMs ? first.wallMs : null);
    }
    out.push({
      fault,
      seeds,
      ms,
      medianMs: median(ms.map((x) => x ?? o.capMs)),
      missed: ms.filter((x) => x === null).length,
    });
  }
  return out;
}
