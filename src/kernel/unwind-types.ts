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

/** The most frames a walk follows, with either unwinder. */
export const MAX_FRAMES = 64;

/**
 * A walk's frames in a reused buffer: the consistency check walks the caller's stack at every redirected
 * call, and refilling a JS array cost an `array.length = 0` each time — a runtime call that also shrinks
 * the array's store (~2 % of a busy CPU's profile).
 */
export class FrameBuffer {
  readonly pcs = new Float64Array(MAX_FRAMES);
  length = 0;
}
