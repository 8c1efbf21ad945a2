/** Exits (Native/Site/Int3/Halt/Budget), faults, the decoded-instruction cache, contexts and budgets. */
import { EntryKind, Exit, PERM_R, PERM_X, PF_INSTR, PF_PROT, PF_WRITE } from '../../../src/x86/cpu-types';
import { Reg } from '../../../src/x86/registers';
import { CODE, NOX, RO, RSP0, UNMAPPED, ZF, hex, machine, reg } from './helpers';

describe('faults', () => {
  test('#PF on a write to a read-only page: no side effects, rip at the instruction', () => {
    const m = machine('b8 01 00 00 00 48 89 07 f4'); // mov eax,1 ; mov [rdi],rax ; hlt
    m.cpu.setRegNum(Reg.RDI, RO + 8);
    expect(m.cpu.run(100)).toBe(Exit.Fault);
    const f = m.cpu.fault!;
    expect(f.vector).toBe('#PF');
    expect(f.rip).toBe(CODE + 5);
    expect(f.addr).toBe(RO + 8);
    expect(f.message).toMatch(/write to read-only page 0x6000/);
    expect(f.errorCode).toBe(PF_PROT | PF_WRITE);
    expect(f.bytes.slice(0, 4)).toEqual([0x48, 0x89, 0x07, 0xf4]);
    expect(m.cpu.rip).toBe(CODE + 5);
    expect(m.cpu.retired).toBe(1);
    expect(m.cpu.readU64(RO + 8)).toBe(0n);
  });

  test('read-modify-write to a read-only page leaves flags and memory alone', () => {
    const m = machine('48 39 c0 48 01 07 f4'); // cmp rax,rax (ZF=1) ; add [rdi],rax
    m.cpu.setRegNum(Reg.RDI, RO);
    m.cpu.setRegNum(Reg.RAX, 1);
    expect(m.cpu.run(100)).toBe(Exit.Fault);
    expect(m.cpu.getRflags() & ZF).toBe(ZF);
  });

  test('NULL page access, unmapped page, address with high bits, non-canonical address', () => {
    let m = machine('48 8b 47 08 f4'); // mov rax,[rdi+8]
    m.cpu.setRegNum(Reg.RDI, 0);
    expect(m.cpu.run(10)).toBe(Exit.Fault);
    expect(m.cpu.fault!.vector).toBe('#PF');
    expect(m.cpu.fault!.addr).toBe(8);
    expect(m.cpu.fault!.message).toMatch(/NULL/);
    expect(m.cpu.fault!.errorCode).toBe(0);

    m = machine('48 8b 07 f4');
    m.cpu.setRegNum(Reg.RDI, UNMAPPED + 0x10);
    expect(m.cpu.run(10)).toBe(Exit.Fault);
    expect(m.cpu.fault!.message).toMatch(/unmapped page 0x8000/);

    m = machine('48 8b 07 f4');
    m.cpu.setReg(Reg.RDI, 0x1_0000_4000n);
    expect(m.cpu.run(10)).toBe(Exit.Fault);
    expect(m.cpu.fault!.vector).toBe('#PF');
    expect(m.cpu.fault!.addr).toBe(0x1_0000_4000);
    expect(m.cpu.fault!.errorCode).toBe(0);

    // a store through a pointer with high bits: a write to a page that is not present
    m = machine('48 89 07 f4'); // mov [rdi],rax
    m.cpu.setReg(Reg.RDI, 0xffff_8880_0000_1000n);
    expect(m.cpu.run(10)).toBe(Exit.Fault);
    expect(m.cpu.fault!.vector).toBe('#PF');
    expect(m.cpu.fault!.addr).toBe(Number(0xffff_8880_0000_1000n));
    expect(m.cpu.fault!.errorCode).toBe(PF_WRITE);
    expect(m.cpu.fault!.message).toMatch(/write to invalid address 0xffff888000001000/);

    m = machine('48 8b 07 f4');
    m.cpu.setReg(Reg.RDI, 0xdead000000004000n);
    expect(m.cpu.run(10)).toBe(Exit.Fault);
    expect(m.cpu.fault!.vector).toBe('#GP');
    expect(m.cpu.fault!.message).toMatch(/non-canonical/);

    // beyond the end of memory
    m = machine('48 8b 07 f4');
    m.cpu.setRegNum(Reg.RDI, m.mem.length - 4);
    expect(m.cpu.run(10)).toBe(Exit.Fault);
    expect(m.cpu.fault!.vector).toBe('#PF');
  });

  test('an access spanning into a read-only page faults', () => {
    const m = machine('48 89 07 f4');
    m.cpu.setRegNum(Reg.RDI, RO - 4);
    expect(m.cpu.run(10)).toBe(Exit.Fault);
    expect(m.mem[RO - 4]).toBe(0);
  });

  test('fetch from a non-executable page', () => {
    const m = machine('ff e0'); // jmp rax
    m.mem.set([0x90, 0xf4], NOX);
    m.cpu.setRegNum(Reg.RAX, NOX);
    expect(m.cpu.run(10)).toBe(Exit.Fault);
    expect(m.cpu.fault!.vector).toBe('#PF');
    expect(m.cpu.fault!.message).toMatch(/non-executable/);
    expect(m.cpu.fault!.errorCode).toBe(PF_INSTR | PF_PROT);
    expect(m.cpu.rip).toBe(NOX);
    expect(m.cpu.retired).toBe(1);
    // not cached: once the page becomes executable the code runs
    m.perms[NOX >>> 12] = PERM_R | PERM_X;
    expect(m.cpu.run(10)).toBe(Exit.Halt);
  });

  test('#UD for ud2 and unknown opcodes, with the bytes', () => {
    let m = machine('90 0f 0b');
    expect(m.cpu.run(10)).toBe(Exit.Fault);
    expect(m.cpu.fault!.vector).toBe('#UD');
    expect(m.cpu.fault!.rip).toBe(CODE + 1);
    expect(m.cpu.fault!.bytes.slice(0, 2)).toEqual([0x0f, 0x0b]);
    expect(m.cpu.fault!.message).toMatch(/ud2/);
    expect(m.cpu.retired).toBe(1);
    m = machine('06'); // push es: invalid in 64-bit mode
    expect(m.cpu.run(10)).toBe(Exit.Fault);
    expect(m.cpu.fault!.vector).toBe('#UD');
    m = machine('0f 05'); // syscall: not in the subset
    expect(m.cpu.run(10)).toBe(Exit.Fault);
    expect(m.cpu.fault!.vector).toBe('#UD');
  });

  test('push with rsp in a read-only page faults without moving rsp', () => {
    const m = machine('50 f4');
    m.cpu.setRegNum(Reg.RSP, RO + 0x100);
    expect(m.cpu.run(10)).toBe(Exit.Fault);
    expect(m.cpu.getRegNum(Reg.RSP)).toBe(RO + 0x100);
    // push64 from the host: sets fault, returns false
    m.cpu.fault = null;
    expect(m.cpu.push64(5)).toBe(false);
    expect(m.cpu.fault!.vector).toBe('#PF');
    expect(m.cpu.getRegNum(Reg.RSP)).toBe(RO + 0x100);
  });

  test('divide by zero is #DE', () => {
    const m = machine('48 f7 f3 f4');
    expect(m.cpu.run(10)).toBe(Exit.Fault);
    expect(m.cpu.fault!.vector).toBe('#DE');
  });
});

