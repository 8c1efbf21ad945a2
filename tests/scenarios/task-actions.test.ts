/**
 * What tasks' run lists do (SPEC section 2), issue 11 items 1, 3 and 4: printk, start_task and stop_task
 * are performed on the task's CPU at its time (start_task / stop_task through the request path to the
 * coordinator); `${param}` in sleep_ms and call arguments is read when the action runs, and a value that
 * does not fit fails the run at the `${`; a pass that takes no time of its own still ends or progresses.
 * Every run in both modes: worker threads and --deterministic lockstep.
 */
import { readFileSync } from 'fs';
import { resolve } from 'path';
import { parseScenario, ScenarioError } from '../../src/scenario';
import { runScenario } from './helpers';

const FIXTURES = resolve(__dirname, 'fixtures');
const fixture = (name: string): string => resolve(FIXTURES, name);

/** The `line:col` (1-based) of the first `needle` in a fixture. */
function posOf(name: string, needle: string): string {
  const lines = readFileSync(fixture(name), 'utf8').split('\n');
  const line = lines.findIndex((l) => l.includes(needle));
  return `${fixture(name)}:${line + 1}:${lines[line].indexOf(needle) + 1}`;
}

function checkErrors(text: string): string[] {
  try {
    parseScenario(text, 'test.yaml');
    return [];
  } catch (e) {
    if (e instanceof ScenarioError) return e.message.split('\n');
    throw e;
  }
}

/**
 * Log lines with their simulated times in ms, for the lines that `keep` selects. Times are truncated to
 * 0.1 ms: what the kernel's work costs besides the sleeps (system calls, context switches, printk, timer
 * set-up: src/kernel/time-model.ts, 2–4 µs a pass here) adds up to some tens of µs in these runs, as a
 * kernel thread's msleep() loop drifts by its own work.
 */
const timed = (log: string[], times: number[], keep: (l: string) => boolean): string[] =>
  log
    .map((l, i) => ({ l, t: times[i], i }))
    .filter((x) => keep(x.l))
    // In simulated-time order: on worker threads the lines of two CPUs arrive in the order their threads
    // posted them, which for lines with no causal link need not be the order they were printed in (README,
    // "The order of two CPUs' lines on worker threads").
    .sort((a, b) => a.t - b.t || a.i - b.i)
    .map((x) => `${(Math.floor(x.t / 1e5) / 10).toFixed(2)} ${x.l}`);

describe.each([true, false])('task actions (deterministic: %s)', (deterministic) => {
  it('printk, start_task and stop_task in run lists are performed, at the task time', async () => {
    const { result, log, times } = await runScenario(fixture('task-actions.yaml'), { deterministic });
    expect(result.failures).toEqual([]);
    expect(result.violations).toBe(0);
    const lines = timed(log, times, (l) => !l.startsWith('% '));
    // Sleeps are 6.12's msleep(): ms + 1 jiffies, fired from the tick of the timer wheel's bucket above
    // the expiry (src/kernel/timer-wheel.ts): msleep(3) wakes 5 ms later, msleep(10) 12 ms later (level
    // 0: the tick after the expiry). The static kthread starts its child, stops it 12 ms later (the child
    // ends the pass it is in: the one started at 10 ms, sleeping until it is woken), then starts a
    // one-shot work item.
    expect(lines.filter((l) => /parent|child/.test(l))).toEqual([
      '0.00 parent: starting child',
      '0.00 child: pass',
      '5.00 child: pass',
      '10.00 child: pass',
      '12.00 parent: child stopped',
      '12.00 grandchild: once',
    ]);
    // napper sleeps in msleep(500) from 0 ms: 501 jiffies, level 1 (8-jiffy buckets), so it wakes at
    // 504 ms; stop_task at 22 ms waits for it to return and end. late's msleep(900) is level 2 (64-jiffy
    // buckets, aligned to jiffies counted from INITIAL_JIFFIES): 928 ms, then 1888 ms.
    // (Up to the rmmod at 2050 ms: while its kthread_stop() waits, the coordinator holds no time back, so
    // on worker threads the idle CPUs may skip on to late's next tick at 2848 ms before the run ends.)
    expect(lines.filter((l) => /stopper|late/.test(l) && Number.parseFloat(l) < 2050)).toEqual([
      '504.00 stopper: napper stopped',
      '928.00 late: tick',
      '1888.00 late: tick',
    ]);
    // test_klp_callbacks_busy's work item, its work function as a run list: it logs from the list; its
    // msleep(1000) from 50 ms ends at the level-2 bucket at 1056 ms.
    expect(lines.filter((l) => l.includes('test_klp_callbacks_busy'))).toEqual([
      '50.00 test_klp_callbacks_busy: test_klp_callbacks_busy_init',
      '50.00 test_klp_callbacks_busy: busymod_work_func, sleeping 10 seconds ...',
      '1056.00 test_klp_callbacks_busy: busymod_work_func exit',
      '2050.00 test_klp_callbacks_busy: test_klp_callbacks_busy_exit',
    ]);
  }, 60_000);

  it('${param} in sleep_ms and call args is read when the action runs; a value that does not fit fails at its ${', async () => {
    const { result, log, times } = await runScenario(fixture('param-values.yaml'), { deterministic });
    const lines = timed(log, times, (l) => l.startsWith('show_arg') || l.startsWith('pm:'));
    // init: show_arg(${arg}), then msleep(${text_ms}) of the charp ("5"): 6 jiffies, woken at the tick
    // after, 7 ms; the worker's passes every msleep(${period}) — 20 ms: 21 jiffies, 22 ms — until the
    // writes at 57 ms: from the next pass on, arg 11 and msleep(1000), whose level-2 bucket (64 jiffies,
    // counted from INITIAL_JIFFIES) is at 1120 ms.
    expect(lines).toEqual([
      '0.00 show_arg: 7',
      '7.00 show_arg: 7',
      '7.00 pm: period 20',
      '29.00 show_arg: 7',
      '29.00 pm: period 20',
      '51.00 show_arg: 7',
      '51.00 pm: period 20',
      '73.00 show_arg: 11',
      '73.00 pm: period 1000',
      '1120.00 show_arg: 11',
      '1120.00 pm: period 1000',
    ]);
    expect(result.exitCode).toBe(1);
    expect(result.failures.map((f) => `${f.pos.file}:${f.pos.line}:${f.pos.col}: ${f.message}`)).toEqual([
      `${posOf('param-values.yaml', '${label}" ]')}: \${label} is 'soon', not an integer`,
      `${posOf('param-values.yaml', '${label}" }')}: task bad_worker (pid 3): \${label} is 'soon', not an integer; the task is ended`,
    ]);
  }, 60_000);

  it('a pass that takes no time of its own ends or progresses: sleep_ms 0 ticks, a call of a missing function kills its task once', async () => {
    const { result, log } = await runScenario(fixture('zero-time.yaml'), { deterministic });
    expect(result.exitCode).toBe(1);
    expect(result.failures.map((f) => `${f.pos.file}:${f.pos.line}:${f.pos.col}: ${f.message}`)).toEqual([
      `${posOf('zero-time.yaml', '{ call: m_func }')}: task caller (pid 2): m_func() is not loaded (no such function in the running kernel or its modules); the task is ended`,
    ]);
    expect(log.filter((l) => l.includes('m_func'))).toHaveLength(1);
    // One simulated second: the spinner sleeps one tick (1 ms) per pass, two task.state events each.
    expect(result.events).toBeGreaterThan(1_000);
    expect(result.events).toBeLessThan(10_000);
  }, 60_000);

  it('two tasks stopping each other hang as in the kernel, but simulated time goes on and the run ends', async () => {
    const { result, log } = await runScenario(fixture('mutual-stop.yaml'), { deterministic });
    expect(result.exitCode).toBe(0);
    expect(log).toEqual(['% echo done > /dev/kmsg', 'done']);
  }, 30_000);
});

