/**
 * Locked instructions are atomic across CPUs (worker threads over one SharedArrayBuffer, as klpsim's CPUs
 * are): two threads each add 1 to shared counters 100 000 times with `lock inc`, `lock xadd` and a
 * `lock cmpxchg` retry loop; no increment may be lost.
 */
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { PERM_R, PERM_W, PERM_X } from '../../../src/x86/cpu-types';
import { hex } from './helpers';

const N = 100_000;
// mov ecx, N; L: lock inc dword [rdi]; mov eax, 1; lock xadd [rdi+8], eax;
// mov eax, [rdi+16]; C: lea edx, [rax+1]; lock cmpxchg [rdi+16], edx; jne C; dec ecx; jnz L; hlt
const CODE = `b9 ${[N & 255, (N >> 8) & 255, (N >> 16) & 255, 0].map((x) => x.toString(16)).join(' ')}
  f0 ff 07  b8 01 00 00 00  f0 0f c1 47 08  8b 47 10  8d 50 01  f0 0f b1 57 10  75 f6  ff c9  75 e2  f4`;

function runWorker(mem: SharedArrayBuffer, perms: SharedArrayBuffer, jitHot: number): Promise<{ exit: number; fault: string | null }> {
  return new Promise((resolve, reject) => {
    const w = new Worker(join(__dirname, 'lock-worker.ts'), {
      execArgv: ['--require', 'tsx/cjs'],
      workerData: { mem, perms, rip: 0x1000, rdi: 0x4000, jitHot },
    });
    w.once('message', resolve);
    w.once('error', reject);
  });
}

test.each([0, 50])('no increment is lost between two threads (jitHot %i)', async (jitHot) => {
  const mem = new SharedArrayBuffer(1 << 16);
  const perms = new SharedArrayBuffer(16);
  const m = new Uint8Array(mem),
    p = new Uint8Array(perms);
  const bytes = hex(CODE);
  m.set(bytes, 0x1000);
  p[1] = PERM_R | PERM_X;
  p[4] = PERM_R | PERM_W;
  const results = await Promise.all([runWorker(mem, perms, jitHot), runWorker(mem, perms, jitHot)]);
  for (const r of results) expect(r.fault).toBeNull();
  const w = new Int32Array(mem, 0x4000, 6);
  expect([w[0], w[2], w[4]]).toEqual([2 * N, 2 * N, 2 * N]);
});
