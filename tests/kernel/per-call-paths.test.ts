/**
 * Issue #13 item 2: what a task action, a slice and a lockstep step cost must not grow with the run
 * queue, the symbol table or the number of CPUs — no shared-memory scan of every task per step, no
 * register array per switch, no re-read of the whole kallsyms table per module, no IPI poll of every CPU
 * per step. Each test counts the operations that used to be done (they fail on the code before).
 */
import { withMachine } from '../coordinator/helpers';
import { CpuHost } from '../../src/kernel/cpu-host';
import { KernelMemory } from '../../src/mem/kernel-memory';
import { Kallsyms, KsymKind } from '../../src/mem/kallsyms';
import { DEFAULT_MACHINE } from '../../src/mem/layout';
import { TaskView } from '../../src/mem/task-struct';
import { X86Cpu } from '../../src/x86/interpreter';

const KERNEL = {
  spin: 'mov ecx, 50\nagain:\ndec ecx\njnz again\ncall cond_resched\nret',
};

afterEach(() => jest.restoreAllMocks());

describe('per-call paths', () => {
  it('answers hasRunnable/nextWake/horizon without reading task structs', async () => {
    await withMachine({ cpus: 1, deterministic: true }, KERNEL, async (m) => {
      for (let i = 0; i < 16; i++)
        await m.spawn({
          name: `t${i}`,
          cpu: 0,
          run: [
            { kind: 'call', func: 'spin', args: [] },
            { kind: 'sleep', ms: 3 + i },
          ],
        });
      await m.sleep(10);
      const host = (m.lockstep as { hosts: CpuHost[] }).hosts[0];
      const gets = jest.spyOn(TaskView.prototype, 'get');
      const wake = jest.spyOn(TaskView.prototype, 'wakeNs', 'get');
      for (let i = 0; i < 100; i++) {
        host.hasRunnable();
        host.nextWake();
        host.horizon();
      }
      expect(gets).not.toHaveBeenCalled();
      expect(wake).not.toHaveBeenCalled();
    });
  });

  it('saves registers at a context switch into the task’s own save area', async () => {
    const saves = jest.spyOn(X86Cpu.prototype, 'getContext');
    await withMachine({ cpus: 1, deterministic: true }, KERNEL, async (m, events) => {
      for (let i = 0; i < 4; i++) await m.spawn({ name: `t${i}`, cpu: 0, run: [{ kind: 'call', func: 'spin', args: [] }] });
      await m.sleep(1);
      // Tasks were switched out inside their calls (cond_resched with others runnable).
      expect(events.filter((e) => e.type === 'task.state' && e.state === 'runnable' && e.func === 'spin').length).toBeGreaterThan(10);
    });
    expect(saves).not.toHaveBeenCalled();
  });

  it('indexes only the kallsyms records published since the last lookup', () => {
    const km = KernelMemory.create({ ...DEFAULT_MACHINE, maxTasks: 4 });
    const writer = new Kallsyms(km);
    const reader = new Kallsyms(km);
    for (let i = 0; i < 500; i++) writer.add({ name: `f${i}`, addr: 0x10000 + i * 16, size: 16, kind: KsymKind.Func, object: 'vmlinux' });
    expect(reader.lookup('f7')?.addr).toBe(0x10000 + 7 * 16);
    writer.add({ name: 'g', addr: 0x9000, size: 16, kind: KsymKind.Func, object: 'mod' });
    const reads = jest.spyOn(km, 'readCString');
    expect(reader.lookup('g', 'mod')?.addr).toBe(0x9000);
    expect(reads).toHaveBeenCalledTimes(2); // the new record's name and object
    // Out of address order: symbolAt() still finds both.
    expect(reader.symbolAt(0x9004)?.name).toBe('g');
    expect(reader.symbolAt(0x10000 + 499 * 16 + 3)?.name).toBe('f499');
    // An unload invalidates the index; a reload under the same name finds the new record.
    writer.removeObject('mod');
    expect(reader.lookup('g')).toBeUndefined();
    writer.add({ name: 'g', addr: 0xa000, size: 16, kind: KsymKind.Func, object: 'mod' });
    expect(reader.lookup('g')?.addr).toBe(0xa000);
    expect(reader.lookup('g', 'vmlinux')).toBeUndefined();
    writer.add({ name: 'g', addr: 0xb000, size: 16, kind: KsymKind.Func, object: 'mod2' });
    expect(reader.lookup('g')).toBeUndefined(); // ambiguous, as kallsyms_lookup_name() with sympos 0
    expect(reader.lookup('g', undefined, 2)?.addr).toBe(0xb000);
    expect(reader.lookup('g', 'mod2')?.addr).toBe(0xb000);
  });

  it('polls the CPUs for IPIs only when one may have been sent', async () => {
    await withMachine({ cpus: 8, deterministic: true }, KERNEL, async (m) => {
      for (let i = 0; i < 8; i++)
        await m.spawn({
          name: `t${i}`,
          cpu: i,
          run: [
            { kind: 'call', func: 'spin', args: [] },
            { kind: 'sleep', ms: 1 },
          ],
        });
      const polls = jest.spyOn(CpuHost.prototype, 'handleIpis');
      const slices = jest.spyOn(CpuHost.prototype, 'runSlice');
      // msleep(1) wakes every 3 ms (6.12: 2 jiffies, then the wheel's bucket): 40 ms make > 100 slices.
      await m.sleep(40);
      expect(slices.mock.calls.length).toBeGreaterThan(100);
      // Each slice looks for its own CPU's IPIs; the scheduler looks at all 8 only after an epoch bump.
      expect(polls.mock.calls.length).toBeLessThan(slices.mock.calls.length * 3);
    });
  });
});

describe('ORC lookups (the consistency check unwinds at every redirected call)', () => {
  it('answers a pc seen before without searching kallsyms, and forgets on a load or an unload', async () => {
    await withMachine({ cpus: 1, deterministic: true }, KERNEL, async (m) => {
      const orc = m.unwinder.orc;
      const spin = m.kallsyms.lookup('spin', 'vmlinux');
      if (!spin) throw new Error('no spin');
      const first = orc.find(spin.addr + 5);
      expect(first.entry).not.toBeNull();
      const searches = jest.spyOn(Kallsyms.prototype, 'symbolAt');
      for (let i = 0; i < 100; i++) expect(orc.find(spin.addr + 5)).toBe(first);
      expect(searches).not.toHaveBeenCalled();
      // A module's function has an entry while it is loaded, and none once it is gone.
      m.loader.load('mod', [{ name: 'mod_fn', source: 'push rbp\nmov rbp, rsp\npop rbp\nret' }]);
      const fn = m.kallsyms.lookup('mod_fn', 'mod');
      if (!fn) throw new Error('no mod_fn');
      expect(orc.find(fn.addr + 5).entry).not.toBeNull();
      m.loader.unload('mod');
      expect(orc.find(fn.addr + 5).entry).toBeNull();
      expect(orc.find(spin.addr + 5).entry).toEqual(first.entry);
    });
  });
});
