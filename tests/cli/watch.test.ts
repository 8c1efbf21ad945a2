/**
 * `klpsim watch`: plain event lines when stdout is not a terminal, a redrawn screen when it is, the exit
 * codes of `run`; and the screen itself (watch-view.ts) rendered from a constructed snapshot.
 */
import { resolve } from 'node:path';
import { runCli } from './run-cli';
import { ansiFrame, renderWatch, WatchSnapshot } from '../../src/cli/watch-view';

const BASIC = resolve(__dirname, '../../scenarios/test-livepatch-basic.yaml');

const cli = (args: string[], isTTY: boolean) => runCli(args, isTTY);

describe('klpsim watch', () => {
  it('on a non-TTY prints the plain event lines of `run` and exits 0', async () => {
    const r = await cli(['watch', BASIC, '--deterministic'], false);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).not.toContain('\x1b[');
    const lines = r.out.trim().split('\n');
    expect(lines.length).toBeGreaterThan(50);
    for (const l of lines.slice(0, 50)) expect(l).toMatch(/^\[\s*\d+\.\d{6}\] (cpu\d+|cpu\*|coord)\s+\S+/);
    expect(lines).toContainEqual(expect.stringMatching(/coord log +livepatch: 'test_klp_livepatch': patching complete$/));
  }, 60_000);

  it('on a TTY redraws the screen from home and ends with the final state', async () => {
    const r = await cli(['watch', BASIC, '--deterministic'], true);
    expect(r.code).toBe(0);
    const frames = r.out.split('\x1b[H').slice(1);
    expect(frames.length).toBeGreaterThanOrEqual(2);
    const last = frames[frames.length - 1];
    expect(last).toContain('finished, exit 0');
    expect(last).toContain('cpu0');
    expect(last).toContain('cpu1');
    expect(last).toContain('transition: none');
    expect(last).toContain('% rmmod test_klp_livepatch');
  }, 60_000);

  it('bad input exits 2 like run; --help exits 0', async () => {
    const bad = await cli(['watch', resolve(__dirname, 'no-such-file.yaml')], false);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/no-such-file\.yaml:1:1: cannot read file/);
    const badTty = await cli(['watch', resolve(__dirname, 'no-such-file.yaml')], true);
    expect(badTty.code).toBe(2);
    expect(badTty.out).toBe('');
    expect((await cli(['watch', BASIC, '--cpus', '0'], false)).code).toBe(2);
    const help = await cli(['watch', '--help'], false);
    expect(help.code).toBe(0);
    expect(help.out).toContain('--no-nop-removal');
    expect(help.out).toContain('--deterministic');
  });
});

describe('the watch screen', () => {
  const snap: WatchSnapshot = {
    title: 'atomic replace frees its NOPs',
    timeNs: 2_010_000_000,
    events: 32710,
    cpus: [
      { cpu: 0, mode: 'idle', pid: 0, comm: 'swapper/0', func: null },
      { cpu: 1, mode: 'running', pid: 2, comm: 'reader/1', func: 'cmdline_proc_show' },
    ],
    patches: [
      { mod: 'klp_patch_a', enabled: true, transition: false, replace: false, forced: false, nops: 0 },
      { mod: 'klp_patch_c', enabled: true, transition: true, replace: true, forced: false, nops: 3 },
    ],
    transition: { patch: 'klp_patch_c', target: 'patched', done: 3, total: 6 },
    funcStacks: [
      {
        func: 'cmdline_proc_show',
        entries: [
          { patch: 'klp_patch_c', nop: true, transition: true },
          { patch: 'klp_patch_a', nop: false, transition: false },
        ],
      },
      { func: 'meminfo_proc_show', entries: [{ patch: 'klp_patch_c', nop: false, transition: true }] },
    ],
    log: Array.from({ length: 10 }, (_, i) => `line ${i}`),
  };

  it('shows the CPUs, the patch stack with its NOPs, the transition progress, func_stacks and the log', () => {
    const lines = renderWatch(snap);
    const text = lines.join('\n');
    expect(lines[0]).toBe('klpsim watch: atomic replace frees its NOPs');
    expect(lines[1]).toMatch(/^\[\s+2\.010000\] simulated\s+32710 events\s+running$/);
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}cpu0 +idle +swapper\/0 +-$/));
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}cpu1 +running +reader\/1:2 +cmdline_proc_show$/));
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}1\. klp_patch_a +enabled, 0 NOPs$/));
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}2\. klp_patch_c +enabled, transition, replace, 3 NOPs$/));
    expect(text).toContain('transition: klp_patch_c -> patched  [##########..........] 3/6 tasks');
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}cmdline_proc_show +klp_patch_c\(nop,transition\) > klp_patch_a$/));
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}meminfo_proc_show +klp_patch_c\(transition\)$/));
    const log = lines.indexOf('kernel log');
    expect(lines.slice(log + 1)).toEqual(snap.log.map((l) => `  ${l}`));
  });

  it('says so when nothing is patched, marks the end, and fits the terminal', () => {
    const idle = renderWatch({ ...snap, patches: [], transition: null, funcStacks: [], log: [], done: { exitCode: 1 } }, { columns: 30 });
    expect(renderWatch({ ...snap, done: { exitCode: 1 } })[1]).toMatch(/finished, exit 1$/);
    expect(idle).toContain('  transition: none');
    expect(idle.filter((l) => l === '  (none)')).toHaveLength(2);
    expect(idle.every((l) => l.length <= 30)).toBe(true);
    const short = renderWatch(snap, { rows: 8 });
    expect(short).toHaveLength(8);
    expect(short[7]).toMatch(/^\.\.\. \d+ more lines/);
  });

  it('a frame goes home, clears each line to its end and the rest of the screen', () => {
    expect(ansiFrame(['a', 'b'])).toBe('\x1b[Ha\x1b[K\nb\x1b[K\n\x1b[J');
  });
});
