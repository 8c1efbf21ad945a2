/**
 * The flagship scenario, asserted on its event stream: what the seed ("livepatch: Remove Nop structures
 * when unused") guarantees, and what the kernel did before it (--no-nop-removal).
 */
import { resolve } from 'node:path';
import type { SimEvent } from '../../src/kernel/events';
import { Simulation } from '../../src/scenario/simulation';

const FLAGSHIP = resolve(__dirname, '../../scenarios/atomic-replace-nops.yaml');

async function run(opts: {
  deterministic: boolean;
  nopRemoval: boolean;
}): Promise<{ events: SimEvent[]; exitCode: number; failures: string[] }> {
  const sim = await Simulation.fromFile(FLAGSHIP, opts);
  const events: SimEvent[] = [];
  sim.events$.subscribe((e) => events.push(e));
  const r = await sim.run();
  return { events, exitCode: r.exitCode, failures: r.failures.map((f) => `${f.pos.line}: ${f.message}`) };
}

const logIndex = (events: SimEvent[], text: string): number => events.findIndex((e) => e.type === 'log' && e.text === text);

describe('flagship: atomic replace frees its NOPs', () => {
  let det: Awaited<ReturnType<typeof run>>;
  beforeAll(async () => {
    det = await run({ deterministic: true, nopRemoval: true });
  }, 120_000);

  it('holds every expectation of the scenario', () => {
    expect(det.failures).toEqual([]);
    expect(det.exitCode).toBe(0);
  });

  it('adds a NOP for every function the replaced patches changed and C does not, one in a dynamic object', () => {
    const adds = det.events.filter((e) => e.type === 'nop.add');
    expect(adds.map((e) => (e as { func: string }).func).sort()).toEqual(['cmdline_proc_show', 'demo_target_show', 'version_proc_show']);
    expect(adds.find((e) => (e as { func: string }).func === 'demo_target_show')).toMatchObject({
      dynamicObject: true,
      object: 'klp_demo_target',
    });
  });

  it('unpatches and frees the NOPs after "completing" and before "patching complete"; replaced patches are freed after it', () => {
    const ev = det.events;
    const completing = logIndex(ev, "livepatch: 'klp_patch_c': completing patching transition");
    const complete = logIndex(ev, "livepatch: 'klp_patch_c': patching complete");
    expect(completing).toBeGreaterThan(-1);
    expect(complete).toBeGreaterThan(completing);
    const between = ev.slice(completing, complete);
    // The replaced patches' funcs leave the stacks first, then each NOP: its ftrace ops is unregistered
    // (after a grace period), then it is discarded and freed; the dynamic object goes too.
    for (const func of ['cmdline_proc_show', 'version_proc_show', 'demo_target_show']) {
      const unreg = between.findIndex((e) => e.type === 'ftrace.unregister' && e.func === func);
      const discard = between.findIndex((e) => e.type === 'nop.discard' && e.func === func);
      const free = between.findIndex((e) => e.type === 'klp.free' && e.what === 'func' && e.func === func && e.nop === true);
      expect(unreg).toBeGreaterThan(-1);
      expect(discard).toBeGreaterThan(unreg);
      expect(free).toBeGreaterThan(discard);
      const gp = between
        .slice(0, unreg)
        .map((e) => e.type)
        .lastIndexOf('rcu.gp_end');
      expect(gp).toBeGreaterThan(-1);
    }
    expect(between.some((e) => e.type === 'klp.free' && e.what === 'object' && e.dynamic === true)).toBe(true);
    const after = ev.slice(complete);
    for (const p of ['klp_patch_a', 'klp_patch_b'])
      expect(after.some((e) => e.type === 'klp.free' && e.what === 'patch' && e.patch === p)).toBe(true);
    expect(between.some((e) => e.type === 'klp.free' && e.what === 'patch')).toBe(false);
  });

  it('puts the sites of functions nobody patches any more back to the 5-byte NOP', () => {
    const completing = logIndex(det.events, "livepatch: 'klp_patch_c': completing patching transition");
    const pokes = det.events.slice(completing).filter((e) => e.type === 'text.poke' && e.phase === 'first');
    const restored = pokes
      .filter((e) => (e as { new: string }).new === '0f 1f 44 00 00')
      .map((e) => (e as { symbol: string }).symbol.split('+')[0]);
    expect(restored).toEqual(expect.arrayContaining(['cmdline_proc_show', 'version_proc_show', 'demo_target_show']));
  });

  it('is free of violations and faults', () => {
    expect(det.events.filter((e) => e.type === 'violation' || e.type === 'fault')).toEqual([]);
  });

  it('runs on worker threads too', async () => {
    const w = await run({ deterministic: false, nopRemoval: true });
    expect(w.failures).toEqual([]);
    expect(w.exitCode).toBe(0);
  }, 120_000);

  it('--no-nop-removal: the NOPs stay on their func_stacks (the kernel before the seed)', async () => {
    const pre = await run({ deterministic: true, nopRemoval: false });
    expect(pre.events.some((e) => e.type === 'nop.discard')).toBe(false);
    // Exactly the seed's expectations fail: 3 NOPs and 4 ftrace ops are left after the transition.
    expect(pre.failures).toEqual(
      expect.arrayContaining([
        expect.stringContaining('3 NOP klp_funcs exist, expected 0'),
        expect.stringContaining('4 klp ftrace ops are registered, expected 1'),
      ]),
    );
    expect(pre.exitCode).toBe(1);
  }, 120_000);
});
