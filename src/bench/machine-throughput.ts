/**
 * Aggregate emulation speed of the whole machine: N CPU worker threads, each running one busy kernel
 * thread that calls a realistic function chain in a loop (prologue, ALU work, a conditional loop, nested
 * calls, epilogue — the shape of kernel code), measured as instructions retired per second of real time.
 * This includes everything a CPU does besides interpreting: ftrace sites at every call, task switches,
 * clock synchronisation between CPUs, IPI checks.
 */
import { Machine } from '../coordinator/machine';
import { PcpuField } from '../mem/percpu';

export const BUSY_KERNEL: Record<string, string> = {
  leaf: `
    push rbp
    mov rbp, rsp
    lea rax, [rdi + rdi*2]
    imul rax, rax, 7
    xor rax, rsi
    and eax, 0xffff
    pop rbp
    ret`,
  middle: `
    push rbp
    mov rbp, rsp
    push rbx
    mov rbx, rdi
    xor esi, esi
  again:
    mov rdi, rbx
    call leaf
    add rsi, rax
    dec rbx
    cmp rbx, 0
    jg again
    mov rax, rsi
    pop rbx
    pop rbp
    ret`,
  busy_loop: `
    push rbp
    mov rbp, rsp
    push r12
    mov r12d, 1000
  outer:
    mov edi, 20
    call middle
    sub r12, 1
    jnz outer
    pop r12
    pop rbp
    ret`,
};

export interface ThroughputResult {
  cpus: number;
  instrPerSec: number;
  instructions: number;
  ms: number;
}

export async function measureMachine(cpus: number, ms: number): Promise<ThroughputResult> {
  const m = await Machine.create({ cpus });
  try {
    m.loader.load(
      'vmlinux',
      Object.entries(BUSY_KERNEL).map(([name, source]) => ({ name, source })),
    );
    for (let cpu = 0; cpu < cpus; cpu++) await m.spawn({ name: `busy/${cpu}`, cpu, run: [{ kind: 'call', func: 'busy_loop', args: [] }] });
    // Let simulated time run far ahead: the coordinator has nothing to do until then.
    const sleeping = m.sleep(1e9).catch(() => undefined);
    const retired = (): number => m.pcpus.reduce((s, p) => s + Number(p.get64(PcpuField.Retired)), 0);
    await new Promise((r) => setTimeout(r, Math.min(300, ms / 3))); // warm-up: JIT and caches
    const r0 = retired();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, ms));
    const r1 = retired();
    const t1 = performance.now();
    void sleeping;
    return { cpus, instructions: r1 - r0, ms: t1 - t0, instrPerSec: ((r1 - r0) * 1000) / (t1 - t0) };
  } finally {
    await m.dispose();
  }
}
