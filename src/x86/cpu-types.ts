/**
 * The contract between the x86 interpreter (src/x86/interpreter.ts) and the machine around it
 * (src/kernel: the per-CPU host that schedules tasks, serves kernel services and ftrace sites).
 *
 * Memory model: one flat address space, the bytes of one SharedArrayBuffer (`mem`). An address is a
 * 64-bit value whose upper 32 bits must be zero and whose low 32 bits must be below `mem.length`;
 * anything else is a #PF. Page permissions (4 KiB pages) are one byte per page in `perms`.
 */

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
export const PERM_R = 1;
export const PERM_W = 2;
export const PERM_X = 4;

/** What an address is, decided by the host once when the interpreter first decodes there. */
export const enum EntryKind {
  /** Ordinary code: decode and execute. */
  Normal = 0,
  /** A kernel service (printk, seq_puts, ...): stop with Exit.Native before executing; the host serves the call. */
  Native = 1,
  /** An ftrace site (the first 5 bytes of a function): stop with Exit.Site; the host emulates the site. */
  Site = 2,
}

/** Why X86Cpu.run() returned. */
export const enum Exit {
  /** The instruction budget ran out. */
  Budget = 0,
  /** rip is at an address the host classified as Native. Nothing was executed there. */
  Native = 1,
  /** rip is at an address the host classified as Site. Nothing was executed there. */
  Site = 2,
  /** An int3 (0xcc) was fetched; rip is the address of the int3 (not past it). The host decides (text_poke_bp). */
  Int3 = 3,
  /** `hlt` executed; rip is past it. */
  Halt = 4,
  /** A fault; `cpu.fault` says which. rip is the faulting instruction. */
  Fault = 5,
}

export type FaultVector = '#UD' | '#PF' | '#GP' | '#BP' | '#DE';

/**
 * The page-fault error code's bits (arch/x86/include/asm/trap_pf.h, X86_PF_*): set = a protection
 * violation on a present page (clear: nothing mapped there), a write, from user mode, an instruction fetch.
 */
export const PF_PROT = 1 << 0;
export const PF_WRITE = 1 << 1;
export const PF_USER = 1 << 2;
export const PF_INSTR = 1 << 4;

export interface CpuFault {
  vector: FaultVector;
  /** Address of the faulting instruction. */
  rip: number;
  /** For #PF: the address that was accessed. */
  addr?: number;
  /** For #PF: the error code the CPU pushes (PF_PROT, PF_WRITE, PF_USER, PF_INSTR bits). */
  errorCode?: number;
  /** Up to 16 bytes at rip, as fetched (for the oops line). */
  bytes: number[];
  /** Human-readable reason, e.g. "write to read-only page 0x401000" or "invalid opcode 0f 0b". */
  message: string;
}

export interface X86Host {
  /** Consulted once per address when the decoded-instruction cache is filled. */
  entryKind(addr: number): EntryKind;
}
