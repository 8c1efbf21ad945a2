/**
 * Other ftrace users on a live-patched function's site (issue 15 item 3): the function tracer, kprobes
 * and kprobe events; the site calling its lone ops' trampoline or ftrace_ops_list_func; the IPMODIFY
 * conflict from both sides and across releases (kprobe_ipmodify_ops 5.4, the kprobe WARNs 5.16); tracefs's
 * files and their errors.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join, resolve } from 'path';
import { Simulation } from '../../src/scenario/simulation';
import type { SimEvent } from '../../src/kernel/events';
import { loadScenarioFile } from '../../src/scenario';
import { computeLayout, DEFAULT_MACHINE } from '../../src/mem/layout';
import { FTRACE_USERS_BYTES } from '../../src/mem/ftrace-users';
import { RECORD_BYTES, SLAB_HEADER_BYTES, slabCapacity } from '../../src/kernel/slab';
import { FILTER_SLOTS } from '../../src/livepatch/klp-records';
import { CONSISTENCY_MAX_ENTRIES } from '../../src/livepatch/consistency-table';

const SHIPPED = readFileSync(resolve(__dirname, '../../scenarios/test-kprobe.yaml'), 'utf8');
const T = '/sys/kernel/tracing';
const PATCHED = 'test_klp_livepatch: this has been live patched';

function scenario(version: string, steps: string[]): string {
  const text = SHIPPED.replace('kernel_version: "6.12"', `kernel_version: "${version}"`).replace(
    /steps:[\s\S]*$/,
    `steps:\n${steps.map((s) => `  - ${s}`).join('\n')}\n`,
  );
  const file = join(mkdtempSync(join(tmpdir(), 'klpsim-ftrace-users-')), 'users.yaml');
  writeFileSync(file, text);
  return file;
}

interface Run {
  exit: number;
  failures: string[];
  log: string[];
  events: SimEvent[];
  sh: Map<string, { stdout: string; stderr: string; exit: number }>;
}

async function run(version: string, steps: string[], deterministic = true): Promise<Run> {
  const sim = await Simulation.fromFile(scenario(version, steps), { deterministic });
  const events: SimEvent[] = [];
  const log: string[] = [];
  const sh = new Map<string, { stdout: string; stderr: string; exit: number }>();
  sim.events$.subscribe((e) => {
    if (e.type === 'log') log.push(e.text);
    else if (e.type === 'sh') sh.set(e.command, { stdout: e.stdout, stderr: e.stderr, exit: e.exit });
    else if (e.type !== 'task.state' && e.type !== 'text.poke' && e.type !== 'ipi.sync_core') events.push(e);
  });
  const result = await sim.run();
  return { exit: result.exitCode, failures: result.failures.map((f) => f.message), log, events, sh };
}

const sites = (r: Run): string[] =>
  r.events.flatMap((e) => (e.type === 'ftrace.site' && e.func === 'cmdline_proc_show' ? [`${e.ops}:${e.target}`] : []));

describe('the function tracer and livepatch on one site', () => {
  let r: Run;
  beforeAll(async () => {
    r = await run('6.12', [
      `{ sh: echo cmdline_proc_show > ${T}/set_ftrace_filter }`,
      `{ sh: echo function > ${T}/current_tracer }`,
      'sh: insmod test_modules/test_klp_livepatch.ko',
      'wait: transition',
      `expect: { sh: cat /proc/cmdline, stdout: "${PATCHED}" }`,
      `sh: cat ${T}/trace`,
      `sh: echo nop > ${T}/current_tracer`,
      `sh: cat ${T}/current_tracer`,
      'sh: echo 0 > /sys/kernel/livepatch/test_klp_livepatch/enabled',
      'wait: transition',
      'sh: rmmod test_klp_livepatch',
    ]);
  });

  it('runs clean', () => {
    expect(r.failures).toEqual([]);
    expect(r.exit).toBe(0);
  });

  it('moves the site: the tracer alone, then the list function, then livepatch alone, then the NOP', () => {
    expect(sites(r)).toEqual(['1:ftrace_caller', '2:ftrace_ops_list_func', '1:ftrace_caller', '0:nop']);
  });

  it('traces the patched function as the function tracer prints it, while the patch works', () => {
    const trace = r.sh.get(`cat ${T}/trace`)?.stdout ?? '';
    const lines = trace.split('\n');
    expect(lines.slice(0, 4)).toEqual([
      '# tracer: function',
      '#',
      expect.stringMatching(/^# entries-in-buffer\/entries-written: \d+\/\d+ {3}#P:2$/),
      '#',
    ]);
    expect(lines[10]).toBe('#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION');
    const entries = lines.filter((l) => l !== '' && !l.startsWith('#'));
    expect(entries.length).toBeGreaterThan(0);
    for (const l of entries) expect(l).toMatch(/^ {0,15}\S+-\d+ +\[00[01]\] \.\.\.\.\. +\d+\.\d{6}: cmdline_proc_show <-ret_from_call$/);
    // The shell's `cat /proc/cmdline` (after the transition) is among them: the tracer saw the patched call.
    expect(entries.some((l) => /^ +cat-\d+ /.test(l))).toBe(true);
  });

  it('current_tracer reads back', () => {
    expect(r.sh.get(`cat ${T}/current_tracer`)?.stdout).toBe('nop\n');
  });

  it('the same on worker threads', async () => {
    const w = await run(
      '6.12',
      [
        `{ sh: echo cmdline_proc_show > ${T}/set_ftrace_filter }`,
        `{ sh: echo function > ${T}/current_tracer }`,
        'sh: insmod test_modules/test_klp_livepatch.ko',
        'wait: transition',
        `expect: { sh: cat /proc/cmdline, stdout: "${PATCHED}" }`,
        `expect: { sh: grep -c cmdline_proc_show ${T}/trace, exit: 0 }`,
        'sh: echo 0 > /sys/kernel/livepatch/test_klp_livepatch/enabled',
        'wait: transition',
        'sh: rmmod test_klp_livepatch',
      ],
      false,
    );
    expect(w.failures).toEqual([]);
    expect(w.exit).toBe(0);
  });
});

describe('the IPMODIFY conflict, livepatch first', () => {
  it('6.12: a kprobe with a post_handler is refused with the kprobe WARN and -EBUSY', async () => {
    const r = await run('6.12', [
      'sh: insmod test_modules/test_klp_livepatch.ko',
      'wait: transition',
      'expect: { sh: insmod test_modules/test_klp_kprobe.ko, exit: 1, stderr: "insmod: ERROR: could not insert module test_modules/test_klp_kprobe.ko: Device or resource busy" }',
      'expect: { sh: insmod test_modules/test_klp_kprobe.ko has_post_handler=0, exit: 0 }',
      'sh: rmmod test_klp_kprobe',
      'sh: echo 0 > /sys/kernel/livepatch/test_klp_livepatch/enabled',
      'wait: transition',
      'sh: rmmod test_klp_livepatch',
    ]);
    expect(r.failures).toEqual([]);
    expect(r.log).toContain('Failed to register kprobe-ftrace (error -16)');
    expect(r.log[r.log.indexOf('Failed to register kprobe-ftrace (error -16)') - 1]).toBe('------------[ cut here ]------------');
    expect(r.events).toContainEqual(
      expect.objectContaining({ type: 'ftrace.ipmodify_conflict', ops: 'kprobe_ipmodify_ops', holder: 'livepatch:cmdline_proc_show' }),
    );
  });

  it('5.10: the same refusal, without the WARN (pr_debug before 5.16)', async () => {
    const r = await run('5.10', [
      'sh: insmod test_modules/test_klp_livepatch.ko',
      'wait: transition',
      'expect: { sh: insmod test_modules/test_klp_kprobe.ko, exit: 1 }',
    ]);
    expect(r.failures).toEqual([]);
    expect(r.log.filter((l) => l.includes('kprobe-ftrace'))).toEqual([]);
  });

  it('5.3: before kprobe_ipmodify_ops every ftrace kprobe is IPMODIFY, so livepatch is refused even without a post_handler', async () => {
    const r = await run('5.3', [
      // kstrtobool() before 5.19 takes no "false": 0 is the old spelling.
      'sh: insmod test_modules/test_klp_kprobe.ko has_post_handler=0',
      'expect: { sh: insmod test_modules/test_klp_livepatch.ko, exit: 1, stderr: "insmod: ERROR: could not insert module test_modules/test_klp_livepatch.ko: Device or resource busy" }',
      'expect: { dmesg: "livepatch: failed to register ftrace handler for function \'cmdline_proc_show\' (-16)" }',
      'sh: rmmod test_klp_kprobe',
    ]);
    expect(r.failures).toEqual([]);
    expect(r.exit).toBe(0);
  });
});

describe('kprobe events', () => {
  let r: Run;
  beforeAll(async () => {
    r = await run('6.12', [
      `sh: "echo 'p:myprobe cmdline_proc_show' > ${T}/kprobe_events"`,
      `sh: cat ${T}/kprobe_events`,
      `sh: echo 1 > ${T}/events/kprobes/myprobe/enable`,
      'sh: insmod test_modules/test_klp_livepatch.ko',
      'wait: transition',
      `expect: { sh: cat /proc/cmdline, stdout: "${PATCHED}" }`,
      `expect: { sh: 'grep -c "myprobe: (cmdline_proc_show+0x0/0x19)" ${T}/trace', exit: 0 }`,
      `expect: { sh: "echo '-:myprobe' >> ${T}/kprobe_events", exit: 1, stderr: "-bash: echo: write error: Device or resource busy" }`,
      `expect: { sh: "echo 'p:other cmdline_proc_show' > ${T}/kprobe_events", exit: 1, stderr: "-bash: ${T}/kprobe_events: Device or resource busy" }`,
      `sh: echo 0 > ${T}/events/kprobes/myprobe/enable`,
      `sh: "echo '-:myprobe' >> ${T}/kprobe_events"`,
      `expect: { sh: cat ${T}/kprobe_events, stdout: "" }`,
      'sh: echo 0 > /sys/kernel/livepatch/test_klp_livepatch/enabled',
      'wait: transition',
      'sh: rmmod test_klp_livepatch',
    ]);
  });

  it('runs clean, the probe and the patch sharing the site', () => {
    expect(r.failures).toEqual([]);
    expect(r.exit).toBe(0);
    expect(r.sh.get(`cat ${T}/kprobe_events`)?.stdout).toBe('p:kprobes/myprobe cmdline_proc_show\n');
    expect(sites(r)).toContain('2:ftrace_ops_list_func');
  });
});

describe('tracefs files and their errors', () => {
  let r: Run;
  beforeAll(async () => {
    r = await run('6.12', [
      `expect: { sh: cat ${T}/available_tracers, stdout: "function nop" }`,
      `expect: { sh: cat ${T}/current_tracer, stdout: "nop" }`,
      `expect: { sh: cat /sys/kernel/debug/tracing/set_ftrace_filter, stdout: "#### all functions enabled ####" }`,
      `expect: { sh: echo bogus > ${T}/current_tracer, exit: 1, stderr: "-bash: echo: write error: Invalid argument" }`,
      `expect: { sh: echo no_such_function > ${T}/set_ftrace_filter, exit: 1, stderr: "-bash: echo: write error: Invalid argument" }`,
      `expect: { sh: echo abc > ${T}/tracing_on, exit: 1, stderr: "-bash: echo: write error: Invalid argument" }`,
      `expect: { sh: "echo 'p:bad no_such_function' > ${T}/kprobe_events", exit: 1, stderr: "-bash: echo: write error: No such file or directory" }`,
      `expect: { sh: "echo 'x:bad' > ${T}/kprobe_events", exit: 1, stderr: "-bash: echo: write error: Invalid argument" }`,
      `expect: { sh: echo 1 > ${T}/nosuchfile, exit: 1, stderr: "-bash: ${T}/nosuchfile: Permission denied" }`,
      `expect: { sh: echo x > ${T}/available_tracers, exit: 1, stderr: "-bash: ${T}/available_tracers: Permission denied" }`,
      `sh: echo "cmdline_*" > ${T}/set_ftrace_filter`,
      `expect: { sh: cat ${T}/set_ftrace_filter, stdout: "cmdline_proc_show" }`,
      `expect: { sh: cat ${T}/tracing_on, stdout: "1" }`,
      `expect: { sh: cat /sys/kernel/debug/kprobes/enabled, stdout: "1" }`,
      `expect: { sh: ls ${T}, stdout: "available_tracers\\ncurrent_tracer\\nevents\\nkprobe_events\\nset_ftrace_filter\\ntrace\\ntracing_on" }`,
    ]);
  });

  it("gives the real tools' messages", () => {
    expect(r.failures).toEqual([]);
    expect(r.exit).toBe(0);
  });
});

describe('klpsim check of the kprobe actions', () => {
  const bad = (steps: string): string => {
    const text = SHIPPED.replace(
      '      - register_kprobe: { symbol: cmdline_proc_show, post_handler: post_handler, post_handler_if: "${has_post_handler}" }',
      steps,
    );
    const file = join(mkdtempSync(join(tmpdir(), 'klpsim-kprobe-check-')), 'bad.yaml');
    writeFileSync(file, text);
    return file;
  };

  it('names an unknown probed function and handler at FILE:LINE:COL', () => {
    const file = bad('      - register_kprobe: { symbol: no_such_function, post_handler: nope }');
    expect(() => loadScenarioFile(file)).toThrow(
      new RegExp(`${file}:\\d+:\\d+: unknown function 'no_such_function'[\\s\\S]*${file}:\\d+:\\d+: unknown function 'nope'`),
    );
  });

  it('refuses a kernel service as the probed function, and a probe outside init and exit', () => {
    const file = bad(
      '      - register_kprobe: { symbol: printk }\n      - start_task: { name: t, once: true, run: [ { register_kprobe: { symbol: cmdline_proc_show } } ] }',
    );
    expect(() => loadScenarioFile(file)).toThrow(/unknown function 'printk'[\s\S]*register_kprobe\(\) is for a module's init and exit/);
  });
});

describe('the FTRACE region', () => {
  it('holds the filter, the consistency table, the slab and the ftrace users tables without overlap', () => {
    const l = computeLayout(DEFAULT_MACHINE);
    // The header: livepatch's filter (8 KiB), then the consistency table (Header.Words = 4 words, then entries).
    expect(FILTER_SLOTS * 8).toBeLessThanOrEqual(8 * 1024);
    expect(8 * 1024 + (4 + CONSISTENCY_MAX_ENTRIES * 6) * 4).toBeLessThanOrEqual(SLAB_HEADER_BYTES);
    // Records 1 … capacity-1 (0 is never handed out): the last ends before the site users table, the control block and the trace rings.
    const slabEnd = l.ftraceBase + SLAB_HEADER_BYTES + slabCapacity(l.ftraceEnd - l.ftraceBase) * RECORD_BYTES;
    expect(slabEnd).toBeLessThanOrEqual(l.ftraceEnd - FTRACE_USERS_BYTES);
  });
});
