/**
 * --jobs J: many seeds side by side, each in its own piscina thread with its own simulation (piscina fits
 * independent whole runs; the CPUs inside each run are plain worker threads, see ECOSYSTEM notes). With
 * one job the run stays on this thread. `atomics: 'disabled'`: a job leaves MessagePorts and CPU workers
 * behind it while it winds down, and an idle pool thread blocked in Atomics.wait would freeze them.
 *
 * Progress: each job posts its own counters on its port; this side keeps the latest per seed.
 */
import { availableParallelism } from 'node:os';
import { MessageChannel } from 'node:worker_threads';
import Piscina from 'piscina';
import { workerEntry } from '../coordinator/worker-entry';
import type { StressJob } from './job';
import { runStress, StressOptions, StressProgress, StressResult } from './stress-run';

/** The most jobs --jobs takes: each is a thread running a whole machine, so as bounded as CPUs. */
const MAX_JOBS = 64;

/**
 * --jobs when not given: every core busy, none oversubscribed. A lockstep run is one thread, so one job
 * per core; a run on worker threads keeps each of its simulated CPUs' threads busy (the workload gives
 * every CPU a task that never sleeps), so it takes min(cpus, cores) cores by itself. More jobs than that
 * only make the threads of all of them wait on each other at their clock windows.
 */
export function defaultJobs(cpus: number, deterministic: boolean, cores = availableParallelism()): number {
  const perRun = deterministic ? 1 : Math.min(cpus, cores);
  return Math.max(1, Math.min(MAX_JOBS, Math.floor(cores / perRun)));
}

export interface PoolProgress {
  ops: number;
  violations: number;
  done: number;
  runs: number;
}

export async function runSeeds(
  base: Omit<StressOptions, 'onProgress' | 'seed'>,
  seeds: number[],
  jobs: number,
  onProgress?: (p: PoolProgress) => void,
): Promise<StressResult[]> {
  const latest = new Map<number, StressProgress>();
  let done = 0;
  const report = (): void => {
    let ops = 0;
    let violations = 0;
    for (const p of latest.values()) {
      ops += p.ops;
      violations += p.violations;
    }
    onProgress?.({ ops, violations, done, runs: seeds.length });
  };
  const finished = (r: StressResult): StressResult => {
    latest.set(r.seed, { seed: r.seed, ops: r.ops.length, violations: r.violations });
    done++;
    report();
    return r;
  };

  if (jobs <= 1) {
    const results: StressResult[] = [];
    for (const seed of seeds) {
      results.push(finished(await runStress({ ...base, seed, onProgress: (p) => (latest.set(seed, p), report()) })));
    }
    return results;
  }

  const entry = workerEntry('stress-job');
  const pool = new Piscina({
    filename: entry.file,
    execArgv: entry.execArgv,
    minThreads: jobs,
    maxThreads: jobs,
    atomics: 'disabled',
    idleTimeout: 1000,
  });
  try {
    return await Promise.all(
      seeds.map(async (seed) => {
        const { port1, port2 } = new MessageChannel();
        port1.on('message', (p: StressProgress) => {
          latest.set(seed, p);
          report();
        });
        try {
          const job: StressJob = { options: { ...base, seed }, port: port2 };
          return finished((await pool.run(job, { transferList: [port2] })) as StressResult);
        } finally {
          port1.close();
        }
      }),
    );
  } finally {
    await pool.destroy();
  }
}
