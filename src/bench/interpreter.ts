/**
 * Interpreter throughput benchmark.
 *
 * measureInterpreter(): emulated x86-64 instructions per second on a realistic loop of calls: a caller that
 * loops forever calling a kernel-style function which itself calls a small helper twice (see LOOP_BYTES: ftrace
 * nops, prologues/epilogues, callee-saved pushes/pops, lea, ALU, cmp/test + jcc, a memory counter and struct
 * field accesses). About 50 instructions per iteration, 3 calls and 3 returns: the mix of call-heavy kernel code.
 *
 * measureToyCeiling(): a minimal typed-array bytecode interpreter (fetch an opcode byte from a Uint8Array over a
 * SharedArrayBuffer, switch, a few Int32Array register ops, a loop branch): about the fastest any interpreter
 * loop in JS can go on this machine; the x86 interpreter is measured against it.
 */

import { EntryKind, Exit, PERM_R, PERM_W, PERM_X } from '../x86/cpu-types';
import { X86Cpu } from '../x86/interpreter';
import { Reg } from '../x86/registers';
import { GCC_ENTRY, GCC_RODATA, GCC_RODATA_ADDR, GCC_TEXT, GCC_TEXT_ADDR } from './gcc-workload-image';

export interface BenchResult {
  instrPerSec: number;
  instructions: number;
  ms: number;
}

const CODE = 0x1000;
const STACK_TOP = 0x20000;
/** the struct the workload's rdx points at (inside the R|W region, far below the stack) */
export const BENCH_DATA = 0x18000;

/*
 * The workload, as GNU as assembles it and objdump -d -M intel prints it. It is shaped like compiled kernel code
 * (not like the interpreter's fast paths): ftrace-site nops, frame-pointer prologues/epilogues, callee-saved
 * registers, nested calls, lea arithmetic, cmp/test + jcc, a per-call counter bump in memory (add [mem], imm),
 * a field load and store through a struct pointer (rdx -> BENCH_DATA). Every iteration: caller -> outer -> helper
 * (twice, almost always).
 *
 * 0000000000000000 <caller>:
 *    0:	31 c9                	xor    ecx,ecx
 *    2:	31 db                	xor    ebx,ebx
 *    4:	ba 00 80 01 00       	mov    edx,0x18000
 *    9:	89 cf                	mov    edi,ecx
 *    b:	48 89 de             	mov    rsi,rbx
 *    e:	e8 12 00 00 00       	call   25 <outer>
 *   13:	48 01 c3             	add    rbx,rax
 *   16:	83 c1 01             	add    ecx,0x1
 *   19:	81 f9 e8 03 00 00    	cmp    ecx,0x3e8
 *   1f:	75 e8                	jne    9 <caller+0x9>
 *   21:	31 c9                	xor    ecx,ecx
 *   23:	eb e4                	jmp    9 <caller+0x9>
 *
 * 0000000000000025 <outer>:
 *   25:	0f 1f 44 00 00       	nop    DWORD PTR [rax+rax*1+0x0]
 *   2a:	55                   	push   rbp
 *   2b:	48 89 e5             	mov    rbp,rsp
 *   2e:	41 54                	push   r12
 *   30:	53                   	push   rbx
 *   31:	48 89 d3             	mov    rbx,rdx
 *   34:	41 89 fc             	mov    r12d,edi
 *   37:	83 03 01             	add    DWORD PTR [rbx],0x1
 *   3a:	4b 8d 7c 64 05       	lea    rdi,[r12+r12*2+0x5]
 *   3f:	e8 1f 00 00 00       	call   63 <helper>
 *   44:	85 c0                	test   eax,eax
 *   46:	74 10                	je     58 <outer+0x33>
 *   48:	48 8b 7b 08          	mov    rdi,QWORD PTR [rbx+0x8]
 *   4c:	48 31 c7             	xor    rdi,rax
 *   4f:	e8 0f 00 00 00       	call   63 <helper>
 *   54:	48 89 43 08          	mov    QWORD PTR [rbx+0x8],rax
 *   58:	44 01 e0             	add    eax,r12d
 *   5b:	48 89 da             	mov    rdx,rbx
 *   5e:	5b                   	pop    rbx
 *   5f:	41 5c                	pop    r12
 *   61:	5d                   	pop    rbp
 *   62:	c3                   	ret
 *
 * 0000000000000063 <helper>:
 *   63:	0f 1f 44 00 00       	nop    DWORD PTR [rax+rax*1+0x0]
 *   68:	55                   	push   rbp
 *   69:	48 89 e5             	mov    rbp,rsp
 *   6c:	89 f8                	mov    eax,edi
 *   6e:	25 ff 00 00 00       	and    eax,0xff
 *   73:	3d 80 00 00 00       	cmp    eax,0x80
 *   78:	72 03                	jb     7d <helper+0x1a>
 *   7a:	83 e8 10             	sub    eax,0x10
 *   7d:	8d 04 b8             	lea    eax,[rax+rdi*4]
 *   80:	5d                   	pop    rbp
 *   81:	c3                   	ret
 */
