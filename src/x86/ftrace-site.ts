/**
 * The 5-byte instruction every function starts with: `nopl 0x0(%rax,%rax,1)`, what `-mfentry`'s
 * `call __fentry__` becomes after the kernel's boot-time conversion. ftrace turns it into `call <trampoline>`
 * (`e8 rel32`) and back, with the int3 protocol of text_poke_bp.
 */
export const FTRACE_SITE_NOP: readonly number[] = [0x0f, 0x1f, 0x44, 0x00, 0x00];
export const FTRACE_SITE_SIZE = 5;
export const CALL_REL32_OPCODE = 0xe8;
export const INT3_OPCODE = 0xcc;

/** The bytes of `call target` at the site `site` (`e8` and the rel32 from the end of the instruction). */
export function ftraceSiteCall(site: number, target: number): number[] {
  const rel = target - (site + FTRACE_SITE_SIZE);
  return [CALL_REL32_OPCODE, rel & 0xff, (rel >> 8) & 0xff, (rel >> 16) & 0xff, (rel >>> 24) & 0xff];
}
