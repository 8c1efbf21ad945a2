/**
 * The kernel log lines of an oops, in v5.1's words and order: for a page fault, show_fault_oops()
 * (arch/x86/mm/fault.c) first — what was accessed, by what kind of access, and the error code decoded —
 * then __die_header() (arch/x86/kernel/dumpstack.c): the exception's name and its error code, the oops
 * number across all CPUs, the configuration; then show_regs()'s first lines: the CPU, the task and the
 * taint (dump_stack_print_info(), lib/dump_stack.c), RIP symbolised and the code bytes around RIP.
 * klpsim has no page tables, no DMI and no register dump beyond these, so dump_pagetable()'s `PGD …` line,
 * `Hardware name:` and the `RSP:`/`RAX:` lines are not printed.
 */
import { PAGE_SIZE, PF_INSTR, PF_PROT, PF_USER, PF_WRITE, type CpuFault, type FaultVector } from '../x86/cpu-types';
import type { KernelMemory } from '../mem/kernel-memory';

/** The first word of `uname -v`; `uname -r` is the machine's release (OopsContext.release). */
const UTS_VERSION = '#1';

/** The `str` __die() is given for each exception (do_error_trap()'s and no_context()'s names). */
const DIE_STR: Record<FaultVector, string> = {
  '#PF': 'Oops',
  '#UD': 'invalid opcode',
  '#BP': 'int3',
  '#GP': 'general protection fault',
  '#DE': 'divide error',
};

/** show_opcodes(): the bytes before RIP and after it, RIP's own byte in angle brackets. */
const PROLOGUE_SIZE = 42;
const EPILOGUE_SIZE = 21;

/**
 * The `Code:` line: 42 bytes before RIP, `<RIP's byte>`, 21 after; `Bad RIP value.` when any of them
 * cannot be read (probe_kernel_read() of the whole range fails: here, a page that is not mapped).
 */
export function showOpcodes(km: KernelMemory, rip: number): string {
  const start = rip - PROLOGUE_SIZE;
  const end = rip + 1 + EPILOGUE_SIZE;
  if (start < 0 || end > km.u8.length) return 'Code: Bad RIP value.';
  for (let page = start & ~(PAGE_SIZE - 1); page < end; page += PAGE_SIZE) if (km.permsAt(page) === 0) return 'Code: Bad RIP value.';
  const b = (a: number): string => km.u8[a].toString(16).padStart(2, '0');
  const range = (from: number, to: number): string[] => Array.from({ length: to - from }, (_, i) => b(from + i));
  return `Code: ${[...range(start, rip), `<${b(rip)}>`, ...range(rip + 1, end)].join(' ')}`;
}

export interface OopsContext {
  cpu: number;
  pid: number;
  comm: string;
  /** RIP symbolised, `func+0x9/0x20 [mod]` */
  where: string;
  /** die_counter after this oops: the `[#N]` */
  dieCounter: number;
  /** print_tainted() at the time of the oops (TAINT_DIE is added only after it) */
  tainted: string;
  /** UTS_RELEASE of the machine's kernel (`6.12.0`), as dump_stack_print_info() prints it */
  release: string;
  /** show_opcodes()'s line */
  code: string;
  /** The task's stack, [base, top): a fault on the guard page next to it is a stack overflow. */
  stack: { base: number; top: number };
}

/** show_fault_oops(): every fault klpsim takes is in kernel mode (a user task's pass is its system call). */
function pageFaultLines(addr: number, err: number): string[] {
  const address = addr.toString(16).padStart(16, '0');
  const access = err & PF_INSTR ? 'instruction fetch' : err & PF_WRITE ? 'write access' : 'read access';
  return [
    addr < PAGE_SIZE
      ? `BUG: kernel NULL pointer dereference, address: ${address}`
      : `BUG: unable to handle page fault for address: ${address}`,
    `#PF: ${err & PF_USER ? 'user' : 'supervisor'} ${access} in kernel mode`,
    `#PF: error_code(0x${err.toString(16).padStart(4, '0')}) - ${err & PF_PROT ? 'permissions violation' : 'not-present page'}`,
  ];
}

const ptr = (a: number): string => a.toString(16).padStart(16, '0');

/**
 * no_context() with CONFIG_VMAP_STACK: a fault within a page below or above the task's stack is an
 * overflow onto a guard page, reported by handle_stack_overflow() and died of with error code 0.
 * (The kernel prints these %p values hashed; klpsim prints them as they are.)
 */
function stackOverflowLines(f: CpuFault, o: OopsContext): string[] | null {
  const a = f.addr ?? 0;
  const below = a < o.stack.base && o.stack.base - a <= PAGE_SIZE;
  const above = a >= o.stack.top && a - o.stack.top < PAGE_SIZE;
  if (f.vector !== '#PF' || !(below || above)) return null;
  return [
    `BUG: stack guard page was hit at ${ptr(a)} (stack is ${ptr(o.stack.base)}..${ptr(o.stack.top - 1)})`,
    `kernel stack overflow (page fault): 0000 [#${o.dieCounter}] SMP`,
  ];
}

export function oopsLines(f: CpuFault, o: OopsContext): string[] {
  const overflow = stackOverflowLines(f, o);
  if (overflow) return [...overflow, ...regsLines(o)];
  const err = f.vector === '#PF' ? (f.errorCode ?? 0) : 0;
  const lines = f.vector === '#PF' ? pageFaultLines(f.addr ?? 0, err) : [];
  if (f.vector === '#PF' && err & PF_INSTR && err & PF_PROT) {
    lines.splice(0, 0, 'kernel tried to execute NX-protected page - exploit attempt? (uid: 0)');
  }
  lines.push(`${DIE_STR[f.vector]}: ${(err & 0xffff).toString(16).padStart(4, '0')} [#${o.dieCounter}] SMP`);
  return [...lines, ...regsLines(o)];
}

/** show_regs()'s first lines, as far as klpsim has them. */
function regsLines(o: OopsContext): string[] {
  return [
    `CPU: ${o.cpu} PID: ${o.pid} Comm: ${o.comm.slice(0, 20)} ${o.tainted} ${o.release} ${UTS_VERSION}`,
    `RIP: 0010:${o.where}`,
    o.code,
  ];
}
