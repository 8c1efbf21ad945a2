/**
 * MachineOptions.eventsOff: a stress run leaves out the two event types nobody there reads — task.state
 * (two per context switch) and the sampled call.redirect — as an unused tracepoint costs nothing in the
 * kernel. The CPUs still do everything else: the handler still redirects and checks every call, and the
 * livepatch story's events still come.
 */
import { PcpuField } from '../../src/mem/percpu';
import type { SimEvent } from '../../src/kernel/events';
import { caller, printkFunc, withKlp } from './helpers';

const KERNEL = { ...printkFunc('target', 'target'), hammer: caller('target', 200) };

async function run(deterministic: boolean, eventsOff: ('task.state' | 'call.redirect')[]) {
  return withKlp({ cpus: 2, deterministic, kernel: KERNEL, eventsOff, klp: { retryMs: 1 } }, async ({ m, klp, events, patch, settle }) => {
    // Two tasks on CPU 0 switch at every timeslice; a third keeps CPU 1 inside the handler.
    for (const cpu of [0, 0, 1]) await m.spawn({ name: `hammer/${cpu}`, cpu, run: [{ kind: 'call', func: 'hammer', args: [] }] });
    await patch('lp', ['target'], false);
    await settle();
    await m.sleep(1);
    expect(klp.inTransition()).toBe(false);
    const count = (type: SimEvent['type']): number => events.filter((e) => e.type === type).length;
    return {
      taskState: count('task.state'),
      redirect: count('call.redirect'),
      complete: count('transition.complete'),
      checks: m.pcpus.reduce((n, p) => n + p.get(PcpuField.ChecksConsistency), 0),
    };
  });
}

describe('eventsOff', () => {
  it.each([true, false])(
    'leaves out task.state and call.redirect, and nothing else (deterministic: %s)',
    async (deterministic) => {
      const on = await run(deterministic, []);
      expect(on.taskState).toBeGreaterThan(10);
      expect(on.redirect).toBeGreaterThan(0);
      const off = await run(deterministic, ['task.state', 'call.redirect']);
      expect(off.taskState).toBe(0);
      expect(off.redirect).toBe(0);
      expect(off.complete).toBe(on.complete);
      expect(off.checks).toBeGreaterThan(100);
    },
    60_000,
  );
});
