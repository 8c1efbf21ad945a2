/**
 * Oopses as v5.1 prints them: show_fault_oops()'s decoded page-fault error code, __die_header()'s
 * `Oops: ERR [#N]` with the oops number counted across CPUs, and print_tainted(): nothing before the first
 * oops, D after it, K only once a livepatch module has been loaded (check_modinfo_livepatch()).
 */
import { resolve } from 'path';
import { runScenario } from '../scenarios/helpers';
import { printTainted, Taint } from '../../src/kernel/taint';

/** The lines an oops prints before its `CPU:` line (show_fault_oops() and __die_header()). */
const OOPS_HEAD = /^(BUG: |#PF: |kernel tried to execute|[a-z][a-z ()]*: [0-9a-f]{4} \[#|Oops: )/i;

/** The oops that a task's fault printed, up to its `CPU:` line (without the CPU and PID). */
function oopsOf(log: string[], comm: string): string[] {
  const cpuLine = log.findIndex((l) => new RegExp(`^CPU: \\d+ PID: \\d+ Comm: ${comm} `).test(l));
  expect(cpuLine).toBeGreaterThan(0);
  let start = cpuLine;
  while (start > 0 && OOPS_HEAD.test(log[start - 1])) start--;
  return log.slice(start, cpuLine + 1).map((l) => l.replace(/^CPU: \d+ PID: \d+ /, ''));
}

describe('oopses', () => {
  let log: string[];
  beforeAll(async () => {
    log = (await runScenario(resolve(__dirname, '../scenarios/fixtures/oops.yaml'))).log;
  });

  it('decode the error code of a read of a page that is not present', () => {
    expect(oopsOf(log, 'a')).toEqual([
      'BUG: kernel NULL pointer dereference, address: 0000000000000008',
      '#PF: supervisor read access in kernel mode',
      '#PF: error_code(0x0000) - not-present page',
      'Oops: 0000 [#1] SMP',
      'Comm: a Not tainted 5.1.0 #1',
    ]);
  });

  it('decode a write, a write to read-only text and a fetch from a no-execute page, each numbered, tainted D after the first', () => {
    const rest = [oopsOf(log, 'b'), oopsOf(log, 'c'), oopsOf(log, 'd')];
    expect(rest.map((o) => o.slice(0, 3))).toEqual([
      [
        'BUG: kernel NULL pointer dereference, address: 0000000000000010',
        '#PF: supervisor write access in kernel mode',
        '#PF: error_code(0x0002) - not-present page',
      ],
      [
        expect.stringMatching(/^BUG: unable to handle page fault for address: 0{8}[0-9a-f]{8}$/),
        '#PF: supervisor write access in kernel mode',
        '#PF: error_code(0x0003) - permissions violation',
      ],
      [
        'kernel tried to execute NX-protected page - exploit attempt? (uid: 0)',
        expect.stringMatching(/^BUG: unable to handle page fault for address: /),
        '#PF: supervisor instruction fetch in kernel mode',
      ],
    ]);
    expect(rest.map((o) => o[o.length - 2].replace(/\[#\d\]/, '[#N]'))).toEqual([
      'Oops: 0002 [#N] SMP',
      'Oops: 0003 [#N] SMP',
      'Oops: 0011 [#N] SMP',
    ]);
    expect(new Set([...rest, oopsOf(log, 'e')].map((o) => /\[#(\d)\]/.exec(o[o.length - 2])?.[1]))).toEqual(new Set(['2', '3', '4', '5']));
    for (const o of rest) expect(o[o.length - 1]).toMatch(/ Tainted: G {6}D {11}5\.1\.0 #1$/);
  });

  it("print show_opcodes()'s 42 bytes before RIP, <RIP's byte>, 21 after, or 'Bad RIP value.' where they cannot all be read", () => {
    const codeAfter = (where: RegExp): string => log[log.findIndex((l) => where.test(l)) + 1];
    // text_write: `lea rax, [rip + text_write]` (7 bytes after the 5-byte ftrace site), then `mov [rax], rax`
    expect(codeAfter(/^RIP: 0010:text_write\+0xc\//)).toMatch(
      /^Code: ([0-9a-f]{2} ){30}0f 1f 44 00 00 48 8d 05 f4 ff ff ff <48> 89 00 c3( [0-9a-f]{2}){18}$/,
    );
    // null_read is the first function of the text: the page below it is not mapped
    expect(codeAfter(/^RIP: 0010:null_read\+0x7\//)).toBe('Code: Bad RIP value.');
  });

  it('report a fault on the guard page next to a stack as a stack overflow', () => {
    const o = oopsOf(log, 'e');
    expect(o[0]).toMatch(/^BUG: stack guard page was hit at ([0-9a-f]{16}) \(stack is ([0-9a-f]{16})\.\.([0-9a-f]{16})\)$/);
    const [, hit, lo, hi] = /at (\w+) \(stack is (\w+)\.\.(\w+)\)/.exec(o[0]) ?? [];
    expect(parseInt(hi, 16) - parseInt(lo, 16)).toBe(16 * 1024 - 1);
    expect(parseInt(lo, 16) - parseInt(hit, 16)).toBeGreaterThan(0);
    expect(parseInt(lo, 16) - parseInt(hit, 16)).toBeLessThanOrEqual(4096);
    expect(o[1]).toMatch(/^kernel stack overflow \(page fault\): 0000 \[#\d\] SMP$/);
  });

  it('taint K only once a livepatch module has been loaded, with the notice printed once', () => {
    expect(log.filter((l) => l.includes('tainting'))).toEqual(['lp: tainting kernel with TAINT_LIVEPATCH']);
    expect(oopsOf(log, 'late')).toEqual([
      'BUG: kernel NULL pointer dereference, address: 0000000000000008',
      '#PF: supervisor read access in kernel mode',
      '#PF: error_code(0x0000) - not-present page',
      'Oops: 0000 [#6] SMP',
      'Comm: late Tainted: G      D       K   5.1.0 #1',
    ]);
  });

  it('print_tainted() shows one column per v5.1 taint flag', () => {
    expect(printTainted(0)).toBe('Not tainted');
    expect(printTainted(1 << Taint.Livepatch)).toBe('Tainted: G              K  ');
    expect(printTainted(1 << Taint.Livepatch).length).toBe('Tainted: '.length + 18);
  });
});
