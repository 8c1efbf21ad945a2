/**
 * Both reliable unwinders against the truth, at every instruction of a call chain: a task interrupted
 * (pt_regs) after each single instruction, from the first of `outer` to the last `ret`. The truth is a
 * shadow stack of the return addresses the calls pushed. ORC must give exactly the truth everywhere —
 * frameless leaves, prologues, epilogues, stack locals, early returns; the frame-pointer unwinder must
 * refuse every one of these stacks, and, told to trust them (the trust-unreliable-stack fault), it loses
 * the frameless leaf's caller: the bug of issue 12.
 */
import { KernelMemory } from '../../src/mem/kernel-memory';
import { DEFAULT_MACHINE, stackOf } from '../../src/mem/layout';
import { Kallsyms, KsymKind } from '../../src/mem/kallsyms';
import { KernelLoader } from '../../src/kernel/loader';
import { RET_FROM_CALL, isServiceAddr } from '../../src/kernel/services';
import { ReliableUnwinder, UnwindStart } from '../../src/kernel/stack-walk';
import { EntryKind, Exit, PERM_R, PERM_W } from '../../src/x86/cpu-types';
import { decodeAt, Op } from '../../src/x86/decoder';
import { X86Cpu } from '../../src/x86/interpreter';
import { Reg } from '../../src/x86/registers';

const KERNEL: Record<string, string> = {
  outer: 'push rbp\nmov rbp, rsp\npush rbx\nmov ebx, 2\nagain:\ncall patched\ndec ebx\njnz again\npop rbx\npop rbp\nret',
  patched: 'push rbp\nmov rbp, rsp\nsub rsp, 16\nmov [rbp - 8], rdi\ncall leaf\ncall locals\nleave\nret',
  // A frameless leaf with a callee-saved register and an early return.
  leaf: 'push rbx\nmov ebx, 3\nspin:\ndec ebx\njnz spin\ntest edi, edi\njne early\npop rbx\nret\nearly:\nxor eax, eax\npop rbx\nret',
  // A frameless leaf with stack locals.
  locals: 'sub rsp, 24\nmov [rsp + 8], rdi\nmov rax, [rsp + 8]\nadd rsp, 24\nret',
};

describe('reliable unwinders, interrupted at every instruction of a call chain', () => {
  const km = KernelMemory.create({ ...DEFAULT_MACHINE, cpus: 1, maxTasks: 2 });
  const kallsyms = new Kallsyms(km);
  const loader = new KernelLoader(km, kallsyms);
  loader.registerServices();
  loader.load(
    'vmlinux',
    Object.entries(KERNEL).map(([name, source]) => ({ name, source })),
  );
  const funcs = new Set(
    kallsyms
      .all()
      .filter((s) => s.kind === KsymKind.Func)
      .map((s) => s.addr),
  );
  const name = (a: number): string => kallsyms.symbolAt(a)?.name ?? `0x${a.toString(16)}`;
  const orc = new ReliableUnwinder(km, kallsyms, 'orc');
  const fp = new ReliableUnwinder(km, kallsyms, 'frame-pointer');
  const { base, top } = stackOf(km.layout, 0);
  km.setPerms(base, top - base, PERM_R | PERM_W);

  it.each([0, 1])('with rdi = %d (the leaf returns early or not)', (rdi) => {
    const cpu = new X86Cpu(km.u8, km.perms, {
      entryKind: (a) => (isServiceAddr(a) ? EntryKind.Native : funcs.has(a) ? EntryKind.Site : EntryKind.Normal),
    });
    cpu.setRegNum(Reg.RSP, top);
    cpu.setRegNum(Reg.RBP, 0);
    cpu.setRegNum(Reg.RDI, rdi);
    expect(cpu.push64(RET_FROM_CALL)).toBe(true);
    cpu.rip = (kallsyms.lookup('outer') as { addr: number }).addr;
    const shadow: number[] = [];
    let points = 0;
    let hidden = 0;
    let prev: { frames: number[]; copy: number[] } | null = null;
    for (let steps = 0; steps < 10_000; steps++) {
      if (cpu.rip === RET_FROM_CALL) break; // the call chain is over: the task returns to user space
      const at: UnwindStart = {
        rip: cpu.rip,
        rsp: cpu.getRegNum(Reg.RSP),
        rbp: cpu.getRegNum(Reg.RBP),
        stackBase: base,
        stackTop: top,
        regs: true,
      };
      const truth = [cpu.rip, ...[...shadow].reverse()].map(name);
      const o = orc.walk(at);
      // The ORC walk refills one buffer per thread (unwindOrc): an earlier result must not change under it.
      if (prev) expect(prev.frames).toEqual(prev.copy);
      prev = { frames: o.frames, copy: [...o.frames] };
      expect({ at: name(cpu.rip), off: cpu.rip, reliable: o.reliable, frames: o.frames.map(name) }).toEqual({
        at: name(cpu.rip),
        off: cpu.rip,
        reliable: true,
        frames: truth,
      });
      expect(fp.walk(at).reliable).toBe(false);
      const trusted = fp.walk(at, { trustRegs: true });
      if (trusted.reliable && trusted.frames.map(name).join() !== truth.join()) hidden++;
      points++;
      const ins = decodeAt(km.u8, cpu.rip);
      const exit = cpu.run(1);
      if (exit === Exit.Site) {
        cpu.rip += 5; // the ftrace site is the NOP: nothing is patched here
        continue;
      }
      expect(exit).toBe(Exit.Budget);
      if (ins.op === Op.Call) shadow.push(ins.end);
      if (ins.op === Op.Ret) shadow.pop();
    }
    expect(shadow).toEqual([]);
    expect(points).toBeGreaterThan(60);
    // Trusting the rbp chain through the interrupt frame gives a clean-looking stack without the real
    // caller at some of these points: in the frameless leaves, and in every prologue and epilogue.
    expect(hidden).toBeGreaterThan(0);
  });
});