describe('exits', () => {
  test('hlt: rip past it, counted', () => {
    const m = machine('90 f4 90');
    expect(m.cpu.run(10)).toBe(Exit.Halt);
    expect(m.cpu.rip).toBe(CODE + 2);
    expect(m.cpu.retired).toBe(2);
  });

  test('Native and Site stop before executing; entryKind asked once per address', () => {
    const m = machine('e8 0b 00 00 00 e8 06 00 00 00 f4');
    // CODE+0x10 is a "service"
    m.kinds.set(CODE + 0x10, EntryKind.Native);
    expect(m.cpu.run(100)).toBe(Exit.Native);
    expect(m.cpu.rip).toBe(CODE + 0x10);
    expect(m.cpu.retired).toBe(1);
    // host emulates the return
    m.cpu.rip = m.cpu.pop64();
    expect(m.cpu.rip).toBe(CODE + 5);
    expect(m.cpu.run(100)).toBe(Exit.Native);
    m.cpu.rip = m.cpu.pop64();
    expect(m.cpu.run(100)).toBe(Exit.Halt);
    expect(m.entryCalls.filter((a) => a === CODE + 0x10)).toHaveLength(1);
    expect(m.entryCalls.filter((a) => a === CODE)).toHaveLength(1);

    const s = machine('90 90 f4');
    s.kinds.set(CODE + 1, EntryKind.Site);
    expect(s.cpu.run(100)).toBe(Exit.Site);
    expect(s.cpu.rip).toBe(CODE + 1);
    expect(s.cpu.retired).toBe(1);
    expect(s.cpu.run(100)).toBe(Exit.Site); // nothing executed at a Site
    s.cpu.rip = CODE + 2;
    expect(s.cpu.run(100)).toBe(Exit.Halt);
  });

  test('int3: rip at the int3, never cached', () => {
    const m = machine('90 cc f4');
    expect(m.cpu.run(10)).toBe(Exit.Int3);
    expect(m.cpu.rip).toBe(CODE + 1);
    expect(m.cpu.retired).toBe(1);
    expect(m.cpu.run(10)).toBe(Exit.Int3);
    // the patcher replaces the int3 without a flush: the new byte is seen (int3 entries are not cached)
    m.mem[CODE + 1] = 0x90;
    expect(m.cpu.run(10)).toBe(Exit.Halt);
  });

  test('budget: stops after exactly `budget` instructions; retired accumulates', () => {
    const m = machine('eb fe'); // jmp $
    expect(m.cpu.run(1000)).toBe(Exit.Budget);
    expect(m.cpu.retired).toBe(1000);
    expect(m.cpu.run(5)).toBe(Exit.Budget);
    expect(m.cpu.retired).toBe(1005);
    expect(m.cpu.run(0)).toBe(Exit.Budget);
    expect(m.cpu.retired).toBe(1005);
    const n = machine('90 90 90 90 f4');
    expect(n.cpu.run(2)).toBe(Exit.Budget);
    expect(n.cpu.rip).toBe(CODE + 2);
    expect(n.cpu.run(100)).toBe(Exit.Halt);
    expect(n.cpu.retired).toBe(5);
  });
});

