/**
 * `--kernel-version V` on run, watch, serve and stress (SPEC section 8): a release klpsim models, else
 * exit 2 before anything runs; it overrides the scenario's `kernel_version:`, whose bad values are
 * `FILE:LINE:COL` errors; a stress run's replay command keeps it.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runCli } from './run-cli';
import { replayCommand } from '../../src/stress/summary';
import type { StressResult } from '../../src/stress/stress-run';

const BASIC = resolve(__dirname, '../../scenarios/test-livepatch-basic.yaml');
const dir = mkdtempSync(join(tmpdir(), 'klpsim-kver-'));
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

const COMMANDS: [string, string[]][] = [
  ['run', ['run', BASIC]],
  ['watch', ['watch', BASIC]],
  ['serve', ['serve', BASIC, '--port', '0']],
  ['stress', ['stress', '--ops', '1']],
];

describe('--kernel-version', () => {
  it.each(COMMANDS)('%s: a release klpsim does not model is exit 2', async (_name, args) => {
    for (const v of ['4.19', '5.0', '6.14', '7', 'latest', '']) {
      const r = await runCli([...args, '--kernel-version', v]);
      expect(r.code).toBe(2);
      expect(r.out).toBe('');
      expect(r.err).toBe(
        `klpsim: option '--kernel-version <v>' argument '${v}' is invalid. --kernel-version must be a release from 5.1 to 6.13 (e.g. 5.1, 6.12)\n`,
      );
    }
  });

  it("overrides the scenario's kernel_version: (the sysfs replace attribute is 6.11's)", async () => {
    const p = file(
      'replace-attr.yaml',
      'name: r\ncpus: 1\nkernel_version: "6.12"\nkernel:\n  functions:\n    f: |\n      xor eax, eax\n      ret\n' +
        'modules:\n  lp:\n    livepatch:\n      objects:\n        vmlinux:\n          funcs:\n            f: |\n              mov eax, 1\n              ret\n' +
        'steps:\n  - sh: modprobe lp\n  - wait: transition\n  - sh: cat /sys/kernel/livepatch/lp/replace > /dev/kmsg\n',
    );
    const on612 = await runCli(['run', p, '--deterministic', '--format', 'dmesg']);
    expect(on612.code).toBe(0);
    expect(on612.out).toMatch(/% cat \/sys\/kernel\/livepatch\/lp\/replace > \/dev\/kmsg\n\[[ .0-9]+\] 0\n/);
    const on51 = await runCli(['run', p, '--deterministic', '--format', 'dmesg', '--kernel-version', '5.1']);
    expect(on51.out).toContain('cat: /sys/kernel/livepatch/lp/replace: No such file or directory');
  }, 30_000);

  it('a bad kernel_version: in a scenario is FILE:LINE:COL, exit 2 (an unquoted 5.10 is the number 5.1)', async () => {
    const unquoted = file('unquoted.yaml', 'name: u\nkernel_version: 5.10\n');
    const r = await runCli(['check', unquoted]);
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      `${unquoted}:2:17: kernel_version must be a quoted release from 5.1 to 6.13, e.g. "6.12" (YAML reads an unquoted 5.10 as the number 5.1), got 5.1\n`,
    );
    const old = file('old.yaml', 'name: o\nkernel_version: "4.19"\n');
    expect((await runCli(['check', old])).err).toContain(`${old}:2:17: kernel_version must be a quoted release from 5.1 to 6.13`);
    expect((await runCli(['check', file('ok.yaml', 'name: k\nkernel_version: "5.10"\n')])).code).toBe(0);
  });

  it("a stress run's replay command names a release other than the default", () => {
    const r = (kernelVersion?: string): StressResult =>
      ({
        seed: 3,
        options: { cpus: 2, tasks: 4, seed: 3, deterministic: true, nopRemoval: true, faults: [], kernelVersion },
      }) as unknown as StressResult;
    expect(replayCommand(r('5.1'), 5)).toBe('klpsim stress --cpus 2 --tasks 4 --seed 3 --ops 5 --kernel-version 5.1 --deterministic');
    expect(replayCommand(r('6.12'), 5)).toBe('klpsim stress --cpus 2 --tasks 4 --seed 3 --ops 5 --deterministic');
    expect(replayCommand(r(), 5)).toBe('klpsim stress --cpus 2 --tasks 4 --seed 3 --ops 5 --deterministic');
  });

  it('stress runs on the release it names (a short deterministic run on 5.1 is clean)', async () => {
    const r = await runCli(['stress', '--ops', '5', '--tasks', '4', '--cpus', '2', '--deterministic', '--kernel-version', '5.1']);
    expect(r.code).toBe(0);
    expect(r.out + r.err).toContain('deterministic (lockstep), kernel 5.1');
  }, 60_000);
});
