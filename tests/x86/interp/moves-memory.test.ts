/** Data movement, addressing, stack and control-flow semantics. */
import { Reg } from '../../../src/x86/registers';
import { CF, CODE, DATA, RSP0, STATUS, ZF, exec, reg } from './helpers';

const u = (v: bigint): bigint => BigInt.asUintN(64, v);
const G = 0xdeadbeefcafe5a5an;

function le(v: bigint, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(Number((v >> BigInt(8 * i)) & 0xffn));
  return out;
}

describe('register moves and partial writes', () => {
  test.each([
    ['mov eax,-1 zero-extends', 'b8 ff ff ff ff', 0xffffffffn],
    ['mov rax,-1 (c7, sign-extended imm32)', '48 c7 c0 ff ff ff ff', 0xffffffffffffffffn],
    ['movabs rax, imm64', '48 b8 f0 de bc 9a 78 56 34 12', 0x123456789abcdef0n],
    ['mov al, imm8 keeps the rest', 'b0 12', (G & ~0xffn) | 0x12n],
    ['mov ah, imm8', 'b4 34', (G & ~0xff00n) | 0x3400n],
    ['mov ax, imm16', '66 b8 78 56', (G & ~0xffffn) | 0x5678n],
    ['mov eax, ecx zero-extends', '89 c8', 0x11223344n],
    ['movzx eax, bl', '0f b6 c3', 0xf0n],
    ['movzx eax, bh', '0f b6 c7', 0x80n],
    ['movzx rax, bx', '48 0f b7 c3', 0x80f0n],
    ['movsx eax, bl', '0f be c3', 0xfffffff0n],
    ['movsx rax, bx', '48 0f bf c3', 0xffffffffffff80f0n],
    ['movsxd rax, ebx', '48 63 c3', 0xffffffff800080f0n],
    ['cdqe', '48 98', 0xffffffffcafe5a5an],
    ['cwde', '98', 0x5a5an],
    ['xor eax, eax', '31 c0', 0n],
    ['lea rax, [rip+0x100] (relative to the end)', '48 8d 05 00 01 00 00', BigInt(CODE + 7 + 0x100)],
    ['lea rax, [rbx+rcx*2-8]', '48 8d 44 4b f8', 0x800080f0n + 2n * 0x11223344n - 8n],
  ])('%s', (_name, code, want) => {
    const m = exec(code, { regs: { rax: G, rbx: 0x800080f0n, rcx: 0x11223344n } });
    expect(reg(m, 'rax')).toBe(u(want));
  });

  test('lea with 64-bit wrap and 32-bit truncation', () => {
    expect(reg(exec('48 8d 44 77 f8', { regs: { rdi: 0n, rsi: 2n } }), 'rax')).toBe(u(-4n));
    expect(reg(exec('8d 44 77 f8', { regs: { rdi: 0n, rsi: 2n } }), 'rax')).toBe(0xfffffffcn);
    expect(reg(exec('4b 8d 44 ec 10', { regs: { r12: 0xffffffff00000000n, r13: 0x2000000000000001n } }), 'rax')).toBe(
      u(0xffffffff00000000n + 8n * 0x2000000000000001n + 0x10n),
    );
    expect(reg(exec('48 8d 44 24 08', {}), 'rax')).toBe(BigInt(RSP0 + 8));
    expect(reg(exec('48 8d 45 00', { regs: { rbp: 0x1234n } }), 'rax')).toBe(0x1234n);
    expect(reg(exec('49 8d 45 00', { regs: { r13: 0x4321n } }), 'rax')).toBe(0x4321n);
    expect(reg(exec('48 8d 04 b5 00 10 00 00', { regs: { rsi: 3n } }), 'rax')).toBe(0x100cn);
  });

  test('r8-r15 and REX byte registers', () => {
    expect(reg(exec('49 89 c0', { regs: { rax: G } }), 'r8')).toBe(G);
    expect(reg(exec('45 89 cf', { regs: { r9: G, r15: -1n } }), 'r15')).toBe(G & 0xffffffffn);
    // 40 88 c6: mov sil, al (REX makes 6 = sil, not dh)
    const m = exec('40 88 c6', { regs: { rax: 0x77n, rsi: 0x1100n, rdx: 0n } });
    expect(reg(m, 'rsi')).toBe(0x1177n);
    expect(reg(m, 'rdx')).toBe(0n);
    // 88 c6 without REX: mov dh, al
    expect(reg(exec('88 c6', { regs: { rax: 0x77n } }), 'rdx')).toBe(0x7700n);
  });

  test('8-bit ALU on high-byte registers: add ah, bl', () => {
    const m = exec('00 dc', { regs: { rax: 0xff00n, rbx: 1n } });
    expect(reg(m, 'rax')).toBe(0n);
    expect(m.cpu.getRflags() & (CF | ZF)).toBe(CF | ZF);
  });

  test('cqo / cdq / xchg / cmov / setcc', () => {
    expect(reg(exec('48 99', { regs: { rax: u(-5n), rdx: 7n } }), 'rdx')).toBe(u(-1n));
    expect(reg(exec('99', { regs: { rax: 0x80000000n, rdx: G } }), 'rdx')).toBe(0xffffffffn);
    let m = exec('48 93', { regs: { rax: 1n, rbx: 2n } });
    expect([reg(m, 'rax'), reg(m, 'rbx')]).toEqual([2n, 1n]);
    m = exec('49 90', { regs: { rax: 1n, r8: 2n } });
    expect([reg(m, 'rax'), reg(m, 'r8')]).toEqual([2n, 1n]);
    m = exec('90', { regs: { rax: 1n, r8: 2n } });
    expect([reg(m, 'rax'), reg(m, 'r8')]).toEqual([1n, 2n]);
    // cmp rax, rbx ; cmovne rcx, rdx
    expect(reg(exec('48 39 d8 48 0f 45 ca', { regs: { rax: 1n, rbx: 2n, rdx: 9n } }), 'rcx')).toBe(9n);
    expect(reg(exec('48 39 d8 48 0f 45 ca', { regs: { rax: 2n, rbx: 2n, rcx: 4n, rdx: 9n } }), 'rcx')).toBe(4n);
    // a 32-bit cmov that does not move still zero-extends
    expect(reg(exec('48 39 d8 0f 45 ca', { regs: { rax: 2n, rbx: 2n, rcx: G, rdx: 9n } }), 'rcx')).toBe(G & 0xffffffffn);
  });
});