describe('decoded-instruction cache', () => {
  test('a byte changed in memory is not seen until flushICache()', () => {
    const m = machine('b8 01 00 00 00 f4'); // mov eax,1
    expect(m.cpu.run(10)).toBe(Exit.Halt);
    expect(reg(m, 'rax')).toBe(1n);
    m.mem[CODE + 1] = 2; // mov eax,2
    m.cpu.rip = CODE;
    expect(m.cpu.run(10)).toBe(Exit.Halt);
    expect(reg(m, 'rax')).toBe(1n); // stale, by design
    m.cpu.flushICache();
    m.cpu.rip = CODE;
    expect(m.cpu.run(10)).toBe(Exit.Halt);
    expect(reg(m, 'rax')).toBe(2n);
  });

  test('linked successors are dropped by a flush too (patching a call site)', () => {
    // loop: call f ; jmp loop ; f: mov eax,1 ; ret ; g: mov eax,2 ; ret
    const m = machine('e8 02 00 00 00 eb f9 b8 01 00 00 00 c3 b8 02 00 00 00 c3');
    m.cpu.run(30);
    expect(reg(m, 'rax')).toBe(1n);
    m.mem.set(hex('e8 08 00 00 00'), CODE); // call g
    m.cpu.run(30);
    expect(reg(m, 'rax')).toBe(1n);
    m.cpu.flushICache();
    m.cpu.run(30);
    expect(reg(m, 'rax')).toBe(2n);
  });

  test('int3 written over a cached instruction takes effect after the flush', () => {
    const m = machine('90 90 eb fc'); // nop ; nop ; jmp -4
    m.cpu.run(30);
    m.mem[CODE + 1] = 0xcc;
    m.cpu.flushICache();
    expect(m.cpu.run(30)).toBe(Exit.Int3);
    expect(m.cpu.rip).toBe(CODE + 1);
  });
});

describe('contexts', () => {
  test('getContext / setContext switch between two tasks on one cpu', () => {
    // inc rax ; cmp rax, rax ; jmp -8 (loop)
    const m = machine('48 ff c0 48 39 c0 eb f8');
    const c = m.cpu;
    c.setRegNum(Reg.RAX, 100);
    c.run(7);
    const a = c.getContext();
    const raxA = reg(m, 'rax');
    // task B
    c.setContext({ regs: new Int32Array(32), rip: CODE, rflags: 0x2 });
    c.setRegNum(Reg.RSP, RSP0 - 0x800);
    expect(c.getRflags()).toBe(0x2);
    c.run(30);
    expect(reg(m, 'rax')).toBe(10n);
    const b = c.getContext();
    c.setContext(a);
    expect(reg(m, 'rax')).toBe(raxA);
    expect(c.rip).toBe(a.rip);
    expect(c.getRflags()).toBe(a.rflags);
    c.run(3);
    expect(reg(m, 'rax')).toBe(raxA + 1n);
    expect(b.regs[2 * Reg.RSP]).toBe(RSP0 - 0x800);
    // the saved copy is independent of the live registers
    expect(a.regs[0]).toBe(Number(raxA));
  });

  test('flags survive a context round trip exactly (lazy flags materialized)', () => {
    const m = machine('48 39 d8 f4'); // cmp rax, rbx
    m.cpu.setRegNum(Reg.RAX, 1);
    m.cpu.setRegNum(Reg.RBX, 2);
    m.cpu.run(10);
    const f = m.cpu.getRflags();
    const ctx = m.cpu.getContext();
    m.cpu.setRflags(0);
    m.cpu.setContext(ctx);
    expect(m.cpu.getRflags()).toBe(f);
    expect(f & 0x8c5).toBe(0x1 | 0x80 | 0x4); // CF SF PF (1-2 = 0xff..ff)
  });
});
