/**
 * M:N execution and the wake protocol (src/kernel/sim-clock.ts, src/kernel/cpu-thread.ts): many CPUs on
 * few threads give the same outcomes as lockstep, no wake-up is lost (a lost one would show as a sleep
 * that ran out its bound and then found work: lateWakes), and a CPU blocked on the coordinator's horizon
 * resumes as soon as that horizon moves.
 */
import { HeartbeatMonitor } from '../../src/coordinator/heartbeat';
import { Machine } from '../../src/coordinator/machine';
import { DEBUG_CPU_CRASH, DEBUG_CPU_HANG, GlobalField, PcpuField } from '../../src/mem/percpu';
import { expected, filterLog, runScenario } from '../scenarios/helpers';

const KERNEL = {
  tiny: 'push rbp\nmov rbp, rsp\npop rbp\nret',
  tinyloop: 'push rbp\nmov rbp, rsp\npush rbx\nmov ebx, 200\nagain:\ncall tiny\ndec ebx\njnz again\npop rbx\npop rbp\nret',
};

async function machine(cpus: number, cpuThreads: number): Promise<Machine> {
  const m = await Machine.create({ cpus, cpuThreads });
  m.loader.load(
    'vmlinux',
    Object.entries(KERNEL).map(([name, source]) => ({ name, source })),
  );
  return m;
}

describe('CPU groups on worker threads (M:N)', () => {
  it('16 CPUs on 2 threads: every CPU runs its task and follows simulated time, no wake-up lost', async () => {
    const m = await machine(16, 2);
    try {
      expect(m.workers?.threads).toBe(2);
      for (let cpu = 0; cpu < 16; cpu++)
        await m.spawn({
          name: `t/${cpu}`,
          cpu,
          run: [
            { kind: 'call', func: 'tinyloop', args: [] },
            { kind: 'sleep', ms: 1 },
          ],
        });
      await m.sleep(20);
      // Every CPU reached the coordinator's time (its horizon passed it), each ran its task's code.
      for (const p of m.pcpus) {
        expect(Number(p.get64(PcpuField.Horizon))).toBeGreaterThanOrEqual(20_000_000);
        expect(Number(p.get64(PcpuField.Retired))).toBeGreaterThan(0);
      }
      const stats = await m.workers!.threadStats();
      expect(stats.map((s) => s.cpus)).toEqual([
        [0, 2, 4, 6, 8, 10, 12, 14],
        [1, 3, 5, 7, 9, 11, 13, 15],
      ]);
      expect(stats.reduce((s, x) => s + x.lateWakes, 0)).toBe(0);
      expect(stats.every((s) => s.slices > 0)).toBe(true);
    } finally {
      await m.dispose();
    }
  }, 60_000);

  it('16 CPUs on 2 threads run the atomic-replace selftest to the upstream log (transitions complete)', async () => {
    const r = await runScenario('test-livepatch-atomic-replace.yaml', { deterministic: false, cpus: 16, cpuThreads: 2 });
    expect(r.result.failures.map((f) => `${f.pos.line}: ${f.message}`)).toEqual([]);
    expect(r.result.exitCode).toBe(0);
    expect(filterLog(r.log)).toEqual(expected('test-livepatch-atomic-replace.dmesg'));
  }, 60_000);

  it('a CPU blocked on the coordinator horizon resumes when it moves, woken (not by a timeout)', async () => {
    const m = await machine(2, 2);
    try {
      await m.spawn({ name: 'busy', cpu: 0, run: [{ kind: 'call', func: 'tinyloop', args: [] }] });
      // The coordinator works at 0: CPU 0 may run only WINDOW_NS (2 ms) ahead of it, then sleeps on it.
      const clock = (): number => Number(m.pcpus[0].get64(PcpuField.Clock));
      const t0 = performance.now();
      while (clock() < 1_900_000 && performance.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, 200));
      const held = clock();
      expect(held).toBeLessThanOrEqual(2_000_000 + 20_000);
      const before = (await m.workers!.threadStats())[0];
      expect(before.sleeps).toBeGreaterThan(0);
      // Held there, asleep, until the coordinator's horizon moves.
      await new Promise((r) => setTimeout(r, 300));
      expect(clock()).toBe(held);
      await m.sleep(5);
      expect(clock()).toBeGreaterThanOrEqual(5_000_000);
      const after = (await m.workers!.threadStats())[0];
      expect(after.crossings + after.wakes).toBeGreaterThan(before.wakes);
      expect(after.wakes).toBeGreaterThan(before.wakes);
      expect(after.lateWakes).toBe(0);
    } finally {
      await m.dispose();
    }
  }, 60_000);

  it('an idle machine costs no wake-ups: threads with nothing runnable sleep until there is work', async () => {
    const m = await machine(4, 2);
    try {
      await new Promise((r) => setTimeout(r, 500));
      const stats = await m.workers!.threadStats();
      // Bounded sleeps only (WAIT_MS = 100 ms): a handful in half a second, none useful, none woken.
      for (const s of stats) {
        expect(s.slices).toBe(0);
        expect(s.sleeps).toBeLessThan(20);
      }
      await m.spawn({ name: 'late', cpu: 3, run: [{ kind: 'call', func: 'tiny', args: [] }] });
      await m.sleep(1);
      expect(Number(m.pcpus[3].get64(PcpuField.Clock))).toBeGreaterThanOrEqual(1_000_000);
      expect((await m.workers!.threadStats()).reduce((s, x) => s + x.lateWakes, 0)).toBe(0);
    } finally {
      await m.dispose();
    }
  }, 60_000);

  it('a CPU that hangs or crashes in a thread of several CPUs is named as that CPU, not its thread-mates', async () => {
    const hung = await machine(3, 1);
    const monitor = new HeartbeatMonitor(hung, 500, 50).start();
    try {
      await hung.spawn({ name: 'busy', cpu: 0, run: [{ kind: 'call', func: 'tinyloop', args: [] }] });
      hung.global.set(GlobalField.DebugCpuFault, 2 | (DEBUG_CPU_HANG << 8));
      const t0 = performance.now();
      while (!monitor.hang && performance.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 50));
      expect(monitor.hang?.cpu).toBe(1);
    } finally {
      monitor.stop();
      await hung.dispose();
    }
    const crashed = await machine(3, 1);
    try {
      crashed.global.set(GlobalField.DebugCpuFault, 3 | (DEBUG_CPU_CRASH << 8));
      const t0 = performance.now();
      while (!crashed.abortedWith && performance.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 50));
      expect(crashed.abortedWith?.message).toMatch(/^CPU 2 thread died: injected crash \(DebugCpuFault\)/);
    } finally {
      await crashed.dispose();
    }
  }, 60_000);
});
