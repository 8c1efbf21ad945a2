import { taskEnded, TaskField, TaskState } from '../../src/mem/task-struct';
import { walkTaskStack } from '../../src/kernel/stack-walk';
import { withMachine, logs } from './helpers';

const KERNEL: Record<string, string> = {
  hello: `
    push rbp
    mov rbp, rsp
    mov rsi, rdi
    lea rdi, [rip + hello_fmt]
    call printk
    pop rbp
    ret`,
  hello_fmt: '.asciz "hello: %ld\\n"',
  inner: `
    push rbp
    mov rbp, rsp
    mov edi, 100000
    call msleep
    pop rbp
    ret`,
  middle: `
    push rbp
    mov rbp, rsp
    call inner
    pop rbp
    ret`,
  outer: `
    push rbp
    mov rbp, rsp
    call middle
    pop rbp
    ret`,
  crash: `
    push rbp
    mov rbp, rsp
    xor eax, eax
    mov rax, [rax]
    pop rbp
    ret`,
  bad_op: `
    ud2`,
};

describe.each([
  ['worker threads', false],
  ['lockstep', true],
])('machine on %s', (_name, deterministic) => {
  it('runs tasks on several CPUs: printk from emulated code reaches the log', async () => {
    await withMachine({ cpus: 2, deterministic }, KERNEL, async (m, events) => {
      await m.spawn({
        name: 'a',
        cpu: 0,
        run: [
          { kind: 'call', func: 'hello', args: [7] },
          { kind: 'sleep', ms: 1 },
        ],
      });
      await m.spawn({
        name: 'b',
        cpu: 1,
        run: [
          { kind: 'call', func: 'hello', args: [9] },
          { kind: 'sleep', ms: 1 },
        ],
      });
      // msleep(1) wakes every 3 ms (6.12: two jiffies, fired at the tick after: timer-wheel.ts).
      await m.sleep(15);
      const l = logs(events);
      expect(l.filter((x) => x === 'hello: 7').length).toBeGreaterThanOrEqual(5);
      expect(l.filter((x) => x === 'hello: 9').length).toBeGreaterThanOrEqual(5);
      const cpus = new Set(events.filter((e) => e.type === 'log' && e.text.startsWith('hello')).map((e) => e.cpu));
      expect(cpus).toEqual(new Set([0, 1]));
      for (let i = 1; i < events.length; i++) expect(events[i].seq).toBe(events[i - 1].seq + 1);
      expect(m.violations()).toBe(0);
    });
  });

  it('walks the stack of a task sleeping inside nested calls, from another thread', async () => {
    await withMachine({ cpus: 2, deterministic }, KERNEL, async (m) => {
      const t = await m.spawn({ name: 'sleeper', cpu: 1, run: [{ kind: 'call', func: 'outer', args: [] }] });
      await m.waitFor(
        () => t.view.get(TaskField.State) === TaskState.Sleeping && t.view.get(TaskField.InCall) === 1,
        'the task to sleep in msleep',
      );
      let walk = walkTaskStack(m.unwinder, t.view);
      while (walk === null) walk = walkTaskStack(m.unwinder, t.view);
      expect(walk.running).toBe(false);
      if (walk.running) return;
      expect(walk.reliable).toBe(true);
      expect(walk.frames.map((a) => m.kallsyms.symbolAt(a)?.name)).toEqual(['msleep', 'inner', 'middle', 'outer']);
    });
  });

  it('turns a fault into an oops, a fault event and a violation, and kills only that task', async () => {
    await withMachine({ cpus: 1, deterministic }, KERNEL, async (m, events) => {
      const bad = await m.spawn({ name: 'crasher', run: [{ kind: 'call', func: 'crash', args: [] }] });
      const ud = await m.spawn({ name: 'ud', run: [{ kind: 'call', func: 'bad_op', args: [] }] });
      const good = await m.spawn({
        name: 'good',
        run: [
          { kind: 'call', func: 'hello', args: [1] },
          { kind: 'sleep', ms: 1 },
        ],
      });
      await m.sleep(5);
      // A dead task's slot may already hold a newer task (here `good` may reuse `crasher`'s).
      expect(taskEnded(bad.view, bad.pid)).toBe(true);
      expect(taskEnded(ud.view, ud.pid)).toBe(true);
      expect(taskEnded(good.view, good.pid)).toBe(false);
      const l = logs(events);
      expect(l).toContain('BUG: kernel NULL pointer dereference, address: 0000000000000000');
      expect(l.some((x) => /^RIP: 0010:crash\+0x[0-9a-f]+\/0x[0-9a-f]+$/.test(x))).toBe(true);
      expect(l.some((x) => /^invalid opcode: 0000 \[#\d\] SMP$/.test(x))).toBe(true);
      const faults = events.filter((e) => e.type === 'fault');
      expect(faults.map((f) => (f as { vector: string }).vector).sort()).toEqual(['#PF', '#UD']);
      expect(m.violations()).toBe(2);
    });
  });

  it('skips simulated time when every task sleeps', async () => {
    await withMachine({ cpus: 2, deterministic }, KERNEL, async (m) => {
      const t = await m.spawn({
        name: 'slow',
        run: [
          { kind: 'call', func: 'hello', args: [1] },
          { kind: 'sleep', ms: 1000 },
        ],
      });
      const t0 = performance.now();
      await m.sleep(5000);
      expect(performance.now() - t0).toBeLessThan(3000);
      expect(t.view.get(TaskField.Passes)).toBeGreaterThanOrEqual(4);
      await m.stopTask(t.pid);
      expect(t.view.get(TaskField.State)).toBe(TaskState.Dead);
    });
  });
});
