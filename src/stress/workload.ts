/**
 * The machine a stress run patches: a scenario, generated from the run's parameters and seed, with
 *   - vmlinux functions stress_f0 … stress_f7 in call chains (f0→f1→f2, f3→f4→f5, f6→f7), where the middle
 *     of each chain sleeps (msleep) before calling on: tasks are caught sleeping inside functions being
 *     changed, and resume into a call of another changed function — where mixing versions would show;
 *   - a loadable module, stress_mod, whose kthread runs its own chain (stress_m0→stress_m1→stress_f2);
 *   - livepatch modules stress_lp0 … stress_lp5, each changing a seeded subset of those functions, some
 *     also the module's; `modprobe stress_lpK replace=1` loads one as a cumulative patch;
 *   - M tasks calling into the chains, with short sleeps between passes, a few of them (stress_hot/N)
 *     calling the chains' leaves back to back.
 * It is an ordinary scenario (built as YAML text and loaded by the scenario loader), so `--dump-scenario`
 * can show it and everything it exercises is what users' scenario files exercise.
 */
import { stringify } from 'yaml';
import { Prng } from '../util/prng';

export const VMLINUX_FUNCS = 8;
export const LIVEPATCHES = 6;
export const TARGET_MODULE = 'stress_mod';
export const MODULE_FUNCS = ['stress_m0', 'stress_m1'];

export const patchName = (k: number): string => `stress_lp${k}`;
const fname = (i: number): string => `stress_f${i}`;

/** Who calls whom, and who sleeps before calling. */
const CALLEE: Record<string, string | undefined> = {
  stress_f0: 'stress_f1',
  stress_f1: 'stress_f2',
  stress_f3: 'stress_f4',
  stress_f4: 'stress_f5',
  stress_f6: 'stress_f7',
  stress_m0: 'stress_m1',
  stress_m1: 'stress_f2',
};
const SLEEPS = new Set(['stress_f1', 'stress_f4', 'stress_f6', 'stress_m0']);
const CHAIN_HEADS = ['stress_f0', 'stress_f3', 'stress_f6', 'stress_f1', 'stress_f4'];
const LEAVES = ['stress_f2', 'stress_f5', 'stress_f7'];
const HOT_TASKS = 1;

/** One version of a function: a spin whose length marks the version, then its sleep and its callee. */
function body(name: string, version: number): string {
  const lines = ['push rbp', 'mov rbp, rsp', `mov ecx, ${40 + 9 * version}`, 'spin:', 'dec ecx', 'jnz spin'];
  if (SLEEPS.has(name)) lines.push('mov edi, 1', 'call msleep');
  const callee = CALLEE[name];
  // A livepatch's version of stress_m0 reaches stress_m1 through a klp relocation, rewritten at every
  // load of stress_mod (loader.ts): the module comes and goes under the patches.
  if (callee) lines.push(`call ${callee}`);
  lines.push('xor eax, eax', 'pop rbp', 'ret');
  return lines.join('\n') + '\n';
}

export interface WorkloadOptions {
  cpus: number;
  tasks: number;
  seed: number;
  nopRemoval: boolean;
}

export interface Workload {
  yaml: string;
  /** The functions each livepatch changes, by patch name. */
  changes: Map<string, string[]>;
}

export function buildWorkload(o: WorkloadOptions): Workload {
  const rng = new Prng(o.seed ^ 0x5eed);
  const vmlinux: Record<string, string> = {};
  for (let i = 0; i < VMLINUX_FUNCS; i++) vmlinux[fname(i)] = body(fname(i), 0);
  const modules: Record<string, unknown> = {
    [TARGET_MODULE]: {
      functions: Object.fromEntries(MODULE_FUNCS.map((f) => [f, body(f, 0)])),
      init: [{ printk: `${TARGET_MODULE}: init` }, { start_task: { name: 'stress_mod_worker', run: [{ call: 'stress_m0' }, { sleep_ms: 2 }] } }],
      exit: [{ stop_task: 'stress_mod_worker' }, { printk: `${TARGET_MODULE}: exit` }],
    },
  };
  const changes = new Map<string, string[]>();
  for (let k = 0; k < LIVEPATCHES; k++) {
    // Leaves are changed more often: replacing a patch that changed a leaf the hot task calls leaves a
    // NOP there, discarded while that CPU is likely inside the handler.
    const funcs = Array.from({ length: VMLINUX_FUNCS }, (_, i) => fname(i)).filter((f) => rng.int(0, 99) < (LEAVES.includes(f) ? 60 : 35));
    if (funcs.length === 0) funcs.push(fname(rng.int(0, VMLINUX_FUNCS - 1)));
    const objects: Record<string, unknown> = { vmlinux: { funcs: Object.fromEntries(funcs.map((f) => [f, body(f, k + 1)])) } };
    const modFuncs = MODULE_FUNCS.filter(() => rng.int(0, 99) < 40);
    if (modFuncs.length > 0) objects[TARGET_MODULE] = { funcs: Object.fromEntries(modFuncs.map((f) => [f, body(f, k + 1)])) };
    modules[patchName(k)] = { params: { replace: 0 }, livepatch: { replace: '${replace}', objects } };
    changes.set(patchName(k), [...funcs, ...modFuncs]);
  }
  // A few tasks call the chains' leaves without sleeping: their CPUs are inside klp_ftrace_handler()
  // much of the time, which is where freeing without a grace period (skip-rcu-sync) would bite.
  const hot = Math.min(HOT_TASKS, Math.floor(o.tasks / 4));
  const tasks = Array.from({ length: o.tasks }, (_, i) =>
    i < hot
      ? { name: `stress_hot/${i}`, run: LEAVES.map((f) => ({ call: f })) }
      : { name: `stress/${i}`, run: [{ call: CHAIN_HEADS[i % CHAIN_HEADS.length] }, { sleep_ms: 1 + (i % 3) }] },
  );
  const doc = {
    name: `stress workload (seed ${o.seed})`,
    cpus: o.cpus,
    seed: o.seed,
    nop_removal: o.nopRemoval,
    kernel: { functions: vmlinux },
    modules,
    tasks,
    steps: [],
  };
  return { yaml: stringify(doc, { lineWidth: 0 }), changes };
}
