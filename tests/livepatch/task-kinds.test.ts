/**
 * Issue 12, "what must exist" 2 and 3: task kinds and signals. A user task's pass is a system call, and
 * it passes klp_update_patch_state() on its way back to user space; a kthread never does, so one that
 * calls a sleeping patched function back to back keeps the transition open — until klp_send_signals()
 * wakes it from an interruptible sleep, or `force`. For a user task the fake signal cuts its
 * interruptible sleep short, its system call returns, and it switches at that exit (how="signal").
 * msleep() stays uninterruptible.
 */
import { mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import type { SimEvent } from '../../src/kernel/events';
import type { KlpFault } from '../../src/livepatch/klp-state';
import { Simulation } from '../../src/scenario/simulation';

const dir = mkdtempSync(join(tmpdir(), 'klpsim-kinds-'));

/** `worker` calls `work` back to back; `work` sleeps 100 s in `sleep` (a service) with `arg` = 100000. */
function scenario(kind: 'user' | 'kthread', sleep: string, steps: string, extraRun = '', ms = 100000): string {
  const work = (mark: number): string => `|
      push rbp
      mov rbp, rsp
      mov edi, ${ms}
      call ${sleep}
      mov [rip + left], eax
      mov eax, ${mark}
      pop rbp
      ret`;
  const file = join(dir, `${kind}-${sleep}-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(
    file,
    `
name: a ${kind} sleeping in a patched function
cpus: 1
kernel:
  functions:
    work: ${work(0).replace(/\n {6}/g, '\n      ')}
    left: '.quad 0'
modules:
  lp:
    livepatch:
      objects:
        vmlinux:
          funcs:
            work: ${work(1).replace(/\n {6}/g, '\n              ')}
tasks:
  - name: worker
    kind: ${kind}
    run: [ { call: work }${extraRun} ]
steps:
  - sleep_ms: 1
  - sh: modprobe lp
${steps}
`,
  );
  return file;
}

interface Outcome {
  switches: { comm: string; how: string; kind?: string }[];
  log: string[];
  violations: string[];
}

async function run(file: string, faults: KlpFault[] = []): Promise<Outcome> {
  // Retries every 2 ms: the signals come after 15 of them, 30 ms into the transition.
  const sim = await Simulation.fromFile(file, { deterministic: true, verbose: true, retryMs: 2, faults });
  const out: Outcome = { switches: [], log: [], violations: [] };
  sim.events$.subscribe((e: SimEvent) => {
    if (e.type === 'transition.task_switch') out.switches.push({ comm: e.comm, how: e.how, kind: e.kind });
    if (e.type === 'log') out.log.push(e.text);
    if (e.type === 'violation') out.violations.push(e.message);
  });
  await sim.run();
  await sim.dispose();
  return out;
}

const complete = (o: Outcome): boolean => o.log.includes("livepatch: 'lp': patching complete");

describe('task kinds and signals', () => {
  it('a kthread looping on a patched function sleeping in msleep() keeps the transition open until forced', async () => {
    const o = await run(
      scenario(
        'kthread',
        'msleep',
        '  - sleep_ms: 200\n  - expect: { sh: cat /sys/kernel/livepatch/lp/transition, stdout: "1" }\n  - sh: echo 1 > /sys/kernel/livepatch/lp/force\n  - sleep_ms: 10',
      ),
    );
    expect(o.log).toContain('livepatch: signaling remaining tasks');
    expect(o.log).toContain('livepatch: klp_try_switch_task: worker:1 is sleeping on function work');
    expect(o.switches.filter((s) => s.comm === 'worker')).toEqual([{ comm: 'worker', how: 'force', kind: 'kthread' }]);
    expect(complete(o)).toBe(true);
    expect(o.violations).toEqual([]);
  }, 60_000);

  it('a kthread woken from schedule_timeout_interruptible() by the signals switches at its next clean stack check', async () => {
    const o = await run(scenario('kthread', 'schedule_timeout_interruptible', '  - sleep_ms: 200', ', { sleep_ms: 5 }'));
    expect(o.log).toContain('livepatch: signaling remaining tasks');
    expect(o.switches.filter((s) => s.comm === 'worker')).toEqual([{ comm: 'worker', how: 'stack check', kind: 'kthread' }]);
    expect(complete(o)).toBe(true);
  }, 60_000);

  it('a kthread in msleep_interruptible() is woken but sleeps on (no signal is pending for a kthread)', async () => {
    const o = await run(
      scenario(
        'kthread',
        'msleep_interruptible',
        '  - sleep_ms: 200\n  - expect: { sh: cat /sys/kernel/livepatch/lp/transition, stdout: "1" }',
        ', { sleep_ms: 5 }',
      ),
    );
    expect(o.log).toContain('livepatch: signaling remaining tasks');
    expect(o.switches.filter((s) => s.comm === 'worker')).toEqual([]);
  }, 60_000);

  it('a user task in msleep_interruptible() returns early on the fake signal and switches at its exit (how="signal")', async () => {
    const o = await run(
      scenario(
        'user',
        'msleep_interruptible',
        '  - sleep_ms: 200\n  - expect: { sh: cat /sys/kernel/livepatch/lp/transition, stdout: "0" }',
      ),
    );
    expect(o.log).toContain('livepatch: signaling remaining tasks');
    expect(o.switches.filter((s) => s.comm === 'worker')).toEqual([{ comm: 'worker', how: 'signal', kind: 'user' }]);
    expect(complete(o)).toBe(true);
    expect(o.violations).toEqual([]);
  }, 60_000);

  it('a user task in msleep() is not woken by the signal: the transition waits for its sleep to end', async () => {
    const o = await run(
      scenario('user', 'msleep', '  - sleep_ms: 200\n  - expect: { sh: cat /sys/kernel/livepatch/lp/transition, stdout: "1" }'),
    );
    expect(o.log).toContain('livepatch: signaling remaining tasks');
    expect(o.switches.filter((s) => s.comm === 'worker')).toEqual([]);
  }, 60_000);

  it('a user task that calls a patched function switches at its exit to user space (how="kernel exit")', async () => {
    const o = await run(scenario('user', 'msleep', '  - wait: transition', '', 1));
    expect(o.switches.filter((s) => s.comm === 'worker').map((s) => s.how)).toEqual(['kernel exit']);
  }, 60_000);

  it('switch-kthreads-at-exit: the injected fault switches the kthread at its pass end (how="kernel exit")', async () => {
    const o = await run(scenario('kthread', 'msleep', '  - wait: transition', '', 1), ['switch-kthreads-at-exit']);
    expect(o.switches.filter((s) => s.comm === 'worker')).toEqual([{ comm: 'worker', how: 'kernel exit', kind: 'kthread' }]);
  }, 60_000);
});

describe('cond_resched() switching (klp_sched_try_switch(), kernels from 6.4)', () => {
  // A kthread that never leaves one call: it calls the patched `work` (which sleeps in msleep) and
  // cond_resched() in turn. Only the clean stack at cond_resched() can switch it.
  const file = join(dir, 'cond-resched.yaml');
  writeFileSync(
    file,
    `
name: a kthread calling cond_resched() between calls of a patched function
cpus: 1
kernel:
  functions:
    work: |
      push rbp
      mov rbp, rsp
      mov edi, 1
      call msleep
      xor eax, eax
      pop rbp
      ret
    outer: |
      push rbp
      mov rbp, rsp
      push rbx
      mov ebx, 100000
      again:
      call work
      call cond_resched
      dec ebx
      jnz again
      pop rbx
      pop rbp
      ret
modules:
  lp:
    livepatch:
      objects:
        vmlinux:
          funcs:
            work: |
              push rbp
              mov rbp, rsp
              mov edi, 1
              call msleep
              mov eax, 1
              pop rbp
              ret
tasks:
  - name: worker
    kind: kthread
    run: [ { call: outer } ]
steps:
  - sleep_ms: 1
  - sh: modprobe lp
  - sleep_ms: 100
`,
  );

  const runIt = async (condReschedSwitch: boolean): Promise<Outcome> => {
    const sim = await Simulation.fromFile(file, { deterministic: true, verbose: true, retryMs: 2, condReschedSwitch });
    const out: Outcome = { switches: [], log: [], violations: [] };
    sim.events$.subscribe((e: SimEvent) => {
      if (e.type === 'transition.task_switch') out.switches.push({ comm: e.comm, how: e.how, kind: e.kind });
      if (e.type === 'log') out.log.push(e.text);
      if (e.type === 'violation') out.violations.push(e.message);
    });
    await sim.run();
    await sim.dispose();
    return out;
  };

  it('with it, the kthread switches at its next cond_resched()', async () => {
    const o = await runIt(true);
    expect(o.switches.filter((s) => s.comm === 'worker')).toEqual([{ comm: 'worker', how: 'cond_resched', kind: 'kthread' }]);
    expect(complete(o)).toBe(true);
    expect(o.violations).toEqual([]);
  }, 60_000);

  it('without it (5.1), the kthread keeps the transition open', async () => {
    const o = await runIt(false);
    expect(o.switches.filter((s) => s.comm === 'worker')).toEqual([]);
    expect(o.log).toContain('livepatch: klp_try_switch_task: worker:1 is sleeping on function work');
    expect(complete(o)).toBe(false);
  }, 60_000);
});
