/**
 * The cost of a call through a site that more than one ftrace_ops matches: a live-patched function that
 * the function tracer also traces, whose site calls ftrace_ops_list_func (every registered ops tested
 * against the ip, each matching one called), against the same function live-patched alone (its site
 * calls the lone ops' trampoline). Measured on one lockstep CPU (no thread noise) from a tight loop, as
 * real (host) nanoseconds per call and as simulated nanoseconds per call (the time model's charges:
 * src/kernel/time-model.ts), each as a ratio to the patched-alone call. A figure, no target.
 */
import { withCallHammer } from './call-hammer';

export type ListCostConfig = 'patched' | 'patched+tracer' | 'tracer';

export interface ListCostPoint {
  realNsPerCall: number;
  simNsPerCall: number;
  /** Calls that went through ftrace_ops_list_func, warm-up included (a check that the configuration is what it says). */
  listCalls: number;
}

function measure(config: ListCostConfig, ms: number): Promise<ListCostPoint> {
  return withCallHammer(true, async (h) => {
    if (config !== 'tracer') await h.patch('lp_a', 'target', 'lp_a_target', false);
    if (config !== 'patched') {
      // The tracer on `target` only (set_ftrace_filter), so the patch's copy is not traced too.
      await h.m.tracer.writeFilter('target', false);
      await h.m.tracer.setTracer('function');
    }
    const listCalls = (): number => h.m.lockstep?.hosts[0].trampoline.listCalls ?? 0;
    const l0 = listCalls();
    const { realNsPerCall, simNsPerCall } = await h.time(ms);
    return { realNsPerCall, simNsPerCall, listCalls: listCalls() - l0 };
  });
}

export interface FtraceListCost {
  perCall: Record<ListCostConfig, ListCostPoint>;
  /** patched+tracer / patched: the list function's extra cost, host and simulated. */
  ratio: { real: number; sim: number };
}

/** Best (lowest real cost) of `rounds` rounds per configuration, alternating, after one warm-up round. */
export async function measureFtraceListCost(ms: number, rounds = 3): Promise<FtraceListCost> {
  const configs: ListCostConfig[] = ['patched', 'patched+tracer', 'tracer'];
  for (const c of configs) await measure(c, Math.min(ms, 200));
  const perCall = {} as Record<ListCostConfig, ListCostPoint>;
  for (let r = 0; r < rounds; r++) {
    for (const c of configs) {
      const v = await measure(c, ms);
      if (!perCall[c] || v.realNsPerCall < perCall[c].realNsPerCall) perCall[c] = v;
    }
  }
  return {
    perCall,
    ratio: {
      real: perCall['patched+tracer'].realNsPerCall / perCall.patched.realNsPerCall,
      sim: perCall['patched+tracer'].simNsPerCall / perCall.patched.simNsPerCall,
    },
  };
}