describe('memory operands', () => {
  test('loads of every size and extension', () => {
    const mem: Array<[number, number[]]> = [
      [DATA, [0x80, 0xff, 0x01, 0x80, 0x44, 0x55, 0x66, 0x77, 0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01]],
    ];
    expect(reg(exec('0f b6 4f 01', { mem }), 'rcx')).toBe(0xffn);
    expect(reg(exec('48 0f bf 0f', { mem }), 'rcx')).toBe(u(-128n));
    expect(reg(exec('48 63 0f', { mem }), 'rcx')).toBe(0xffffffff8001ff80n);
    expect(reg(exec('48 8b 4f 08', { mem }), 'rcx')).toBe(0x0123456789abcdefn);
    expect(reg(exec('8b 0c b7', { mem, regs: { rsi: 1n, rcx: G } }), 'rcx')).toBe(0x77665544n);
    // unaligned 8-byte load
    expect(reg(exec('48 8b 4f 01', { mem }), 'rcx')).toBe(0xef776655448001ffn);
    expect(reg(exec('66 8b 0f', { mem, regs: { rcx: G } }), 'rcx')).toBe((G & ~0xffffn) | 0xff80n);
    expect(reg(exec('8a 0f', { mem, regs: { rcx: G } }), 'rcx')).toBe((G & ~0xffn) | 0x80n);
  });

  test('stores of every size, incl. sib with index and unaligned', () => {
    const m = exec('48 89 44 f7 10 c7 07 78 56 34 12 c6 47 03 ab 66 c7 47 02 34 12 88 67 04 48 89 47 21', {
      regs: { rax: 0x1122334455667788n, rsi: 1n },
    });
    const b = Array.from(m.mem.subarray(DATA, DATA + 0x30));
    expect(b.slice(0x18, 0x20)).toEqual(le(0x1122334455667788n, 8));
    expect(b.slice(0, 5)).toEqual([0x78, 0x56, 0x34, 0x12, 0x77]);
    expect(b.slice(0x21, 0x29)).toEqual(le(0x1122334455667788n, 8));
    const m2 = exec('48 c7 07 fe ff ff ff', {});
    expect(m2.cpu.readU64(DATA)).toBe(u(-2n));
  });

  test('read-modify-write ALU, inc, shl on memory', () => {
    const mem: Array<[number, number[]]> = [[DATA, le(5n, 8)]];
    let m = exec('48 01 07', { mem, regs: { rax: 10n } });
    expect(m.cpu.readU64(DATA)).toBe(15n);
    m = exec('83 2f 01', { mem });
    expect(m.cpu.readU32(DATA)).toBe(4);
    m = exec('48 83 3f 05', { mem });
    expect(m.cpu.getRflags() & ZF).toBe(ZF);
    expect(m.cpu.readU64(DATA)).toBe(5n);
    m = exec('48 03 07', { mem, regs: { rax: 1n } });
    expect(reg(m, 'rax')).toBe(6n);
    m = exec('48 ff 07', { mem });
    expect(m.cpu.readU64(DATA)).toBe(6n);
    m = exec('c1 27 03', { mem });
    expect(m.cpu.readU32(DATA)).toBe(40);
    m = exec('48 87 07', { mem, regs: { rax: 9n } });
    expect([reg(m, 'rax'), m.cpu.readU64(DATA)]).toEqual([5n, 9n]);
    m = exec('48 39 d8 0f 9c 07', { regs: { rax: 1n, rbx: 2n } });
    expect(m.cpu.readU8(DATA)).toBe(1);
  });
});

