/**
 * Transition latency: from klp_enable_patch() to "patching complete", for N kernel threads that keep
 * calling the patched function (and sleep 1 ms between calls), on 4 CPU worker threads. Reported in
 * simulated time (what the kernel would see: dominated by the 1 s retry of the transition work) and in
 * real time (what the simulation costs).
 */
import { Machine } from '../coordinator/machine';
import { workerModule } from '../coordinator/worker-entry';
import { Livepatch } from '../livepatch/livepatch';

const FUNC = `push rbp\nmov rbp, rsp\nlea rax, [rdi + 1]\npop rbp\nret`;

export interface LatencyResult {
  tasks: number;
  simMs: number;
  realMs: number;
}

export async function measureTransition(tasks: number, cpus = 4): Promise<LatencyResult> {
  const m = await Machine.create({
    cpus,
    maxTasks: tasks + 8,
    hooksModule: workerModule(`${__dirname}/../livepatch`, 'klp-ftrace-handler'),
  });
  try {
    m.loader.load('vmlinux', [{ name: 'target', source: FUNC }]);
    m.loader.load('lp', [{ name: 'lp_target', source: FUNC }]);
    const klp = new Livepatch(m);
    for (let i = 0; i < tasks; i++)
      await m.spawn({
        name: `t/${i}`,
        run: [
          { kind: 'call', func: 'target', args: [] },
          { kind: 'sleep', ms: 1 },
        ],
      });
    await m.sleep(5);
    const sim0 = m.now;
    const t0 = performance.now();
    await klp.enablePatch(
      { mod: 'lp', replace: false, objs: [{ name: null, funcs: [{ old_name: 'target', new_name: 'lp_target' }] }] },
      { isLoaded: () => true },
    );
    while (klp.inTransition()) await m.sleep(10);
    return { tasks, simMs: (m.now - sim0) / 1e6, realMs: performance.now() - t0 };
  } finally {
    await m.dispose();
  }
}
