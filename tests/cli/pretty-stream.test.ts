/** `--format pretty` folds the scheduler's churn, and nothing else. */
import { resolve } from 'node:path';
import type { SimEvent } from '../../src/kernel/events';
import { FOLD_AFTER, PrettyStream } from '../../src/cli/pretty-stream';
import { runCli } from './run-cli';

let seq = 0;
const state = (cpu: number, pid: number, s: string, func?: string): SimEvent => ({
  t: 1000 * seq,
  seq: seq++,
  cpu,
  type: 'task.state',
  pid,
  comm: `w/${pid}`,
  state: s,
  ...(func ? { func } : {}),
});
const log = (text: string): SimEvent => ({ t: 1000 * seq, seq: seq++, cpu: null, type: 'log', text });

function render(events: SimEvent[]): string[] {
  const lines: string[] = [];
  const p = new PrettyStream((l) => lines.push(l));
  for (const ev of events) p.push(ev);
  p.flush();
  return lines;
}

describe('PrettyStream', () => {
  it(`prints runs of up to ${FOLD_AFTER} task.state events one by one, in order`, () => {
    const lines = render([state(0, 1, 'running'), state(0, 1, 'sleeping'), log('a'), state(1, 2, 'running')]);
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/cpu0 +task\.state +pid=1 comm=w\/1 state=running$/);
    expect(lines[2]).toMatch(/coord log +a$/);
    expect(lines[3]).toMatch(/pid=2 .*state=running$/);
  });

  it('folds a longer run into one line before the next other event: count, tasks, CPUs, who is left asleep in a function', () => {
    const run = [
      state(0, 1, 'running'),
      state(0, 1, 'sleeping'),
      state(1, 2, 'running'),
      state(1, 2, 'sleeping', 'msleep'),
      state(0, 1, 'running'),
      state(0, 1, 'sleeping'),
    ];
    const lines = render([log('before'), ...run, log('after')]);
    const lastT = `${(run[run.length - 1].t / 1e9).toFixed(6)}]`;
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/log +before$/);
    expect(lines[1]).toMatch(
      /cpu\* +task\.state +×6 state changes of 2 tasks on 2 CPUs; w\/2:2 sleeping in msleep \(--format ndjson shows each\)$/,
    );
    expect(lines[1]).toContain(lastT); // the time of the run's last event
    expect(lines[2]).toMatch(/log +after$/);
  });

  it('flushes a run still held at the end of the stream', () => {
    const lines = render([log('x'), ...Array.from({ length: 9 }, (_, i) => state(2, 3, i % 2 ? 'sleeping' : 'running'))]);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/cpu2 +task\.state +×9 state changes of 1 task on 1 CPU \(/);
  });
});

describe('klpsim run --format pretty on the flagship', () => {
  it('keeps every livepatch event and folds the busy tasks into a few hundred lines', async () => {
    const flagship = resolve(__dirname, '../../scenarios/atomic-replace-nops.yaml');
    const r = await runCli(['run', flagship, '--deterministic']);
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    expect(lines.length).toBeLessThan(2000);
    expect(lines.filter((l) => / nop\.discard /.test(l))).toHaveLength(3);
    expect(lines.filter((l) => / nop\.add /.test(l))).toHaveLength(3);
    expect(r.out).toContain("livepatch: 'klp_patch_c': patching complete");
    expect(lines.some((l) => /task\.state +×\d+ state changes/.test(l))).toBe(true);
  });
});
