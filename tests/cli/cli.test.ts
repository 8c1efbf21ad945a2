/** The klpsim command's contract for bad input (SPEC section 1): FILE:LINE:COL on stderr, exit 2. */
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runCli } from './run-cli';

const cli = (args: string[]) => runCli(args);

const dir = mkdtempSync(join(tmpdir(), 'klpsim-cli-'));
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe('klpsim run / check', () => {
  it('reports every problem of a broken file as FILE:LINE:COL and exits 2, without a stack trace', async () => {
    const bad = file(
      'bad.yaml',
      'name: x\ncpus: 0\nkernel:\n  functions:\n    f: |\n      movq rax, 1\n      ret\nsteps:\n  - sh: frobnicate\n',
    );
    for (const cmd of ['run', 'check']) {
      const r = await cli([cmd, bad]);
      expect(r.code).toBe(2);
      expect(r.err).toContain(`${bad}:2:7: must be at least 1`);
      expect(r.err).toContain(`${bad}:6:7: in function f: unknown mnemonic 'movq'`);
      expect(r.err).toContain(`${bad}:9:9: unknown command 'frobnicate'`);
      expect(r.err).not.toMatch(/\n\s+at /);
    }
  });

  it('a missing file and bad options are bad input too', async () => {
    expect((await cli(['run', join(dir, 'nope.yaml')])).err).toMatch(/nope\.yaml:1:1: cannot read file/);
    expect((await cli(['run', resolve(__dirname, '../../scenarios/test-livepatch-basic.yaml'), '--cpus', '0'])).code).toBe(2);
    expect((await cli(['run', resolve(__dirname, '../../scenarios/test-livepatch-basic.yaml'), '--format', 'xml'])).code).toBe(2);
  });

  it('run, watch and serve take the same scenario-run options; serve --replay refuses them by their flags', async () => {
    const basic = resolve(__dirname, '../../scenarios/test-livepatch-basic.yaml');
    for (const cmd of ['run', 'watch', 'serve'])
      expect((await cli([cmd, basic, '--kernel-version', '4.0'])).err).toMatch(/--kernel-version must be a release from/);
    const r = await cli([
      'serve',
      '--replay',
      join(dir, 'x.ndjson'),
      '--cpus',
      '2',
      '--no-nop-removal',
      '--unwinder',
      'orc',
      '--deterministic',
      '--paused',
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('--replay shows a recorded run: --cpus, --no-nop-removal, --unwinder, --deterministic, --paused cannot apply');
  });

  it('a failed expectation exits 1 and shows the events leading to it', async () => {
    const basic = readFileSync(resolve(__dirname, '../../scenarios/test-livepatch-basic.yaml'), 'utf8').replace(
      'stdout: "test_klp_livepatch: this has been live patched"',
      'stdout: "test_klp_livepatch: this was never printed"',
    );
    const p = file('fails.yaml', basic);
    const r = await cli(['run', p, '--deterministic', '--format', 'dmesg']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /fails\.yaml:\d+:\d+: 'cat \/proc\/cmdline' printed "test_klp_livepatch: this has been live patched", expected "test_klp_livepatch: this was never printed"/,
    );
    expect(r.err).toContain('events leading to it');
  }, 60_000);

  it('--format dmesg prints the kernel log with dmesg timestamps; --trace writes Chrome trace JSON', async () => {
    const trace = join(dir, 'trace.json');
    const r = await cli([
      'run',
      resolve(__dirname, '../../scenarios/test-livepatch-basic.yaml'),
      '--deterministic',
      '--format',
      'dmesg',
      '--trace',
      trace,
    ]);
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines.every((l) => /^\[\s*\d+\.\d{6}\] /.test(l))).toBe(true);
    expect(lines).toContain("[    0.000000] livepatch: enabling patch 'test_klp_livepatch'");
    const t = JSON.parse(readFileSync(trace, 'utf8')) as {
      traceEvents: { ph: string; ts: number; pid: number; tid: number; name: string }[];
    };
    expect(t.traceEvents.length).toBeGreaterThan(10);
    for (const ev of t.traceEvents) {
      expect(typeof ev.name).toBe('string');
      expect(['X', 'i', 'M']).toContain(ev.ph);
      expect(Number.isFinite(ev.ts)).toBe(true);
    }
    expect(t.traceEvents.some((e) => e.ph === 'X' && e.name.startsWith('patching test_klp_livepatch'))).toBe(true);
  }, 60_000);
});