const LOOP_BYTES = [
  // caller
  0x31, 0xc9, 0x31, 0xdb, 0xba, 0x00, 0x80, 0x01, 0x00, 0x89, 0xcf, 0x48, 0x89, 0xde, 0xe8, 0x12, 0x00, 0x00, 0x00, 0x48, 0x01, 0xc3, 0x83,
  0xc1, 0x01, 0x81, 0xf9, 0xe8, 0x03, 0x00, 0x00, 0x75, 0xe8, 0x31, 0xc9, 0xeb, 0xe4,
  // outer
  0x0f, 0x1f, 0x44, 0x00, 0x00, 0x55, 0x48, 0x89, 0xe5, 0x41, 0x54, 0x53, 0x48, 0x89, 0xd3, 0x41, 0x89, 0xfc, 0x83, 0x03, 0x01, 0x4b, 0x8d,
  0x7c, 0x64, 0x05, 0xe8, 0x1f, 0x00, 0x00, 0x00, 0x85, 0xc0, 0x74, 0x10, 0x48, 0x8b, 0x7b, 0x08, 0x48, 0x31, 0xc7, 0xe8, 0x0f, 0x00, 0x00,
  0x00, 0x48, 0x89, 0x43, 0x08, 0x44, 0x01, 0xe0, 0x48, 0x89, 0xda, 0x5b, 0x41, 0x5c, 0x5d, 0xc3,
  // helper
  0x0f, 0x1f, 0x44, 0x00, 0x00, 0x55, 0x48, 0x89, 0xe5, 0x89, 0xf8, 0x25, 0xff, 0x00, 0x00, 0x00, 0x3d, 0x80, 0x00, 0x00, 0x00, 0x72, 0x03,
  0x83, 0xe8, 0x10, 0x8d, 0x04, 0xb8, 0x5d, 0xc3,
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

/** Instructions per second of `cpu` over `ms`, after a warm-up; `restart` puts it back when it stops. */
function rate(cpu: X86Cpu, ms: number, restart: (cpu: X86Cpu) => void): BenchResult {
  const step = (): void => {
    const e = cpu.run(1_000_000);
    if (e === Exit.Halt) restart(cpu);
    else if (e !== Exit.Budget) throw new Error(`benchmark loop stopped: ${cpu.fault?.message}`);
  };
  for (let i = 0; i < 20; i++) step();
  const start0 = cpu.retired;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < ms) {
    step();
    t = performance.now();
  }
  const instructions = cpu.retired - start0;
  return { instrPerSec: instructions / ((t - t0) / 1000), instructions, ms: t - t0 };
}

/*
 * The spin loop of the stress workload's busy functions (issue 13): flags-heavy, one instruction pair per turn.
 *    0:	b9 e8 03 00 00       	mov    ecx,0x3e8
 *    5:	ff c9                	dec    ecx
 *    7:	75 fc                	jne    5
 *    9:	eb f5                	jmp    0
 */
const SPIN_BYTES = [0xb9, 0xe8, 0x03, 0x00, 0x00, 0xff, 0xc9, 0x75, 0xfc, 0xeb, 0xf5];

