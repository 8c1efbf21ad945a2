/**
 * What the worker threads' synchronisation costs, counted (load-independent): wakes are sent on a group's
 * minimum horizon, not on every CPU's (src/kernel/sim-clock.ts publishGroupHorizon()); events go in
 * batches, not one post per slice (cpu-thread.ts buffer()); and the coordinator's drain still delivers
 * every event from before the time it reached (worker-cpus.ts drainEvents(), FlushReq/FlushAck).
 * On the code before, the same run posted a batch per slice (320 for 320 slices) and sent 128 crossing
 * wakes for 53 sleeps (one per CPU horizon that passed a sleeper's WaitFor); now 44 batches, 22 crossings.
 */
import { Machine } from '../../src/coordinator/machine';
import type { SimEvent } from '../../src/kernel/events';

const KERNEL = {
  tiny: 'push rbp\nmov rbp, rsp\npop rbp\nret',
  tinyloop: 'push rbp\nmov rbp, rsp\npush rbx\nmov ebx, 200\nagain:\ncall tiny\ndec ebx\njnz again\npop rbx\npop rbp\nret',
};

describe('group horizons and event batches (16 CPUs on 2 threads)', () => {
  it('wakes follow group minima, events are batched, and a drain delivers every event before the time reached', async () => {
    const m = await Machine.create({ cpus: 16, cpuThreads: 2 });
    const events: SimEvent[] = [];
    m.events$.subscribe((e) => events.push(e));
    try {
      m.loader.load(
        'vmlinux',
        Object.entries(KERNEL).map(([name, source]) => ({ name, source })),
      );
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
      const before = (): number => events.filter((e) => e.cpu !== null && e.t < 20_000_000).length;
      const atEnd = before();
      // Every task went to sleep after each of its ~7 passes (msleep(1) is 2–3 ms on 6.12: the extra jiffy and
      // the wheel's bucket), and the coordinator has seen it all.
      for (let cpu = 0; cpu < 16; cpu++) {
        const sleeps = events.filter((e) => e.type === 'task.state' && e.cpu === cpu && e.state === 'sleeping' && e.t < 20_000_000);
        expect(sleeps.length).toBeGreaterThanOrEqual(6);
      }
      await m.sleep(5);
      // Nothing from before 20 ms arrives late: the drain at the end of the first sleep collected it.
      expect(before()).toBe(atEnd);
      const stats = await m.workers!.threadStats();
      const sum = (k: 'slices' | 'batches' | 'crossings' | 'sleeps' | 'lateWakes' | 'events'): number =>
        stats.reduce((s, x) => s + x[k], 0);
      expect(sum('lateWakes')).toBe(0);
      // Batches, not a post per slice (the tasks make events at nearly every slice). A thread posts when it
      // sleeps and when it yields to its event loop every 4 ms of real time, so on a loaded host (the whole
      // suite on 2 cores) more of a run's batches come from yields: 28-33 for 144 slices under two spinning
      // processes, against 144 if each slice posted.
      expect(sum('events')).toBeGreaterThan(sum('slices') / 2);
      expect(sum('batches')).toBeLessThan(sum('slices') / 2);
      // A wake is sent when a group's minimum crosses a sleeper's WaitFor: at most about one per sleep
      // (the other group's and the coordinator's moves may both cross it), not one per CPU that passes it.
      expect(sum('crossings')).toBeLessThanOrEqual(2 * sum('sleeps') + 10);
    } finally {
      await m.dispose();
    }
  }, 60_000);
});
