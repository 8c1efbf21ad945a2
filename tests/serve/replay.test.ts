/**
 * `klpsim serve --replay`: reading a recorded ndjson stream, and bad input — a malformed line is
 * `FILE:LINE:COL: message` on stderr and exit 2, like a bad scenario — and the command's usage errors.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { jsonErrorOffset } from '../../src/serve/json-position';
import { parseRecording, ReplayError } from '../../src/serve/replay-reader';
import { runCli } from '../cli/run-cli';

const BASIC = resolve(__dirname, '../../scenarios/test-livepatch-basic.yaml');
const dir = mkdtempSync(join(tmpdir(), 'klpsim-replay-'));
const write = (name: string, text: string): string => {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
};

const ev = (seq: number, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ t: seq * 10, cpu: null, type: 'log', text: `line ${seq}`, seq, ...extra });

describe('reading a recording', () => {
  it('keeps every event in order, unknown types too, and finds the CPU count', () => {
    const text = [ev(0), ev(1, { type: 'ipi.sync_core', cpus: 3, waitedNs: 0 }), '', ev(2, { cpu: 1, type: 'some.future_event' }), ''].join(
      '\r\n',
    );
    const r = parseRecording(text, 'run.ndjson');
    expect(r.events.map((e) => e.seq)).toEqual([0, 1, 2]);
    expect(r.events[2].type).toBe('some.future_event');
    expect(r.cpus).toBe(3);
    expect(parseRecording(ev(0, { cpu: 6 }), 'x').cpus).toBe(7);
  });

  it('reports every bad line as FILE:LINE:COL with what is wrong', () => {
    const text = [
      ev(0),
      '{"t": 1, "seq": 1,}',
      ev(2),
      '[1, 2]',
      '{"t": "soon", "seq": 3, "cpu": null, "type": "log"}',
      '  {"t": 1, "seq": 4, "cpu": -1, "type": "x"}',
      '{"t": 1 "seq": 5}',
    ].join('\n');
    let err: unknown;
    try {
      parseRecording(text, 'run.ndjson');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ReplayError);
    expect((err as ReplayError).message.split('\n')).toEqual([
      'run.ndjson:2:19: invalid JSON: Expected double-quoted property name',
      'run.ndjson:4:1: expected a JSON object (one event per line)',
      'run.ndjson:5:1: not an event: "t" must be a number (simulated ns)',
      'run.ndjson:6:3: not an event: "cpu" must be a CPU number or null',
      "run.ndjson:7:9: invalid JSON: Expected ',' or '}' after property value",
    ]);
  });

  it('an empty file, and a file of garbage, are bad input too (the garbage summarised)', () => {
    expect(() => parseRecording('\n\n', 'e.ndjson')).toThrow('e.ndjson:1:1: no events');
    const many = Array.from({ length: 50 }, () => 'not json').join('\n');
    const lines = (() => {
      try {
        parseRecording(many, 'g.ndjson');
        return [];
      } catch (e) {
        return (e as Error).message.split('\n');
      }
    })();
    expect(lines).toHaveLength(21);
    expect(lines[0]).toBe("g.ndjson:1:2: invalid JSON: Unexpected token 'o'");
    expect(lines[20]).toBe('g.ndjson:20:1: and 30 more bad lines');
  });

  it('finds where JSON breaks, agreeing with V8 wherever V8 says', () => {
    const cases = [
      '{"a":1,}',
      '{"a":1',
      '{"a":1}x',
      'nope',
      '{"a": tru}',
      '',
      '[1,,2]',
      '{"a":"\\q"}',
      '{"a":"x',
      '-',
      '01',
      '1.',
      '{"a":1e}',
      '"\\u12g4"',
      '{"a"}',
      '  ',
      '{"a":[1,2}',
    ];
    for (const c of cases) {
      let v8: number | null = null;
      try {
        JSON.parse(c);
      } catch (e) {
        const m = /position (\d+)/.exec((e as Error).message);
        if (m) v8 = Number(m[1]);
      }
      const ours = jsonErrorOffset(c);
      expect(ours).toBeGreaterThanOrEqual(0);
      if (v8 !== null) expect([c, ours]).toEqual([c, v8]);
    }
    for (const ok of ['{}', '[]', '{"t":1,"a":[true,false,null,-1.5e3,"x\\u00e9\\n"]}', ' 0 ', ev(3)]) expect(jsonErrorOffset(ok)).toBe(-1);
  });
});

describe('klpsim serve: bad input exits 2 before serving', () => {
  it('a malformed ndjson line: FILE:LINE:COL on stderr', async () => {
    const f = write('bad.ndjson', [ev(0), ev(1), '{"t": 2, "seq": 2, "cpu": null, "type": "log", }'].join('\n'));
    const r = await runCli(['serve', '--replay', f, '--port', '0']);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`${f}:3:48: invalid JSON: Expected double-quoted property name\n`);
    expect(r.out).toBe('');
  });

  it('a missing recording, a missing or bad scenario', async () => {
    const missing = await runCli(['serve', '--replay', join(dir, 'nope.ndjson')]);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/nope\.ndjson:1:1: cannot read file/);
    const noScenario = await runCli(['serve', join(dir, 'nope.yaml')]);
    expect(noScenario.code).toBe(2);
    expect(noScenario.err).toMatch(/nope\.yaml:1:1: cannot read file/);
    const bad = write('bad.yaml', 'name: x\nsteps:\n  - sh: frobnicate now\n');
    const badScenario = await runCli(['serve', bad, '--port', '0']);
    expect(badScenario.code).toBe(2);
    expect(badScenario.err).toMatch(new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3:\\d+: `));
  });

  it('usage errors', async () => {
    const rec = write('ok.ndjson', ev(0));
    for (const args of [
      ['serve'],
      ['serve', BASIC, '--replay', rec],
      ['serve', BASIC, '--paused'],
      ['serve', BASIC, '--port', '70000'],
      ['serve', BASIC, '--cpus', '0'],
      ['serve', '--replay', rec, '--cpus', '2'],
      ['serve', '--replay', rec, '--deterministic'],
    ]) {
      const r = await runCli(args);
      expect([args, r.code]).toEqual([args, 2]);
      expect(r.err).toMatch(/^klpsim: /);
    }
    const help = await runCli(['serve', '--help']);
    expect(help.code).toBe(0);
    expect(help.out).toContain('--replay');
    expect(help.out).toContain('--paused');
  });

  it('a port already taken: exit 2, the scenario never runs', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = await runCli(['serve', '--replay', write('p.ndjson', ev(0)), '--port', String(port)]);
      expect(r.code).toBe(2);
      expect(r.err).toBe(`klpsim: cannot listen on 127.0.0.1:${port}: address already in use\n`);
      const live = await runCli(['serve', BASIC, '--deterministic', '--port', String(port)]);
      expect(live.code).toBe(2);
      expect(live.err).toContain('address already in use');
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });
});
