/**
 * The seed's hard part: klp_discard_nops() frees NOP klp_funcs that a CPU may be reading inside
 * klp_ftrace_handler(). In lockstep mode the interleaving is forced: CPU 0 is stopped between the two
 * halves of the handler, holding the link to the NOP, exactly when klp_discard_nops() starts.
 */
import * as coreFree from '../../src/livepatch/core-free';
import type { KlpPatch } from '../../src/livepatch/klp-types';
import type { KlpState } from '../../src/livepatch/klp-state';
import { withKlp, printkFunc, caller } from './helpers';

const KERNEL = { ...printkFunc('target', 'target original'), hammer: caller('target', 1000) };

async function discardWhileInHandler(faults: 'skip-rcu-sync'[]) {
  return withKlp({ cpus: 1, kernel: KERNEL, klp: { retryMs: 1, faults: new Set(faults) } }, async (rig) => {
    const { m } = rig;
    const cpu0 = m.lockstep!.hosts[0];
    await m.spawn({ name: 'hammer', cpu: 0, run: [{ kind: 'call', func: 'hammer', args: [] }] });
    expect(await rig.patch('lp_a', ['target'], false)).toBe(0);
    await rig.settle();

    const original = coreFree.klpDiscardNops;
    let cpuWasInsideAtStart = false;
    let cpuInsideAtFree: boolean | null = null;
    const spy = jest.spyOn(coreFree, 'klpDiscardNops').mockImplementation(async (s: KlpState, patch: KlpPatch) => {
      // Wait for CPU 0 to enter the handler anew: lp_a's func is already off the func_stack, so the
      // head link it holds between the handler's two halves is the NOP's.
      const entries = cpu0.handlerEntries;
      await m.waitFor(() => cpu0.inHandler() && cpu0.handlerEntries > entries, 'CPU 0 to enter the handler');
      cpuWasInsideAtStart = true;
      await original(s, patch);
    });
    const sub = m.events$.subscribe((e) => {
      if (e.type === 'klp.free' && e.what === 'func' && e.nop) cpuInsideAtFree = cpu0.inHandler();
    });
    try {
      expect(await rig.patch('lp_c', [], true)).toBe(0);
      await rig.settle();
    } finally {
      spy.mockRestore();
      sub.unsubscribe();
    }
    return { rig, cpuWasInsideAtStart, cpuInsideAtFree };
  });
}

describe('klp_discard_nops() while a CPU is inside the ftrace handler', () => {
  it('waits for the CPU to leave the handler before freeing the NOP: no use-after-free', async () => {
    const { rig, cpuWasInsideAtStart, cpuInsideAtFree } = await discardWhileInHandler([]);
    expect(cpuWasInsideAtStart).toBe(true);
    expect(cpuInsideAtFree).toBe(false);
    const types = rig.events.map((e) => e.type);
    // The grace period of unregister_ftrace_function() sits between the NOP's removal and its free.
    const gp = types.indexOf('rcu.gp_start');
    const free = rig.events.findIndex((e) => e.type === 'klp.free' && e.what === 'func' && e.nop);
    expect(gp).toBeGreaterThan(-1);
    expect(free).toBeGreaterThan(gp);
    expect(rig.events.filter((e) => e.type === 'violation')).toEqual([]);
    expect(rig.m.violations()).toBe(0);
    expect(rig.klp.stats()).toMatchObject({ nops: 0, dynamicObjects: 0, ftraceOps: 0 });
  });

  it('detector check: freeing without the grace period (skip-rcu-sync) is caught as use-after-free', async () => {
    const { rig, cpuInsideAtFree } = await discardWhileInHandler(['skip-rcu-sync']);
    expect(cpuInsideAtFree).toBe(true);
    const uaf = rig.events.filter((e) => e.type === 'violation' && e.check === 'use-after-free');
    expect(uaf.length).toBeGreaterThan(0);
    expect(uaf[0]).toMatchObject({ cpu: 0 });
    expect((uaf[0] as { message: string }).message).toMatch(/read a freed klp_func: record \d+ was freed \(poisoned\)/);
  });
});
