import { assemble } from '../../src/x86/assembler';
import { analyseFunction, CfaBase, OrcEntry, orcEntryAt, OrcFunction } from '../../src/kernel/objtool';

const BASE = 0x1000;

function analyse(src: string): { fn: OrcFunction; at: (off: number) => OrcEntry | null } {
  const r = assemble(src, { ftraceSite: true });
  const mem = new Uint8Array(BASE + r.bytes.length + 16);
  mem.set(r.bytes, BASE);
  const fn = analyseFunction(mem, BASE, r.bytes.length, 'f');
  return { fn, at: (off) => orcEntryAt(fn, BASE + off) };
}

const sp = (cfa: number, bpSaved: number | null = null): OrcEntry => ({ base: CfaBase.Sp, cfa, bpSaved });
const bp = (cfa: number, bpSaved: number | null = -16): OrcEntry => ({ base: CfaBase.Bp, cfa, bpSaved });

describe('objtool: the CFA at every instruction', () => {
  it('a frameless leaf: rsp + 8 everywhere, the ftrace site included', () => {
    const { fn, at } = analyse('mov eax, 1\nadd eax, edi\nret');
    expect(fn.warning).toBeNull();
    for (const off of [0, 2, 4, 5, 10]) expect(at(off)).toEqual(sp(8));
  });

  it('a framed function: push rbp, mov rbp, rsp, locals, leave', () => {
    // 0: site, 5: push rbp (1), 6: mov rbp, rsp (3), 9: sub rsp, 16 (4), 13: call (5), 18: leave, 19: ret
    const { fn, at } = analyse('push rbp\nmov rbp, rsp\nsub rsp, 16\ncall f\nleave\nret');
    expect(fn.warning).toBeNull();
    expect(at(5)).toEqual(sp(8));
    expect(at(6)).toEqual(sp(16, -16));
    expect(at(9)).toEqual(bp(16));
    expect(at(13)).toEqual(bp(16));
    expect(at(17)).toEqual(bp(16)); // inside the call: a return address looks up here
    expect(at(18)).toEqual(bp(16));
    expect(at(19)).toEqual(sp(8));
  });

  it('an epilogue with mov rsp, rbp; pop rbp', () => {
    const { fn, at } = analyse('push rbp\nmov rbp, rsp\npush rbx\nmov rsp, rbp\npop rbp\nret');
    expect(fn.warning).toBeNull();
    expect(at(10)).toEqual(bp(16)); // after push rbx the CFA is still rbp + 16
    expect(at(13)).toEqual(sp(16, -16)); // after mov rsp, rbp
    expect(at(14)).toEqual(sp(8));
  });

  it('frameless stack locals and a callee-saved register, with an early return', () => {
    const src = [
      'push rbx',
      'sub rsp, 24',
      'test edi, edi',
      'je out',
      'mov [rsp], rdi',
      'add rsp, 24',
      'pop rbx',
      'ret',
      'out:',
      'add rsp, 24',
      'pop rbx',
      'ret',
    ].join('\n');
    const { fn, at } = analyse(src);
    expect(fn.warning).toBeNull();
    expect(at(6)).toEqual(sp(16));
    expect(at(10)).toEqual(sp(40));
    // The early-return path: the block after `out:` is reached at depth 40 as well.
    const last = fn.ips[fn.ips.length - 1];
    expect(orcEntryAt(fn, last)).toEqual(sp(8));
    expect(orcEntryAt(fn, fn.ips[fn.ips.length - 3])).toEqual(sp(40));
  });

  it('a loop joining itself at the same depth is fine', () => {
    const { fn } = analyse('push rbp\nmov rbp, rsp\nmov ecx, 9\nspin:\ndec ecx\njnz spin\npop rbp\nret');
    expect(fn.warning).toBeNull();
  });

  it('branches that join with different depths: stack state mismatch, no table', () => {
    const { fn, at } = analyse('test edi, edi\njne other\njoin:\nmov eax, 1\nret\nother:\npush rax\njmp join');
    expect(fn.warning).toMatch(/^f\+0x[0-9a-f]+: stack state mismatch: cfa1=rsp\+\d+ cfa2=rsp\+\d+$/);
    expect(fn.ips).toEqual([]);
    expect(at(5)).toBeNull();
  });

  it('rsp realigned while the CFA is rsp-based: unsupported; with a frame pointer: fine', () => {
    expect(analyse('and rsp, -16\nret').fn.warning).toBe('f+0x5: unsupported stack pointer realignment');
    const framed = analyse('push rbp\nmov rbp, rsp\nand rsp, -16\nsub rsp, rdi\nleave\nret');
    expect(framed.fn.warning).toBeNull();
    expect(orcEntryAt(framed.fn, framed.fn.ips[framed.fn.ips.length - 2])).toEqual(bp(16));
  });

  it('an indirect jump with a modified frame is a jump table it cannot follow; unmodified, a sibling call', () => {
    expect(analyse('push rbp\njmp rax').fn.warning).toMatch(/indirect jump with modified stack frame/);
    expect(analyse('jmp rax').fn.warning).toBeNull();
  });

  it('ret or a sibling call with the frame still set up, and falling off the end, are warnings', () => {
    expect(analyse('push rbp\nret').fn.warning).toBe('f+0x6: return with modified stack frame');
    expect(analyse('push rbx\njmp g').fn.warning).toMatch(/sibling call from callable instruction with modified stack frame/);
    expect(analyse('mov eax, 1').fn.warning).toMatch(/falls through to next function/);
    expect(analyse('jmp g').fn.warning).toBeNull();
  });

  it('unreachable bytes after a ret have no entry', () => {
    const { fn, at } = analyse('ret\nnop\nnop');
    expect(fn.warning).toBeNull();
    expect(at(5)).toEqual(sp(8));
    expect(at(6)).toBeNull();
  });

  it('instructions of the gcc subset that write rbp clobber the frame pointer (bswap, xadd, cmpxchg)', () => {
    // site; push rbp; mov rbp, rsp; <clobber rbp>; mov rsp, rbp; pop rbp; ret: after the clobber rbp is no
    // frame pointer, so restoring rsp from it cannot be followed
    for (const clobber of [
      [0x48, 0x0f, 0xcd],
      [0x48, 0x0f, 0xc1, 0xc5],
      [0x48, 0x0f, 0xb1, 0xc5],
    ]) {
      const bytes = [0x0f, 0x1f, 0x44, 0x00, 0x00, 0x55, 0x48, 0x89, 0xe5, ...clobber, 0x48, 0x89, 0xec, 0x5d, 0xc3];
      const mem = new Uint8Array(BASE + bytes.length + 16);
      mem.set(bytes, BASE);
      const fn = analyseFunction(mem, BASE, bytes.length, 'f');
      expect([clobber, fn.warning]).not.toEqual([clobber, null]);
    }
  });
});
