/**
 * The machine the per-call benchmarks share (call-cost.ts, ftrace-list-cost.ts): one lockstep CPU (no
 * thread noise) whose only task, `hammer`, calls `target` CALLS_PER_PASS times a pass, and the livepatch
 * core ready to redirect it; a measurement is a stretch of real time after a warm-up of the JIT and the
 * decoded-instruction cache, counted in calls of `target`.
 */
import { Machine } from '../coordinator/machine';
import { workerModule } from '../coordinator/worker-entry';
import { TaskField } from '../mem/task-struct';
import { Livepatch } from '../livepatch/livepatch';

const CALLS_PER_PASS = 1000;
const TARGET = `push rbp\nmov rbp, rsp\nlea rax, [rdi + 1]\nimul rax, rax, 3\npop rbp\nret`;
const KERNEL = {
  target: TARGET,
  hammer: `push rbp\nmov rbp, rsp\npush rbx\nmov ebx, ${CALLS_PER_PASS}\nagain:\nmov edi, ebx\ncall target\ndec ebx\njnz again\npop rbx\npop rbp\nret`,
  // What a cumulative patch may change instead of `target` (which then gets a NOP).
  other: TARGET,
};

export interface CallHammer {
  readonly m: Machine;
  readonly klp: Livepatch;
  /** Loads module `mod` with a copy of `target` named `new_name` and enables a patch of `old_name` with it. */
  patch(mod: string, oldName: string, newName: string, replace: boolean): Promise<void>;
  /** Warms up, then runs `ms` of real time: host and simulated ns per call of `target`. */
  time(ms: number): Promise<{ realNsPerCall: number; simNsPerCall: number }>;
}

export async function withCallHammer<T>(nopRemoval: boolean, body: (h: CallHammer) => Promise<T>): Promise<T> {
  const m = await Machine.create({
    cpus: 1,
    deterministic: true,
    hooksModule: workerModule(`${__dirname}/../livepatch`, 'klp-ftrace-handler'),
  });
  try {
    m.loader.load(
      'vmlinux',
      Object.entries(KERNEL).map(([name, source]) => ({ name, source })),
    );
    const klp = new Livepatch(m, { retryMs: 1, nopRemoval });
    const modules = { isLoaded: (n: string) => m.loader.objects.has(n) };
    const t = await m.spawn({ name: 'hammer', cpu: 0, run: [{ kind: 'call', func: 'hammer', args: [] }] });
    const passes = (): number => t.view.get(TaskField.Passes);
    return await body({
      m,
      klp,
      async patch(mod, oldName, newName, replace) {
        m.loader.load(mod, [{ name: newName, source: TARGET }]);
        await klp.enablePatch({ mod, replace, objs: [{ name: null, funcs: [{ old_name: oldName, new_name: newName }] }] }, modules);
        while (klp.inTransition()) await m.sleep(1);
      },
      async time(ms) {
        const warm = passes() + 50;
        await m.waitFor(() => passes() >= warm, 'warm-up', 60_000);
        const p0 = passes();
        const s0 = m.now;
        const t0 = performance.now();
        await m.waitFor(() => performance.now() - t0 >= ms, 'measurement', ms + 60_000);
        const calls = (passes() - p0) * CALLS_PER_PASS;
        return { realNsPerCall: ((performance.now() - t0) * 1e6) / calls, simNsPerCall: (m.now - s0) / calls };
      },
    });
  } finally {
    await m.dispose();
  }
}
