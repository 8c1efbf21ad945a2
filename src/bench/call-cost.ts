/**
 * The cost of calling a function, as the seed's commit message argues it: a NOP on a func_stack still
 * costs an ftrace handler call on every call, and removing it brings the cost back to that of a function
 * nobody ever patched. Four configurations, each measured on one lockstep CPU (no thread noise), as
 * real nanoseconds per call of `target` from a tight loop:
 *   never patched | patched (redirected to a copy) | NOP on the func_stack (--no-nop-removal) | after NOP removal
 */
import { withCallHammer } from './call-hammer';

type Config = 'never' | 'patched' | 'nop' | 'removed';

function measure(config: Config, ms: number): Promise<number> {
  return withCallHammer(config !== 'nop', async (h) => {
    if (config !== 'never') await h.patch('lp_a', 'target', 'lp_a_target', false);
    // A cumulative patch that changes something else: `target` gets a NOP.
    if (config === 'nop' || config === 'removed') await h.patch('lp_c', 'other', 'lp_c_other', true);
    return (await h.time(ms)).realNsPerCall;
  });
}

export interface CallCost {
  nsPerCall: Record<Config, number>;
  ratio: Record<Config, number>;
}

/** Best of `rounds` rounds per configuration, after one unmeasured round that warms the JIT up. */
export async function measureCallCost(ms: number, rounds = 2): Promise<CallCost> {
  const configs: Config[] = ['never', 'patched', 'nop', 'removed'];
  for (const c of configs) await measure(c, Math.min(ms, 200));
  const nsPerCall = {} as Record<Config, number>;
  for (let r = 0; r < rounds; r++) {
    for (const c of configs) {
      const v = await measure(c, ms);
      nsPerCall[c] = Math.min(nsPerCall[c] ?? Infinity, v);
    }
  }
  const ratio = {} as Record<Config, number>;
  for (const c of Object.keys(nsPerCall) as Config[]) ratio[c] = nsPerCall[c] / nsPerCall.never;
  return { nsPerCall, ratio };
}
