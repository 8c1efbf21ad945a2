/**
 * The kernel log lines of an oops, in the kernel's words (arch/x86/mm/fault.c, arch/x86/kernel/traps.c,
 * kernel/panic.c): the first line names the exception, then the CPU, the task, and RIP with its
 * symbolised address and the code bytes around it.
 */
import type { CpuFault } from '../x86/cpu-types';
import { hex } from './events';

export function oopsLines(f: CpuFault, cpu: number, pid: number, comm: string, where: string, oopsCount: number): string[] {
  const head: Record<string, string> = {
    '#PF': `BUG: unable to handle page fault for address: ${(f.addr ?? 0).toString(16).padStart(16, '0')}`,
    '#UD': `invalid opcode: 0000 [#${oopsCount}] SMP`,
    '#BP': `int3: 0000 [#${oopsCount}] SMP`,
    '#GP': `general protection fault: 0000 [#${oopsCount}] SMP`,
    '#DE': `divide error: 0000 [#${oopsCount}] SMP`,
  };
  const lines = [head[f.vector]];
  if (f.vector === '#PF') lines.push(`Oops: 0000 [#${oopsCount}] SMP`);
  lines.push(`CPU: ${cpu} PID: ${pid} Comm: ${comm} Tainted: G              K`);
  lines.push(`RIP: 0010:${where}`);
  lines.push(`Code: ${hex(f.bytes)}`);
  return lines;
}
