/**
 * Worker threads against lockstep on the same simulated work: the real time each platform takes for it,
 * measured back to back in one run so the ratio compares like with like on a noisy machine.
 *   - `one-busy`: 4 CPUs, one busy kernel thread (the kernel-shaped loop of machine-throughput.ts) on CPU 0,
 *     the others idle — what a worker design must not lose (the idle CPUs must cost nothing);
 *   - `all-busy`: 4 CPUs, a busy kthread on each — where worker threads should win;
 *   - `64-cpus`: issue #13's scenario, 64 CPUs and 64 tasks, each calling a patched function and sleeping
 *     1 ms, for the same simulated time (a transition in it would take the kernel's 1 s retry, far longer
 *     than a benchmark should run: the patch is enabled before the tasks start).
 */
import { Machine } from '../coordinator/machine';
import { workerModule } from '../coordinator/worker-entry';
import { Livepatch } from '../livepatch/livepatch';
import { BUSY_KERNEL } from './machine-throughput';

export type PlatformCase = 'one-busy' | 'all-busy' | '64-cpus';

export interface PlatformRatio {
  case: PlatformCase;
  workerMs: number;
  lockstepMs: number;
  /** lockstep real time / worker real time: above 1, workers are faster. */
  speedup: number;
  simMs: number;
}

const FUNC = `push rbp\nmov rbp, rsp\nlea rax, [rdi + 1]\npop rbp\nret`;

async function busy(cpus: number, busyCpus: number, simMs: number, deterministic: boolean): Promise<number> {
  const m = await Machine.create({ cpus, deterministic });
  try {
    m.loader.load(
      'vmlinux',
      Object.entries(BUSY_KERNEL).map(([name, source]) => ({ name, source })),
    );
    for (let cpu = 0; cpu < busyCpus; cpu++)
      await m.spawn({ name: `busy/${cpu}`, cpu, kind: 'kthread', run: [{ kind: 'call', func: 'busy_loop', args: [] }] });
    const t0 = performance.now();
    await m.sleep(simMs);
    return performance.now() - t0;
  } finally {
    await m.dispose();
  }
}

async function manyCpus(cpus: number, simMs: number, deterministic: boolean): Promise<number> {
  const m = await Machine.create({
    cpus,
    deterministic,
    maxTasks: cpus + 8,
    hooksModule: workerModule(`${__dirname}/../livepatch`, 'klp-ftrace-handler'),
  });
  try {
    m.loader.load('vmlinux', [{ name: 'target', source: FUNC }]);
    m.loader.load('lp', [{ name: 'lp_target', source: FUNC }]);
    const klp = new Livepatch(m);
    await klp.enablePatch(
      { mod: 'lp', replace: false, objs: [{ name: null, funcs: [{ old_name: 'target', new_name: 'lp_target' }] }] },
      { isLoaded: () => true },
    );
    while (klp.inTransition()) await m.sleep(10);
    for (let i = 0; i < cpus; i++)
      await m.spawn({
        name: `t/${i}`,
        cpu: i,
        run: [
          { kind: 'call', func: 'target', args: [] },
          { kind: 'sleep', ms: 1 },
        ],
      });
    const t0 = performance.now();
    await m.sleep(simMs);
    return performance.now() - t0;
  } finally {
    await m.dispose();
  }
}

export async function measurePlatformRatio(c: PlatformCase, simMs: number, many = 64): Promise<PlatformRatio> {
  if (c === '64-cpus') {
    // Sleepers, not spinners: the same simulated time is far cheaper, so it runs longer.
    const sim = simMs * 5;
    const workerMs = await manyCpus(many, sim, false);
    const lockstepMs = await manyCpus(many, sim, true);
    return { case: c, workerMs, lockstepMs, speedup: lockstepMs / workerMs, simMs: sim };
  }
  const n = c === 'one-busy' ? 1 : 4;
  const workerMs = await busy(4, n, simMs, false);
  const lockstepMs = await busy(4, n, simMs, true);
  return { case: c, workerMs, lockstepMs, speedup: lockstepMs / workerMs, simMs };
}
