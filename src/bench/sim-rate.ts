/**
 * How fast simulated time passes for a busy user task: issue #13's case, a user task calling a patched
 * 2-instruction function back to back (each pass a system call, each call through the ftrace handler to
 * the patch's 2-instruction version), on a 4-CPU machine of worker threads. Reported as real seconds per
 * simulated second, over the steady state (after a warm-up).
 */
import { Machine } from '../coordinator/machine';
import { workerModule } from '../coordinator/worker-entry';
import { Livepatch } from '../livepatch/livepatch';

export interface SimRate {
  simMs: number;
  realMs: number;
  /** Real seconds per simulated second. */
  realPerSim: number;
}

const TWO = `mov eax, 1\nret`;

export async function measureSimRate(simMs: number, deterministic = false): Promise<SimRate> {
  const m = await Machine.create({ cpus: 4, deterministic, hooksModule: workerModule(`${__dirname}/../livepatch`, 'klp-ftrace-handler') });
  try {
    m.loader.load('vmlinux', [{ name: 'two', source: TWO }]);
    m.loader.load('lp', [{ name: 'lp_two', source: TWO }]);
    const klp = new Livepatch(m);
    await klp.enablePatch(
      { mod: 'lp', replace: false, objs: [{ name: null, funcs: [{ old_name: 'two', new_name: 'lp_two' }] }] },
      { isLoaded: () => true },
    );
    while (klp.inTransition()) await m.sleep(10);
    await m.spawn({ name: 'busy_user', cpu: 0, kind: 'user', run: [{ kind: 'call', func: 'two', args: [] }] });
    // Warm-up: the block compiler and the JIT. Measured in 5-ms chunks (2026-12-02), the first costs 4-5x
    // each later one on both platforms (38 / 12 / 13 / 10 / 9 … s per simulated s on workers), so the
    // former 1-ms warm-up put most of the JIT's work into a 20-ms window.
    await m.sleep(5);
    const sim0 = m.now;
    const t0 = performance.now();
    await m.sleep(simMs);
    const realMs = performance.now() - t0;
    const sim = (m.now - sim0) / 1e6;
    return { simMs: sim, realMs, realPerSim: realMs / sim };
  } finally {
    await m.dispose();
  }
}
