/**
 * The benchmark workload (bench/interpreter.ts) run against a plain-JS model of what it computes: the
 * interpreter must reach exactly the same registers and memory after exactly the same number of
 * instructions, whatever budgets the run is cut into (cuts fall inside fused pairs and between them).
 */
import { Exit } from '../../../src/x86/cpu-types';
import { Reg } from '../../../src/x86/registers';
import { BENCH_DATA, buildLoopMachine } from '../../../src/bench/interpreter';

interface Model {
  ecx: number;
  rbx: bigint;
  count: number;
  field: bigint;
  instrs: number;
}

/** Run `iters` iterations of the caller's loop in JS; returns the state at the loop head and the instruction count. */
function model(iters: number): Model {
  let ecx = 0,
    rbx = 0n,
    count = 0,
    field = 0n,
    instrs = 3; // xor, xor, mov edx
  const helper = (rdi: bigint): bigint => {
    instrs += 10;
    let eax = Number(rdi & 0xffn);
    if (eax >= 0x80) {
      eax -= 0x10;
      instrs++;
    }
    return BigInt((eax + Number((rdi * 4n) & 0xffffffffn)) >>> 0);
  };
  for (let i = 0; i < iters; i++) {
    instrs += 7; // mov, mov, call, add, add, cmp, jne
    // outer
    instrs += 18;
    count = (count + 1) >>> 0;
    const r12 = BigInt(ecx);
    let rax = helper(r12 * 3n + 5n);
    if (rax !== 0n) {
      instrs += 4;
      rax = helper(field ^ rax);
      field = rax;
    }
    rax = BigInt((Number(rax & 0xffffffffn) + ecx) >>> 0);
    rbx = BigInt.asUintN(64, rbx + rax);
    ecx++;
    if (ecx === 1000) {
      ecx = 0;
      instrs += 2;
    }
  }
  return { ecx, rbx, count, field, instrs };
}

describe('benchmark workload', () => {
  test.each([[1], [7], [1000], [2500]])('%d iterations match the JS model', (iters) => {
    const want = model(iters);
    for (const chunk of iters <= 7 ? [1_000_000_000, 1, 2, 3, 5, 13, 101] : [1_000_000_000, 13, 101, 997]) {
      const cpu = buildLoopMachine();
      let left = want.instrs;
      while (left > 0) {
        const step = Math.min(chunk, left);
        expect(cpu.run(step)).toBe(Exit.Budget);
        left -= step;
      }
      expect(cpu.retired).toBe(want.instrs);
      expect(cpu.rip).toBe(0x1009);
      expect(cpu.getRegNum(Reg.RCX)).toBe(want.ecx);
      expect(cpu.getReg(Reg.RBX)).toBe(want.rbx);
      expect(cpu.readU32(BENCH_DATA)).toBe(want.count);
      expect(cpu.readU64(BENCH_DATA + 8)).toBe(want.field);
      expect(cpu.getRegNum(Reg.RSP)).toBe(0x20000 - 0x100);
    }
  });
});
