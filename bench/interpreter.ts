/**
 * Interpreter throughput benchmark.
 *
 * measureInterpreter(): emulated x86-64 instructions per second on a realistic loop of calls: a caller that
 * loops forever calling a function with an ftrace-site nop, a frame-pointer prologue, lea/and/cmp/jcc/sub/xor
 * arithmetic, a store and load through rbp, and an epilogue with ret.
 *
 * measureToyCeiling(): a minimal typed-array bytecode interpreter (fetch an opcode byte from a Uint8Array over a
 * SharedArrayBuffer, switch, a few Int32Array register ops, a loop branch): about the fastest any interpreter
 * loop in JS can go on this machine; the x86 interpreter is measured against it.
 */

import { EntryKind, Exit, PERM_R, PERM_W, PERM_X } from '../src/x86/cpu-types';
import { X86Cpu } from '../src/x86/interpreter';
import { Reg } from '../src/x86/registers';

export interface BenchResult {
  instrPerSec: number;
  instructions: number;
  ms: number;
}

const CODE = 0x1000;
const STACK_TOP = 0x20000;

/*
 * 0x00 caller:  xor ecx,ecx ; xor ebx,ebx
 * 0x04 loop:    mov edi,ecx ; call func ; add rbx,rax ; add ecx,1 ; cmp ecx,1000 ; jne loop ; xor ecx,ecx ; jmp loop
 * 0x1d func:    nop DWORD PTR [rax+rax*1+0]   (the 5-byte ftrace site nop)
 *               push rbp ; mov rbp,rsp ; push rbx ; lea rax,[rdi+rdi*2+5] ; mov rbx,rax ; and eax,0xff
 *               cmp eax,0x80 ; jl skip ; sub eax,0x10
 *       skip:   xor eax,edi ; mov [rbp-0x18],rax ; mov rax,[rbp-0x18] ; add rax,rbx ; pop rbx ; pop rbp ; ret
 */
const LOOP_BYTES = [
  0x31, 0xc9, 0x31, 0xdb,
  0x89, 0xcf, 0xe8, 0x12, 0x00, 0x00, 0x00, 0x48, 0x01, 0xc3, 0x83, 0xc1, 0x01, 0x81, 0xf9, 0xe8, 0x03, 0x00, 0x00,
  0x75, 0xeb, 0x31, 0xc9, 0xeb, 0xe7,
  0x0f, 0x1f, 0x44, 0x00, 0x00,
  0x55, 0x48, 0x89, 0xe5, 0x53, 0x48, 0x8d, 0x44, 0x7f, 0x05, 0x48, 0x89, 0xc3, 0x25, 0xff, 0x00, 0x00, 0x00,
  0x3d, 0x80, 0x00, 0x00, 0x00, 0x7c, 0x03, 0x83, 0xe8, 0x10,
  0x31, 0xf8, 0x48, 0x89, 0x45, 0xe8, 0x48, 0x8b, 0x45, 0xe8, 0x48, 0x01, 0xd8, 0x5b, 0x5d, 0xc3,
];

/** Build the benchmark machine: 1 MiB of shared memory, code page R|X at 0x1000, stack R|W below 0x20000. */
export function buildLoopMachine(): X86Cpu {
  const sab = new SharedArrayBuffer(1 << 20);
  const mem = new Uint8Array(sab);
  const perms = new Uint8Array((1 << 20) >>> 12);
  perms[CODE >>> 12] = PERM_R | PERM_X;
  for (let p = 0x10000; p < STACK_TOP; p += 0x1000) perms[p >>> 12] = PERM_R | PERM_W;
  mem.set(LOOP_BYTES, CODE);
  const cpu = new X86Cpu(mem, perms, { entryKind: () => EntryKind.Normal });
  cpu.rip = CODE;
  cpu.setRegNum(Reg.RSP, STACK_TOP - 0x100);
  return cpu;
}

export function measureInterpreter(opts?: { ms?: number }): BenchResult {
  const ms = opts?.ms ?? 1000;
  const cpu = buildLoopMachine();
  // warm up (lets V8 optimize run() before timing)
  for (let i = 0; i < 20; i++) if (cpu.run(100_000) !== Exit.Budget) throw new Error(`benchmark loop stopped: ${cpu.fault?.message}`);
  const start0 = cpu.retired;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < ms) {
    if (cpu.run(1_000_000) !== Exit.Budget) throw new Error(`benchmark loop stopped: ${cpu.fault?.message}`);
    t = performance.now();
  }
  const instructions = cpu.retired - start0;
  const el = t - t0;
  return { instrPerSec: instructions / (el / 1000), instructions, ms: el };
}

/** The toy bytecode loop: [op, a, b] triples. */
function toyRun(code: Uint8Array, regs: Int32Array, budget: number): number {
  let pc = 0, n = 0;
  while (n < budget) {
    const op = code[pc], a = code[pc + 1], b = code[pc + 2];
    n++;
    switch (op) {
      case 0: regs[a] = (regs[a] + regs[b]) | 0; pc += 3; break;          // add r, r
      case 1: regs[a] = regs[a] ^ b; pc += 3; break;                       // xor r, imm
      case 2: regs[a] = (regs[a] + b) | 0; pc += 3; break;                 // add r, imm
      case 3: regs[a] = regs[b]; pc += 3; break;                           // mov r, r
      case 4: regs[a] = (regs[a] - 1) | 0; pc = regs[a] !== 0 ? b : pc + 3; break; // dec + jnz
      default: return n;
    }
  }
  return n;
}

export function measureToyCeiling(opts?: { ms?: number }): BenchResult {
  const ms = opts?.ms ?? 1000;
  const code = new Uint8Array(new SharedArrayBuffer(64));
  // 0: add r0, 1 ; 3: add r1, r0 ; 6: xor r2, 5 ; 9: mov r3, r1 ; 12: dec r4 ; jnz 0
  code.set([2, 0, 1, 0, 1, 0, 1, 2, 5, 3, 3, 1, 4, 4, 0]);
  const regs = new Int32Array(8);
  regs[4] = 0x7fffffff;
  for (let i = 0; i < 20; i++) toyRun(code, regs, 100_000);
  let instructions = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < ms) {
    instructions += toyRun(code, regs, 1_000_000);
    if (regs[4] < 1000) regs[4] = 0x7fffffff;
    t = performance.now();
  }
  const el = t - t0;
  return { instrPerSec: instructions / (el / 1000), instructions, ms: el };
}

if (require.main === module) {
  const ms = Number(process.argv[2] ?? 1000);
  const toy = measureToyCeiling({ ms });
  const x86 = measureInterpreter({ ms });
  const f = (r: BenchResult): string => `${(r.instrPerSec / 1e6).toFixed(1)} M instr/s (${r.instructions} in ${r.ms.toFixed(0)} ms)`;
  console.log(`toy ceiling: ${f(toy)}`);
  console.log(`x86 interp:  ${f(x86)}  = ${(100 * x86.instrPerSec / toy.instrPerSec).toFixed(0)}% of ceiling`);
}
