/**
 * The cost of a call through a site that more than one ftrace_ops matches: a live-patched function that
 * the function tracer also traces, whose site calls ftrace_ops_list_func (every registered ops tested
 * against the ip, each matching one called), against the same function live-patched alone (its site
 * calls the lone ops' trampoline). Measured on one lockstep CPU (no thread noise) from a tight loop, as
 * real (host) nanoseconds per call and as simulated nanoseconds per call (the time model's charges:
 * src/kernel/time-model.ts), each as a ratio to the patched-alone call. A figure, no target.
 */
import { Machine } from '../coordinator/machine';
import { workerModule } from '../coordinator/worker-entry';
import { TaskField } from '../mem/task-struct';
import { Livepatch } from '../livepatch/livepatch';

const CALLS_PER_PASS = 1000;
const TARGET = `push rbp\nmov rbp, rsp\nlea rax, [rdi + 1]\nimul rax, rax, 3\npop rbp\nret`;
const KERNEL = {
  target: TARGET,
  hammer: `push rbp\nmov rbp, rsp\npush rbx\nmov ebx, ${CALLS_PER_PASS}\nagain:\nmov edi, ebx\ncall target\ndec ebx\njnz again\npop rbx\npop rbp\nret`,
};

export type ListCostConfig = 'patched' | 'patched+tracer' | 'tracer';

export interface ListCostPoint {
  realNsPerCall: number;
  simNsPerCall: number;
  /** Calls that went through ftrace_ops_list_func (a check that the configuration is what it says). */
  listCalls: number;
}

async function measure(config: ListCostConfig, ms: number): Promise<ListCostPoint> {
  const m = await Machine.create({
    cpus: 1,
    deterministic: true,
    hooksModule: workerModule(`${__dirname}/../livepatch`, 'klp-ftrace-handler'),
  });
  try {
    m.loader.load(
      'vmlinux',
      Object.entries(KERNEL).map(([name, source]) => ({ name, source })),
    );
    const klp = new Livepatch(m, { retryMs: 1, nopRemoval: true });
    const modules = { isLoaded: (n: string) => m.loader.objects.has(n) };
    const t = await m.spawn({ name: 'hammer', cpu: 0, run: [{ kind: 'call', func: 'hammer', args: [] }] });
    if (config !== 'tracer') {
      m.loader.load('lp_a', [{ name: 'lp_a_target', source: TARGET }]);
      await klp.enablePatch(
        { mod: 'lp_a', replace: false, objs: [{ name: null, funcs: [{ old_name: 'target', new_name: 'lp_a_target' }] }] },
        modules,
      );
      while (klp.inTransition()) await m.sleep(1);
    }
    if (config !== 'patched') {
      // The tracer on `target` only (set_ftrace_filter), so the patch's copy is not traced too.
      await m.tracer.writeFilter('target', false);
      await m.tracer.setTracer('function');
    }
    const passes = (): number => t.view.get(TaskField.Passes);
    const warm = passes() + 50;
    await m.waitFor(() => passes() >= warm, 'warm-up', 60_000);
    const lockstep = m.lockstep;
    const listCalls0 = lockstep ? lockstep.hosts[0].trampoline.listCalls : 0;
    const p0 = passes();
    const s0 = m.now;
    const t0 = performance.now();
    await m.waitFor(() => performance.now() - t0 >= ms, 'measurement', ms + 60_000);
    const calls = (passes() - p0) * CALLS_PER_PASS;
    return {
      realNsPerCall: ((performance.now() - t0) * 1e6) / calls,
      simNsPerCall: (m.now - s0) / calls,
      listCalls: (lockstep ? lockstep.hosts[0].trampoline.listCalls : 0) - listCalls0,
    };
  } finally {
    await m.dispose();
  }
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