describe('klpsim check and task actions', () => {
  const base = (tasks: string, modules = ''): string =>
    `name: t\nkernel:\n  functions:\n    f: |\n      ret\n${modules}tasks:\n${tasks}steps: [ { sleep_ms: 1 } ]\n`;

  it('accepts ${param} in sleep_ms and call args inside a module, refuses it elsewhere or unknown, at the ${', () => {
    const mod = `modules:\n  m:\n    params: { ms: 5 }\n    init:\n      - sleep_ms: "\${ms}"\n      - call: { func: f, args: [1, "\${ms}"] }\n      - call: { func: f, args: ["\${nope}"] }\n`;
    expect(checkErrors(base(`  - { name: a, run: [ { sleep_ms: "\${ms}" } ] }\n`, mod))).toEqual([
      "test.yaml:12:34: unknown parameter '${nope}' (module m has: ms)",
      "test.yaml:14:36: parameter reference '${ms}' outside a module",
    ]);
  });

  it('refuses a repeating task whose run list takes no time, and names it; once: true may', () => {
    expect(checkErrors(base(`  - name: a\n    run: [ { printk: "a" } ]\n`))).toEqual([
      "test.yaml:8:5: task 'a' repeats its run list until it is stopped, and nothing in it takes time (only printk, start_task, stop_task): add a sleep_ms or a call, or make it once: true",
    ]);
    expect(checkErrors(base(`  - name: a\n    run: [ { printk: "a" }, { sleep_ms: 0 } ]\n`))).toEqual([]);
    const mod = `modules:\n  m:\n    init:\n      - start_task: { name: w, once: true, run: [ { printk: "w" } ] }\n      - start_task: { name: l, run: [ { printk: "l" } ] }\n`;
    expect(checkErrors(base(`  - { name: a, run: [ { call: f } ] }\n`, mod))).toEqual([
      "test.yaml:10:29: task 'l' repeats its run list until it is stopped, and nothing in it takes time (only printk, start_task, stop_task): add a sleep_ms or a call, or make it once: true",
    ]);
  });

  it("refuses ${object} and ${module_state} in a task's run: they name a callback's object", () => {
    const mod = `modules:\n  m:\n    init:\n      - start_task: { name: w, once: true, run: [ { printk: "\${object}" } ] }\n`;
    expect(checkErrors(base(`  - { name: a, run: [ { call: f } ] }\n`, mod))).toEqual([
      "test.yaml:9:62: '${object}' is known only in a module's init, exit and callback actions, not in a task's run",
    ]);
  });
});
