/**
 * What a reliable unwinder starts from and what it returns, shared by both unwinders (unwind-orc.ts,
 * unwind-frame.ts) and the machine's choice between them (stack-walk.ts).
 */
export interface StackWalk {
  /** The current pc and the return addresses, innermost first. */
  frames: number[];
  reliable: boolean;
  reason?: string;
}

/** Where a walk starts: a task's saved frame, or a running CPU's registers. */
export interface UnwindStart {
  rip: number;
  rsp: number;
  rbp: number;
  stackBase: number;
  stackTop: number;
  /** The frame is kernel-mode pt_regs: the task was interrupted there, not switched out voluntarily. */
  regs: boolean;
}