/** `dec ecx; jnz` turns per second; jitHot 0 measures the interpreter alone. */
export function measureSpinLoop(opts?: { ms?: number; jitHot?: number }): BenchResult {
  const mem = new Uint8Array(new SharedArrayBuffer(1 << 20));
  const perms = new Uint8Array((1 << 20) >>> 12);
  perms[CODE >>> 12] = PERM_R | PERM_X;
  mem.set(SPIN_BYTES, CODE);
  const cpu = new X86Cpu(mem, perms, { entryKind: () => EntryKind.Normal });
  if (opts?.jitHot !== undefined) cpu.jitHot = opts.jitHot;
  cpu.rip = CODE;
  return rate(cpu, opts?.ms ?? 1000, () => undefined);
}

/**
 * gcc-compiled kernel-style code (src/bench/gcc-bench.c: a bitwise CRC loop, a switch through a jump table,
 * struct fields of every width, a division): bench_run(pkts, buf, n) called over and over.
 */
export function measureGccCode(opts?: { ms?: number; jitHot?: number }): BenchResult {
  const sab = new SharedArrayBuffer(1 << 20);
  const mem = new Uint8Array(sab);
  const perms = new Uint8Array((1 << 20) >>> 12);
  const HALT = 0x800;
  const PKTS = 0x8000,
    BUF = 0x9000;
  perms[0] = PERM_R | PERM_X; // the return address of each call: a hlt
  mem[HALT] = 0xf4;
  mem.set(GCC_TEXT, GCC_TEXT_ADDR);
  mem.set(GCC_RODATA, GCC_RODATA_ADDR);
  for (let a = GCC_TEXT_ADDR; a < GCC_TEXT_ADDR + GCC_TEXT.length; a += 0x1000) perms[a >>> 12] = PERM_R | PERM_X;
  perms[GCC_RODATA_ADDR >>> 12] = PERM_R;
  perms[PKTS >>> 12] = PERM_R | PERM_W;
  perms[BUF >>> 12] = PERM_R | PERM_W;
  for (let p = 0x10000; p < STACK_TOP; p += 0x1000) perms[p >>> 12] = PERM_R | PERM_W;
  for (let i = 0; i < 256; i++) mem[PKTS + i] = (i * 37) & 0xff;
  for (let i = 0; i < 256; i++) mem[BUF + i] = (i * 101) & 0xff;
  const cpu = new X86Cpu(mem, perms, { entryKind: () => EntryKind.Normal });
  if (opts?.jitHot !== undefined) cpu.jitHot = opts.jitHot;
  const call = (c: X86Cpu): void => {
    c.setRegNum(Reg.RSP, STACK_TOP - 0x100);
    c.push64(HALT);
    c.setRegNum(Reg.RDI, PKTS);
    c.setRegNum(Reg.RSI, BUF);
    c.setRegNum(Reg.RDX, 1000);
    c.rip = GCC_ENTRY;
  };
  call(cpu);
  return rate(cpu, opts?.ms ?? 1000, call);
}

/** The toy bytecode loop: [op, a, b] triples. */
function toyRun(code: Uint8Array, regs: Int32Array, budget: number): number {
  let pc = 0,
    n = 0;
  while (n < budget) {
    const op = code[pc],
      a = code[pc + 1],
      b = code[pc + 2];
    n++;
    switch (op) {
      case 0:
        regs[a] = (regs[a] + regs[b]) | 0;
        pc += 3;
        break; // add r, r
      case 1:
        regs[a] = regs[a] ^ b;
        pc += 3;
        break; // xor r, imm
      case 2:
        regs[a] = (regs[a] + b) | 0;
        pc += 3;
        break; // add r, imm
      case 3:
        regs[a] = regs[b];
        pc += 3;
        break; // mov r, r
      case 4:
        regs[a] = (regs[a] - 1) | 0;
        pc = regs[a] !== 0 ? b : pc + 3;
        break; // dec + jnz
      default:
        return n;
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
  console.log(`x86 interp:  ${f(x86)}  = ${((100 * x86.instrPerSec) / toy.instrPerSec).toFixed(0)}% of ceiling`);
  console.log(`spin loop, block compiler: ${f(measureSpinLoop({ ms }))}`);
  console.log(`spin loop, interpreter:    ${f(measureSpinLoop({ ms, jitHot: 0 }))}`);
  console.log(`gcc code, block compiler:  ${f(measureGccCode({ ms }))}`);
  console.log(`gcc code, interpreter:     ${f(measureGccCode({ ms, jitHot: 0 }))}`);
}
