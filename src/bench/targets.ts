/**
 * The benchmarks with a target (issue #13), as a registry: each entry measures one thing and returns its
 * lines, each with the figure, the target it is held to and whether it is met. `klpsim bench` runs them
 * all after the figures of SPEC section 6; a new benchmark with a target is one more entry in TARGETS.
 *
 * Sizes: `full` is what `npm run bench` uses (a few minutes in all on 2 cores); `tiny` only proves the
 * code runs (the smoke test).
 */
import { FAULTS } from '../cli/stress-command';
import type { KlpFault } from '../livepatch/klp-state';
import { runStress } from '../stress/stress-run';
import { measureFaultDetection } from './fault-detection';
import { measurePlatformRatio } from './platform-ratio';
import { measureSimRate } from './sim-rate';

export interface TargetLine {
  id: string;
  label: string;
  value: number;
  /** The figure as printed, with its unit. */
  shown: string;
  /** The target as the issue states it. */
  target: string;
  met: boolean;
  /** What else to know about the figure (a missed seed, violations). */
  note?: string;
}

export interface TargetSizes {
  /** Simulated ms of the busy-CPU cases (timed), and of the warm-up before them (reported as start-up). */
  busySimMs: number;
  warmupSimMs: number;
  /** Alternations of workers and lockstep per case (medians). */
  platformRounds: number;
  /** CPUs (and tasks) of the many-CPUs case, and its warm-up (simulated ms: see platform-ratio.ts). */
  manyCpus: number;
  manyWarmupSimMs: number;
  /** Simulated ms of the busy user task. */
  rateSimMs: number;
  /** Real ms of the stress throughput run. */
  stressMs: number;
  faultSeeds: number[];
  /** A fault not caught within this (real ms) is a miss. */
  faultCapMs: number;
  faults: readonly KlpFault[];
}

export const FULL: TargetSizes = {
  busySimMs: 100,
  warmupSimMs: 20,
  platformRounds: 3,
  manyCpus: 64,
  manyWarmupSimMs: 600,
  rateSimMs: 20,
  stressMs: 15_000,
  faultSeeds: [1, 2, 3, 4, 5],
  faultCapMs: 10_000,
  faults: FAULTS,
};

export const TINY: TargetSizes = {
  busySimMs: 1,
  warmupSimMs: 1,
  platformRounds: 1,
  manyCpus: 4,
  manyWarmupSimMs: 1,
  rateSimMs: 1,
  stressMs: 500,
  faultSeeds: [1],
  faultCapMs: 500,
  faults: ['skip-stack-check'],
};

export interface TargetEntry {
  id: string;
  /** The heading printed above its lines. */
  title: string;
  run(sizes: TargetSizes): Promise<TargetLine[]>;
}

const x = (v: number): string => `${v.toFixed(2)}x`;
const s = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
const s2 = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

