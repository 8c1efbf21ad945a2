/**
 * `expect:` steps (SPEC section 2). Each check returns the problems it found, in words a user can act on.
 */
import type { Step } from './scenario-types';
import type { SimContext } from './sim-context';
import { runShell } from './shell';

type ExpectStep = Extract<Step, { kind: 'expect' }>;

/** Are `want` lines in `log`, in this order (other lines may come between)? Returns the first missing. */
export function missingInOrder(log: readonly string[], want: readonly string[]): string | null {
  let i = 0;
  for (const w of want) {
    while (i < log.length && log[i] !== w) i++;
    if (i === log.length) return w;
    i++;
  }
  return null;
}

const stripNl = (s: string): string => s.replace(/\n$/, '');

export async function checkExpect(ctx: SimContext, step: ExpectStep): Promise<string[]> {
  const problems: string[] = [];
  if (step.sh) {
    const r = await runShell(ctx, step.sh.parsed);
    const wantExit = step.sh.exit ?? (step.sh.stdout !== undefined ? 0 : undefined);
    if (step.sh.stdout !== undefined && stripNl(r.stdout) !== stripNl(step.sh.stdout)) {
      problems.push(
        `'${step.sh.command}' printed ${JSON.stringify(stripNl(r.stdout))}${r.stderr ? ` (stderr ${JSON.stringify(stripNl(r.stderr))})` : ''}, expected ${JSON.stringify(stripNl(step.sh.stdout))}`,
      );
    }
    if (step.sh.stderr !== undefined && stripNl(r.stderr) !== stripNl(step.sh.stderr)) {
      problems.push(
        `'${step.sh.command}' wrote ${JSON.stringify(stripNl(r.stderr))} to stderr, expected ${JSON.stringify(stripNl(step.sh.stderr))}`,
      );
    }
    if (wantExit !== undefined && r.exit !== wantExit) problems.push(`'${step.sh.command}' exited with ${r.exit}, expected ${wantExit}`);
  }
  if (step.dmesg) {
    const missing = missingInOrder(ctx.klog, step.dmesg);
    if (missing !== null) problems.push(`the kernel log lacks ${JSON.stringify(missing)} (in the expected order)`);
  }
  if (step.patched) {
    for (const [func, want] of Object.entries(step.patched)) {
      const is = ctx.klp.isPatched(func);
      if (is !== want) problems.push(`${func} is ${is ? '' : 'not '}patched, expected ${want ? 'patched' : 'not patched'}`);
    }
  }
  const stats = ctx.klp.stats();
  if (step.nops !== undefined && stats.nops !== step.nops) problems.push(`${stats.nops} NOP klp_funcs exist, expected ${step.nops}`);
  if (step.ftraceOps !== undefined && stats.ftraceOps !== step.ftraceOps)
    problems.push(`${stats.ftraceOps} klp ftrace ops are registered, expected ${step.ftraceOps}`);
  return problems;
}
