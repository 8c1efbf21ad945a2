/**
 * kernel.ftrace_enabled and FTRACE_OPS_FL_PERMANENT (5.5, "ftrace: Introduce PERMANENT ftrace_ops
 * flag"): from 5.5 the sysctl refuses 0 while a live patch is loaded; before, 0 turns every site back
 * into a NOP and the patch silently stops working until the sysctl is 1 again. And the sysctl command's
 * own parsing and messages.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join, resolve } from 'path';
import { parseShellCommand, ShellParseError } from '../../src/scenario/shell-command';
import { runScenario } from '../scenarios/helpers';

const SHIPPED = readFileSync(resolve(__dirname, '../../scenarios/test-ftrace.yaml'), 'utf8');

function scenario(version: string, steps: string): string {
  const text = SHIPPED.replace('kernel_version: "6.12"', `kernel_version: "${version}"`).replace(/steps:[\s\S]*$/, `steps:\n${steps}`);
  const file = join(mkdtempSync(join(tmpdir(), 'klpsim-ftrace-')), 'ftrace.yaml');
  writeFileSync(file, text);
  return file;
}

const PATCHED = 'test_klp_livepatch: this has been live patched';
const ORIGINAL = 'BOOT_IMAGE=/boot/vmlinuz root=/dev/vda1 ro quiet';

describe('kernel.ftrace_enabled', () => {
  it('before 5.5: 0 is accepted with a patch loaded, and the patch stops working until 1', async () => {
    const r = await runScenario(
      scenario(
        '5.4',
        [
          '  - sh: insmod test_modules/test_klp_livepatch.ko',
          '  - wait: transition',
          `  - expect: { sh: cat /proc/cmdline, stdout: "${PATCHED}" }`,
          '  - expect: { sh: sysctl kernel.ftrace_enabled=0, stdout: "kernel.ftrace_enabled = 0" }',
          `  - expect: { sh: cat /proc/cmdline, stdout: "${ORIGINAL}" }`,
          '  - expect: { sh: echo 1 > /proc/sys/kernel/ftrace_enabled, exit: 0 }',
          `  - expect: { sh: cat /proc/cmdline, stdout: "${PATCHED}" }`,
          '',
        ].join('\n'),
      ),
    );
    expect(r.result.failures.map((f) => f.message)).toEqual([]);
    expect(r.result.exitCode).toBe(0);
  });

  it('from 5.5: 0 is refused while the patch is loaded, through sysctl and /proc/sys', async () => {
    const r = await runScenario(
      scenario(
        '5.5',
        [
          '  - sh: insmod test_modules/test_klp_livepatch.ko',
          '  - wait: transition',
          '  - expect: { sh: sysctl kernel.ftrace_enabled=0, exit: 1, stderr: \'sysctl: setting key "kernel.ftrace_enabled": Device or resource busy\' }',
          '  - expect: { sh: echo 0 > /proc/sys/kernel/ftrace_enabled, exit: 1, stderr: "-bash: echo: write error: Device or resource busy" }',
          '  - expect: { sh: cat /proc/sys/kernel/ftrace_enabled, stdout: "1" }',
          `  - expect: { sh: cat /proc/cmdline, stdout: "${PATCHED}" }`,
          '  - expect: { sh: sysctl kernel.ftrace_enabled=abc, exit: 1, stderr: \'sysctl: setting key "kernel.ftrace_enabled": Invalid argument\' }',
          '  - expect: { sh: sysctl kernel.nope, exit: 255, stderr: "sysctl: cannot stat /proc/sys/kernel/nope: No such file or directory" }',
          '  - expect: { sh: ls /proc/sys/kernel, stdout: "ftrace_enabled" }',
          '',
        ].join('\n'),
      ),
    );
    expect(r.result.failures.map((f) => f.message)).toEqual([]);
    expect(r.result.exitCode).toBe(0);
  });

  it('parses sysctl as procps does: -q, -n/--values, KEY or KEY=VALUE', () => {
    expect(parseShellCommand('sysctl -q kernel.ftrace_enabled=0')).toEqual({
      cmd: 'sysctl',
      key: 'kernel.ftrace_enabled',
      value: '0',
      quiet: true,
      valuesOnly: false,
      keyCol: 11,
    });
    expect(parseShellCommand('sysctl -n kernel/ftrace_enabled')).toMatchObject({ key: 'kernel/ftrace_enabled', valuesOnly: true });
    expect(() => parseShellCommand('sysctl -a')).toThrow(ShellParseError);
    expect(() => parseShellCommand('sysctl')).toThrow('sysctl: missing KEY or KEY=VALUE');
  });
});