describe('stack and control flow', () => {
  test('push/pop r64, r12/r13, imm, memory', () => {
    let m = exec('50 5b', { regs: { rax: G } });
    expect(reg(m, 'rbx')).toBe(G);
    expect(reg(m, 'rsp')).toBe(BigInt(RSP0));
    m = exec('41 54', { regs: { r12: G } });
    expect(reg(m, 'rsp')).toBe(BigInt(RSP0 - 8));
    expect(m.cpu.readU64(RSP0 - 8)).toBe(G);
    m = exec('41 54 41 5d', { regs: { r12: G } });
    expect(reg(m, 'r13')).toBe(G);
    m = exec('6a 12 6a ff 68 00 00 00 80', {});
    expect(m.cpu.readU64(RSP0 - 8)).toBe(0x12n);
    expect(m.cpu.readU64(RSP0 - 16)).toBe(u(-1n));
    expect(m.cpu.readU64(RSP0 - 24)).toBe(0xffffffff80000000n);
    m = exec('ff 37 8f 47 08', { mem: [[DATA, le(G, 8)]] });
    expect(m.cpu.readU64(DATA + 8)).toBe(G);
    expect(reg(m, 'rsp')).toBe(BigInt(RSP0));
    // pop [rsp+8]: the address uses the incremented rsp
    m = exec('6a 07 8f 44 24 08', {});
    expect(m.cpu.readU64(RSP0 + 8)).toBe(7n);
  });

  test('call rel32 pushes the return address; ret pops it; ret imm16 releases bytes', () => {
    // 0: call +6 (to 0xb) ; 5: mov eax,1 ; a: hlt ; b: push rbp ; mov rbp,rsp ; pop rbp ; ret
    const m = exec('e8 06 00 00 00 b8 01 00 00 00 f4 55 48 89 e5 5d c3');
    expect(reg(m, 'rax')).toBe(1n);
    expect(reg(m, 'rsp')).toBe(BigInt(RSP0));
    expect(m.cpu.readU64(RSP0 - 8)).toBe(BigInt(CODE + 5));
    expect(m.cpu.retired).toBe(7);
    // ret 0x10
    const m2 = exec('e8 01 00 00 00 f4 c2 10 00');
    expect(reg(m2, 'rsp')).toBe(BigInt(RSP0 + 0x10));
  });

  test('leave restores rsp and rbp', () => {
    const m = exec('55 48 89 e5 48 83 ec 20 c9', { regs: { rbp: 0x1234n } });
    expect(reg(m, 'rsp')).toBe(BigInt(RSP0));
    expect(reg(m, 'rbp')).toBe(0x1234n);
  });

  test('indirect call/jmp through register and memory', () => {
    // call rax -> CODE+0x10: mov ebx,5 ; ret
    const pad = (s: string, n: number): string => s + ' 90'.repeat(n - s.split(' ').length);
    const body = pad('ff d0 f4', 16) + ' bb 05 00 00 00 c3';
    let m = exec(body, { regs: { rax: BigInt(CODE + 16) } });
    expect(reg(m, 'rbx')).toBe(5n);
    m = exec(pad('ff 17 f4', 16) + ' bb 06 00 00 00 c3', { mem: [[DATA, le(BigInt(CODE + 16), 8)]] });
    expect(reg(m, 'rbx')).toBe(6n);
    m = exec(pad('ff e0', 16) + ' bb 07 00 00 00', { regs: { rax: BigInt(CODE + 16) } });
    expect(reg(m, 'rbx')).toBe(7n);
    m = exec(pad('ff 27', 16) + ' bb 08 00 00 00', { mem: [[DATA, le(BigInt(CODE + 16), 8)]] });
    expect(reg(m, 'rbx')).toBe(8n);
  });

  test('indirect call alternating between two targets (one-entry target cache must check the address)', () => {
    // mov ecx,4 ; L: call rax ; xchg rax,rbx ; dec ecx ; jne L ; hlt ; f: add edx,1 ; ret ; g: add edx,100 ; ret
    const m = exec('b9 04 00 00 00 ff d0 48 93 ff c9 75 f8 f4 83 c2 01 c3 83 c2 64 c3', {
      regs: { rax: BigInt(CODE + 0xe), rbx: BigInt(CODE + 0x12) },
    });
    expect(reg(m, 'rdx')).toBe(202n);
  });

  test('a loop with jcc back-edges and nops of every length', () => {
    // mov ecx,10 ; L: add eax,ecx ; nop ; nopl 0(rax,rax,1) ; nopw cs:0(rax,rax,1) ; xchg ax,ax ; endbr64 ; pause ; sub ecx,1 ; jne L
    const code = 'b9 0a 00 00 00 01 c8 90 0f 1f 44 00 00 66 2e 0f 1f 84 00 00 00 00 00 66 90 f3 0f 1e fa f3 90 83 e9 01 75 e1';
    const m = exec(code);
    expect(reg(m, 'rax')).toBe(55n);
    expect(m.cpu.retired).toBe(1 + 10 * 9 + 1);
  });
});