export const TARGETS: TargetEntry[] = [
  {
    id: 'platform',
    title: 'worker threads vs lockstep (the same simulated work; speed-up = lockstep time / worker time)',
    async run(z) {
      const one = await measurePlatformRatio('one-busy', z.busySimMs, z.manyCpus, z.warmupSimMs, z.platformRounds);
      const all = await measurePlatformRatio('all-busy', z.busySimMs, z.manyCpus, z.warmupSimMs, z.platformRounds);
      const many = await measurePlatformRatio('64-cpus', z.busySimMs, z.manyCpus, z.manyWarmupSimMs, z.platformRounds);
      const detail = (r: typeof one): string =>
        `workers ${s2(r.workerMs)} (CPU ${s2(r.workerCpuMs)}), lockstep ${s2(r.lockstepMs)} (CPU ${s2(r.lockstepCpuMs)}) for ` +
        `${r.simMs.toFixed(0)} simulated ms, median of ${r.rounds}; start-up with ${r.warmupMs.toFixed(0)} ms of warm-up: ` +
        `workers ${s2(r.workerStartupMs)}, lockstep ${s2(r.lockstepStartupMs)}`;
      return [
        {
          id: 'platform.one-busy',
          label: '4 CPUs, one busy',
          value: one.speedup,
          shown: x(one.speedup),
          target: '>= 0.9x',
          met: one.speedup >= 0.9,
          note: detail(one),
        },
        {
          id: 'platform.all-busy',
          label: '4 CPUs, all busy',
          value: all.speedup,
          shown: x(all.speedup),
          target: '>= 1.7x',
          met: all.speedup >= 1.7,
          note: detail(all),
        },
        {
          id: 'platform.64-cpus',
          label: `${z.manyCpus} CPUs, ${z.manyCpus} tasks (worker time / lockstep)`,
          value: many.workerMs / many.lockstepMs,
          shown: x(many.workerMs / many.lockstepMs),
          target: '<= 1.2x',
          met: many.workerMs / many.lockstepMs <= 1.2,
          note: detail(many),
        },
      ];
    },
  },
  {
    id: 'sim-rate',
    title: 'simulated time: a user task calling a patched 2-instruction function back to back (worker threads)',
    async run(z) {
      const r = await measureSimRate(z.rateSimMs);
      return [
        {
          id: 'sim-rate.busy-user',
          label: 'real time per simulated second',
          value: r.realPerSim,
          shown: `${r.realPerSim.toFixed(1)} s`,
          target: '<= 10 s',
          met: r.realPerSim <= 10,
          note: `${r.simMs.toFixed(1)} simulated ms in ${s(r.realMs)}`,
        },
      ];
    },
  },
  {
    id: 'stress',
    title: 'klpsim stress --cpus 4 --tasks 32 (worker threads, seed 1)',
    async run(z) {
      const r = await runStress({
        cpus: 4,
        tasks: 32,
        seed: 1,
        durationMs: z.stressMs,
        deterministic: false,
        nopRemoval: true,
        faults: [],
      });
      const opsPerSec = r.ops.length / (r.wallMs / 1000);
      return [
        {
          id: 'stress.ops-per-sec',
          label: 'ops per second, no violation',
          value: opsPerSec,
          shown: `${opsPerSec.toFixed(1)} ops/s`,
          target: '>= 40 ops/s, 0 violations',
          met: opsPerSec >= 40 && r.violations === 0,
          note: `${r.ops.length} ops in ${s(r.wallMs)}, ${r.violations} violation(s), ${(r.simNs / 1e9).toFixed(3)} s simulated`,
        },
      ];
    },
  },
  {
    id: 'faults',
    title: 'time to detection per --inject fault (stress --cpus 4 --tasks 32, worker threads; median over seeds)',
    async run(z) {
      const r = await measureFaultDetection({ faults: z.faults, seeds: z.faultSeeds, capMs: z.faultCapMs });
      return r.map((f) => ({
        id: `faults.${f.fault}`,
        label: f.fault,
        value: f.medianMs,
        shown: `${f.missed * 2 > f.seeds.length ? '> ' : ''}${s(f.medianMs)}`,
        target: '<= 5 s',
        met: f.medianMs <= 5000 && f.missed * 2 < f.seeds.length,
        note: `seeds ${f.seeds.join(',')}: ${f.ms.map((v) => (v === null ? `none in ${s(z.faultCapMs)}` : s(v))).join(', ')}`,
      }));
    },
  },
];

/** The transition-latency target, on the figure the section-6 benchmark already measured. */
export function transitionTarget(tasks: number, realMs: number): TargetLine {
  return {
    id: `transition.${tasks}`,
    label: `transition latency, ${tasks} tasks (real time)`,
    value: realMs,
    shown: s(realMs),
    target: '<= 1 s',
    met: realMs <= 1000,
  };
}

export async function runTargets(sizes: TargetSizes, only?: (id: string) => boolean): Promise<{ title: string; lines: TargetLine[] }[]> {
  const out: { title: string; lines: TargetLine[] }[] = [];
  for (const e of TARGETS) if (!only || only(e.id)) out.push({ title: e.title, lines: await e.run(sizes) });
  return out;
}

export function renderTargets(sections: { title: string; lines: TargetLine[] }[]): string {
  const out: string[] = [];
  for (const sec of sections) {
    out.push(sec.title);
    for (const l of sec.lines)
      out.push(
        `  ${l.label.padEnd(44)} ${l.shown.padStart(10)}  target ${l.target.padEnd(26)} ${l.met ? 'met' : 'NOT met'}${l.note ? `  (${l.note})` : ''}`,
      );
  }
  return out.join('\n') + '\n';
}
