/**
 * A function objtool cannot follow: its warning is printed once, when its object is built and loaded,
 * and a stack through it is unreliable for ORC — never clean — while the rest of the machine's code walks
 * as usual. The frame-pointer unwinder refuses a voluntary stop in a function that called without a frame.
 */
import { TaskField, TaskState } from '../../src/mem/task-struct';
import { walkTaskStack } from '../../src/kernel/stack-walk';
import { withMachine, logs } from './helpers';

const KERNEL: Record<string, string> = {
  // The two paths reach `join` with different stack depths.
  mismatched: 'test edi, edi\njne other\njoin:\nmov edi, 100000\ncall msleep\nret\nother:\npush rax\njmp join',
  caller: 'push rbp\nmov rbp, rsp\ncall mismatched\npop rbp\nret',
  // Frameless and calling: fine for ORC, hides its caller from a frame-pointer walk.
  frameless: 'mov edi, 100000\ncall msleep\nret',
  framed: 'push rbp\nmov rbp, rsp\ncall frameless\npop rbp\nret',
};

async function walkOf(m: Parameters<Parameters<typeof withMachine>[2]>[0], func: string) {
  const t = await m.spawn({ name: func, cpu: 0, run: [{ kind: 'call', func, args: [] }] });
  await m.waitFor(() => t.view.get(TaskField.State) === TaskState.Sleeping && t.view.get(TaskField.InCall) === 1, `${func} asleep`);
  let w = walkTaskStack(m.unwinder, t.view);
  while (w === null) w = walkTaskStack(m.unwinder, t.view);
  if (w.running) throw new Error('running');
  return { ...w, names: w.frames.map((a) => m.kallsyms.symbolAt(a)?.name) };
}

describe('objtool at load', () => {
  it('warns once at load, and an ORC walk through the function is unreliable', async () => {
    await withMachine({ cpus: 1, deterministic: true }, KERNEL, async (m, events) => {
      expect(logs(events).filter((l) => l.includes('objtool'))).toEqual([
        'vmlinux.o: warning: objtool: mismatched+0x9: stack state mismatch: cfa1=rsp+8 cfa2=rsp+16',
      ]);
      const bad = await walkOf(m, 'caller');
      expect(bad.reliable).toBe(false);
      expect(bad.reason).toMatch(/no ORC data for mismatched\+0x.* \(objtool: mismatched\+0x9: stack state mismatch/);
      const good = await walkOf(m, 'framed');
      expect(good).toMatchObject({ reliable: true, names: ['msleep', 'frameless', 'framed'] });
    });
  });

  it('frame-pointer: a voluntary stop below a function that called without a frame is unreliable', async () => {
    await withMachine({ cpus: 1, deterministic: true, unwinder: 'frame-pointer' }, KERNEL, async (m) => {
      const w = await walkOf(m, 'framed');
      expect(w.reliable).toBe(false);
      expect(w.reason).toMatch(/^call without frame pointer save\/setup in frameless\+0x/);
    });
  });
});
