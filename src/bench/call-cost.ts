/**
 * The cost of calling a function, as the seed's commit message argues it: a NOP on a func_stack still
 * costs an ftrace handler call on every call, and removing it brings the cost back to that of a function
 * nobody ever patched. Four configurations, each measured on one lockstep CPU (no thread noise), as
 * real nanoseconds per call of `target` from a tight loop:
 *   never patched | patched (redirected to a copy) | NOP on the func_stack (--no-nop-removal) | after NOP removal
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
  other: TARGET,
};

type Config = 'never' | 'patched' | 'nop' | 'removed';

async function measure(config: Config, ms: number): Promise<number> {
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
    const klp = new Livepatch(m, { retryMs: 1, nopRemoval: config !== 'nop' });
    const modules = { isLoaded: (n: string) => m.loader.objects.has(n) };
    const t = await m.spawn({ name: 'hammer', cpu: 0, run: [{ kind: 'call', func: 'hammer', args: [] }] });
    const settle = async (): Promise<void> => {
      while (klp.inTransition()) await m.sleep(1);
    };
    if (config !== 'never') {
      m.loader.load('lp_a', [{ name: 'lp_a_target', source: TARGET }]);
      await klp.enablePatch(
        { mod: 'lp_a', replace: false, objs: [{ name: null, funcs: [{ old_name: 'target', new_name: 'lp_a_target' }] }] },
        modules,
      );
      await settle();
    }
    if (config === 'nop' || config === 'removed') {
      // A cumulative patch that changes something else: `target` gets a NOP.
      m.loader.load('lp_c', [{ name: 'lp_c_other', source: TARGET }]);
      await klp.enablePatch(
        { mod: 'lp_c', replace: true, objs: [{ name: null, funcs: [{ old_name: 'other', new_name: 'lp_c_other' }] }] },
        modules,
      );
      await settle();
    }
    const passes = (): number => t.view.get(TaskField.Passes);
    // Warm up the JIT and the decoded-instruction cache, then time a fixed amount of real time.
    const warm = passes() + 50;
    await m.waitFor(() => passes() >= warm, 'warm-up', 60_000);
    const p0 = passes();
    const t0 = performance.now();
    await m.waitFor(() => performance.now() - t0 >= ms, 'measurement', ms + 60_000);
    const calls = (passes() - p0) * CALLS_PER_PASS;
    return ((performance.now() - t0) * 1e6) / calls;
  } finally {
    await m.dispose();
  }
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
