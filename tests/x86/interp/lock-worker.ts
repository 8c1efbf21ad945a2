/** Worker for lock-threads.test.ts: one CPU over the shared memory, run until its code halts. */
import { parentPort, workerData } from 'node:worker_threads';
import { EntryKind, Exit } from '../../../src/x86/cpu-types';
import { X86Cpu } from '../../../src/x86/interpreter';

const { mem, perms, rip, rdi, jitHot } = workerData as {
  mem: SharedArrayBuffer;
  perms: SharedArrayBuffer;
  rip: number;
  rdi: number;
  jitHot: number;
};
const cpu = new X86Cpu(new Uint8Array(mem), new Uint8Array(perms), { entryKind: () => EntryKind.Normal });
cpu.jitHot = jitHot;
cpu.rip = rip;
cpu.setRegNum(7, rdi);
let e: Exit;
do e = cpu.run(100_000);
while (e === Exit.Budget);
parentPort?.postMessage({ exit: e, fault: cpu.fault?.message ?? null });
