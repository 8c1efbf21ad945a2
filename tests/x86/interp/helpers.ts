/** Test fixtures for the x86 interpreter: a 1 MiB machine with a fixed page layout. */
import { EntryKind, Exit, PERM_R, PERM_W, PERM_X, X86Host } from '../../../src/x86/cpu-types';
import { X86Cpu } from '../../../src/x86/interpreter';
import { REG64_NAMES, Reg } from '../../../src/x86/registers';

export const MEM_SIZE = 1 << 20;
/** code page(s): R|X */
export const CODE = 0x1000;
/** two data pages: R|W */
export const DATA = 0x4000;
/** read-only data page */
export const RO = 0x6000;
/** R|W but not executable */
export const NOX = 0x7000;
/** unmapped page (perms 0) */
export const UNMAPPED = 0x8000;
export const STACK_TOP = 0x20000;
export const RSP0 = STACK_TOP - 0x100;

export const CF = 0x1,
  PF = 0x4,
  ZF = 0x40,
  SF = 0x80,
  OF = 0x800;
export const STATUS = CF | PF | ZF | SF | OF;

export function hex(s: string): number[] {
  return s
    .trim()
    .split(/\s+/)
    .filter((x) => x.length > 0)
    .map((x) => parseInt(x, 16));
}

export interface Machine {
  mem: Uint8Array;
  perms: Uint8Array;
  cpu: X86Cpu;
  kinds: Map<number, EntryKind>;
  entryCalls: number[];
}

export function machine(code: number[] | string = []): Machine {
  const mem = new Uint8Array(new SharedArrayBuffer(MEM_SIZE));
  const perms = new Uint8Array(MEM_SIZE >>> 12);
  perms[CODE >>> 12] = PERM_R | PERM_X;
  perms[(CODE >>> 12) + 1] = PERM_R | PERM_X;
  perms[DATA >>> 12] = PERM_R | PERM_W;
  perms[(DATA >>> 12) + 1] = PERM_R | PERM_W;
  perms[RO >>> 12] = PERM_R;
  perms[NOX >>> 12] = PERM_R | PERM_W;
  for (let p = 0x10000; p < STACK_TOP; p += 0x1000) perms[p >>> 12] = PERM_R | PERM_W;
  const bytes = typeof code === 'string' ? hex(code) : code;
  mem.set(bytes, CODE);
  const kinds = new Map<number, EntryKind>();
  const entryCalls: number[] = [];
  const host: X86Host = {
    entryKind(a: number): EntryKind {
      entryCalls.push(a);
      return kinds.get(a) ?? EntryKind.Normal;
    },
  };
  const cpu = new X86Cpu(mem, perms, host);
  cpu.rip = CODE;
  cpu.setRegNum(Reg.RSP, RSP0);
  cpu.setRegNum(Reg.RDI, DATA);
  return { mem, perms, cpu, kinds, entryCalls };
}

export type RegName =
  'rax' | 'rcx' | 'rdx' | 'rbx' | 'rsp' | 'rbp' | 'rsi' | 'rdi' | 'r8' | 'r9' | 'r10' | 'r11' | 'r12' | 'r13' | 'r14' | 'r15';

export function regOf(name: RegName): Reg {
  return REG64_NAMES.indexOf(name);
}

export interface Setup {
  regs?: Partial<Record<RegName, bigint | number>>;
  rflags?: number;
  /** bytes to place in memory before running */
  mem?: Array<[number, number[]]>;
}

/** Run `code` followed by hlt; expect Exit.Halt. */
export function exec(code: string, setup: Setup = {}, budget = 10_000): Machine {
  const m = machine(hex(code).concat([0xf4]));
  for (const [k, v] of Object.entries(setup.regs ?? {})) {
    m.cpu.setReg(regOf(k as RegName), BigInt(v));
  }
  if (setup.rflags !== undefined) m.cpu.setRflags(setup.rflags);
  for (const [a, b] of setup.mem ?? []) m.mem.set(b, a);
  const exit = m.cpu.run(budget);
  if (exit !== Exit.Halt) throw new Error(`expected Halt, got exit ${exit}: ${m.cpu.fault?.message ?? ''}`);
  return m;
}

export function reg(m: Machine, name: RegName): bigint {
  return m.cpu.getReg(regOf(name));
}

export function u64(v: bigint): bigint {
  return BigInt.asUintN(64, v);
}

/** Deterministic PRNG (xorshift32) for generated cases. */
export function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

/** Interesting 64-bit operands: boundaries plus random values. */
export function operands(n: number, seed: number): bigint[] {
  const fixed = [
    0n,
    1n,
    2n,
    0x7fn,
    0x80n,
    0xffn,
    0x7fffn,
    0x8000n,
    0xffffn,
    0x7fffffffn,
    0x80000000n,
    0xffffffffn,
    0x100000000n,
    0x7fffffffffffffffn,
    0x8000000000000000n,
    0xffffffffffffffffn,
    0xfffffffffffffffen,
    0x123456789abcdef0n,
  ];
  const r = prng(seed);
  const out = fixed.slice();
  while (out.length < n) out.push((BigInt(r()) << 32n) | BigInt(r()));
  return out;
}