describe('host helpers', () => {
  test('getRegNum / setRegNum / setReg', () => {
    const m = exec('90');
    const c = m.cpu;
    c.setRegNum(Reg.RAX, -1);
    expect(c.getReg(Reg.RAX)).toBe(u(-1n));
    expect(c.getRegNum(Reg.RAX)).toBe(-1);
    c.setRegNum(Reg.RAX, 0xffffffff);
    expect(c.getRegNum(Reg.RAX)).toBe(0xffffffff);
    c.setRegNum(Reg.RAX, 2 ** 40 + 3);
    expect(c.getReg(Reg.RAX)).toBe(2n ** 40n + 3n);
    expect(c.getRegNum(Reg.RAX)).toBe(2 ** 40 + 3);
    c.setReg(Reg.RBX, -2n);
    expect(c.getReg(Reg.RBX)).toBe(u(-2n));
    c.setReg(Reg.RBX, (1n << 64n) + 5n);
    expect(c.getReg(Reg.RBX)).toBe(5n);
  });

  test('push64 / pop64 and rflags round trip', () => {
    const m = exec('90');
    const c = m.cpu;
    c.push64(0x1234);
    expect(c.getRegNum(Reg.RSP)).toBe(RSP0 - 8);
    expect(c.readU64(RSP0 - 8)).toBe(0x1234n);
    expect(c.pop64()).toBe(0x1234);
    expect(c.getRegNum(Reg.RSP)).toBe(RSP0);
    c.setRflags(0x202 | CF);
    expect(c.getRflags()).toBe(0x202 | CF);
    expect(c.getRflags() & STATUS).toBe(CF);
  });
});
