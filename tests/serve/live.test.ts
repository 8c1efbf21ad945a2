/**
 * A live `klpsim serve` run: held before its first step with --paused, stepped and resumed through
 * /control, streaming exactly the events `klpsim run` would (the gate and the probe change nothing), and
 * serving the final state after the run; without --deterministic, pause is refused.
 */
import { resolve } from 'node:path';
import { TraceBuilder } from '../../src/scenario/chrome-trace';
import type { SimEvent } from '../../src/kernel/events';
import { Simulation } from '../../src/scenario/simulation';
import type { ServeStatus } from '../../src/serve/protocol';
import { ServeSession } from '../../src/serve/session';
import { FAKE_ASSETS, http, itemsOf, postControl, readSse, statusesOf } from './serve-helpers';

const BASIC = resolve(__dirname, '../../scenarios/test-livepatch-basic.yaml');
const live = (o: { deterministic: boolean; paused: boolean }) =>
  ServeSession.live({ file: BASIC, host: '127.0.0.1', port: 0, assets: FAKE_ASSETS, nopRemoval: true, verbose: false, ...o });
const status = async (base: string): Promise<ServeStatus> => JSON.parse((await http(`${base}status`)).body) as ServeStatus;

async function heldAt(base: string, index: number): Promise<ServeStatus> {
  const msgs = await readSse(`${base}events`, (m) => statusesOf(m).some((s) => s.held && s.step?.index === index));
  return statusesOf<ServeStatus>(msgs)
    .filter((s) => s.held)
    .pop() as ServeStatus;
}

describe('klpsim serve, live', () => {
  it('--deterministic --paused: holds, steps one scenario step at a time, resumes, then serves the final state', async () => {
    const s = await live({ deterministic: true, paused: true });
    try {
      const first = await heldAt(s.url, 0);
      expect(first).toMatchObject({
        mode: 'live',
        canPause: true,
        paused: true,
        held: true,
        step: { index: 0, total: 7, text: 'sh: modprobe test_klp_livepatch', line: 53 },
      });
      expect((await postControl(s.url, 'pause')).status).toBe(409);

      expect((await postControl(s.url, 'step')).status).toBe(200);
      const second = await heldAt(s.url, 1);
      expect(second.step).toMatchObject({ index: 1, text: 'wait: transition' });
      // The step ran: the module is loaded, its transition started, and nothing more.
      const items = itemsOf<SimEvent>(await readSse(`${s.url}events`, (m) => itemsOf(m).length >= second.items));
      const logs = items.flatMap((e) => (e.type === 'log' ? [e.text] : []));
      expect(logs).toContain("livepatch: 'test_klp_livepatch': starting patching transition");
      expect(logs).not.toContain("livepatch: 'test_klp_livepatch': patching complete");

      expect((await postControl(s.url, 'resume')).status).toBe(200);
      const out = await s.done;
      expect(out.info).toEqual({ exitCode: 0, failures: [], violations: 0 });
      const end = await status(s.url);
      expect(end).toMatchObject({ canPause: false, pauseNote: 'the run has finished', step: null, finished: { exitCode: 0 } });
      expect((await postControl(s.url, 'step')).status).toBe(409);

      // The served events are the run's, byte for byte: holding it and reading its stacks changed nothing.
      const direct: SimEvent[] = [];
      const sim = await Simulation.fromFile(BASIC, { deterministic: true });
      sim.events$.subscribe((e) => direct.push(e));
      await sim.run();
      const served = (await http(`${s.url}events.ndjson`)).body;
      expect(served).toBe(direct.map((e) => JSON.stringify(e) + '\n').join(''));
      // The download link gives what `klpsim run --trace` writes for the same run.
      const trace = new TraceBuilder();
      direct.forEach((e) => trace.add(e));
      expect((await http(`${s.url}trace.json`)).body).toBe(JSON.stringify(trace.build()));
    } finally {
      await s.close();
    }
  });

  it('with worker CPUs: pause is refused and said why; the run finishes on its own', async () => {
    const s = await live({ deterministic: false, paused: false });
    try {
      const r = await postControl(s.url, 'pause');
      expect(r.status).toBe(409);
      expect(JSON.parse(r.body).error).toBe('pause and step need --deterministic');
      expect((await status(s.url)).pauseNote).toContain('--deterministic');
      expect((await s.done).info.exitCode).toBe(0);
      const all = itemsOf(
        await readSse(`${s.url}events`, (m) => statusesOf(m).length > 0 && itemsOf(m).length >= statusesOf<ServeStatus>(m)[0].items),
      );
      expect(all.some((e) => e.type === 'transition.complete')).toBe(true);
    } finally {
      await s.close();
    }
  });

  it('close() while held stops the run for good and frees the port', async () => {
    const s = await live({ deterministic: true, paused: true });
    await heldAt(s.url, 0);
    const t0 = performance.now();
    await s.close();
    expect(performance.now() - t0).toBeLessThan(3000);
    await expect(http(s.url)).rejects.toThrow();
  });
});
