/**
 * The machine a stress run patches: a scenario, generated from the run's parameters and seed, with
 *   - vmlinux functions stress_f0 … stress_f7 in call chains (f0→f1→f2, f3→f4→f5, f6→f7), where the middle
 *     of each chain sleeps (msleep) before calling on: tasks are caught sleeping inside functions being
 *     changed, and resume into a call of another changed function — where mixing versions would show;
 *   - a loadable module, stress_mod, whose kthread runs its own chain (stress_m0→stress_m1→stress_f2);
 *   - livepatch modules stress_lp0 … stress_lp5, each changing a seeded subset of those functions, some
 *     also the module's; `modprobe stress_lpK replace=1` loads one as a cumulative patch;
 *   - the shapes real kernels have besides: stress_fl_caller, framed, with stack-allocated locals, calls a
 *     frameless leaf (stress_fl_leaf, never patched, long) and then stress_fl_next, which the patches
 *     change together with it; a task preempted inside the leaf has only the caller's frame above it, so
 *     a frame-pointer walk through the interrupt frame (trust-unreliable-stack) misses the caller.
 *     stress_rec recurses to a depth given by its argument and returns early at the bottom;
 *   - interruptible sleeps inside patched functions (msleep_interruptible in stress_f4,
 *     schedule_timeout_interruptible in stress_m0) besides uninterruptible msleep;
 *   - M tasks calling into the chains, with short sleeps between passes, and one task per CPU
 *     (stress_hot/N, pinned to CPU N; at most a quarter of the tasks) calling the chains' leaves back to
 *     back: every CPU is busy, so worker threads run in parallel, and every CPU is often inside the
 *     handler when a function's ops are unregistered; user tasks and kthreads (every third chain task is one,
 *     and the module's worker); a quarter of them, spread over the CPUs, loop over stress_fl_caller inside
 *     one call;
 *   - a timeslice drawn per seed, so preemption falls on different instructions from run to run.
 * It is an ordinary scenario (built as YAML text and loaded by the scenario loader), so `--dump-scenario`
 * can show it and everything it exercises is what users' scenario files exercise.
 */
import { stringify } from 'yaml';
import { Prng } from '../util/prng';
import { shadowKernelFunctions, shadowPatchFunctions, shadowTasks } from './shadow-workload';

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
/** Who sleeps before calling on, and in which service (the interruptible ones are woken by signals). */
const SLEEPS: Record<string, string> = {
  stress_f1: 'msleep',
  stress_f4: 'msleep_interruptible',
  stress_f6: 'msleep',
  stress_m0: 'schedule_timeout_interruptible',
};
const CHAIN_HEADS = ['stress_f0', 'stress_f3', 'stress_f6', 'stress_f1', 'stress_f4'];
const LEAVES = ['stress_f2', 'stress_f5', 'stress_f7'];

/** One version of a function: a spin whose length marks the version, then its sleep and its callee. */
function body(name: string, version: number): string {
  const lines = ['push rbp', 'mov rbp, rsp', `mov ecx, ${40 + 9 * version}`, 'spin:', 'dec ecx', 'jnz spin'];
  const sleep = SLEEPS[name];
  if (sleep) lines.push('mov edi, 1', `call ${sleep}`);
  const callee = CALLEE[name];
  // A livepatch's version of stress_m0 reaches stress_m1 through a klp relocation, rewritten at every
  // load of stress_mod (loader.ts): the module comes and goes under the patches.
  if (callee) lines.push(`call ${callee}`);
  lines.push('xor eax, eax', 'pop rbp', 'ret');
  return lines.join('\n') + '\n';
}

/** Frameless: no frame of its own, so an interrupt inside it leaves rbp pointing at its caller's frame. */
const FL_LEAF = ['mov ecx, 300', 'spin:', 'dec ecx', 'jnz spin', 'ret'].join('\n') + '\n';

/** Framed, with 16 bytes of locals; its version is what stress_fl_next returns when called from it. */
function flCaller(version: number): string {
  return (
    [
      'push rbp',
      'mov rbp, rsp',
      'sub rsp, 16',
      `mov qword ptr [rsp], ${version}`,
      'call stress_fl_leaf',
      'call stress_fl_next',
      'add rsp, 16',
      'pop rbp',
      'ret',
    ].join('\n') + '\n'
  );
}

const flNext = (version: number): string => [`mov eax, ${version}`, 'ret'].join('\n') + '\n';

/** The loop a task runs inside one call: many preemption points, no exit to user space between them. */
const FL_LOOP =
  [
    'push rbp',
    'mov rbp, rsp',
    'push rbx',
    'mov ebx, 30',
    'again:',
    'call stress_fl_caller',
    'dec ebx',
    'jnz again',
    'pop rbx',
    'pop rbp',
    'ret',
  ].join('\n') + '\n';

/** Recursion to the depth in edi, with an early return at the bottom. */
function rec(version: number): string {
  return (
    [
      'push rbp',
      'mov rbp, rsp',
      'test edi, edi',
      'jz bottom',
      'dec edi',
      'call stress_rec',
      'pop rbp',
      'ret',
      'bottom:',
      `mov eax, ${version}`,
      'pop rbp',
      'ret',
    ].join('\n') + '\n'
  );
}

export interface WorkloadOptions {
  cpus: number;
  tasks: number;
  seed: number;
  nopRemoval: boolean;
  /** Add the shadow-variable part (shadow-workload.ts); off by default. */
  shadow?: boolean;
}

export interface Workload {
  yaml: string;
  /** The functions each livepatch changes, by patch name. */
  changes: Map<string, string[]>;
  /** The run's timeslice, instructions (drawn from the seed). */
  timeslice: number;
}

export function buildWorkload(o: WorkloadOptions): Workload {
  const rng = new Prng(o.seed ^ 0x5eed);
  const vmlinux: Record<string, string> = {};
  for (let i = 0; i < VMLINUX_FUNCS; i++) vmlinux[fname(i)] = body(fname(i), 0);
  Object.assign(vmlinux, {
    stress_fl_leaf: FL_LEAF,
    stress_fl_caller: flCaller(0),
    stress_fl_next: flNext(0),
    stress_fl_loop: FL_LOOP,
    stress_rec: rec(0),
  });
  if (o.shadow) Object.assign(vmlinux, shadowKernelFunctions());
  const modules: Record<string, unknown> = {
    [TARGET_MODULE]: {
      functions: Object.fromEntries(MODULE_FUNCS.map((f) => [f, body(f, 0)])),
      init: [
        { printk: `${TARGET_MODULE}: init` },
        { start_task: { name: 'stress_mod_worker', run: [{ call: 'stress_m0' }, { sleep_ms: 2 }] } },
      ],
      exit: [{ stop_task: 'stress_mod_worker' }, { printk: `${TARGET_MODULE}: exit` }],
    },
  };
  const changes = new Map<string, string[]>();
  for (let k = 0; k < LIVEPATCHES; k++) {
    // Leaves are changed more often: replacing a patch that changed a leaf the hot task calls leaves a
    // NOP there, discarded while that CPU is likely inside the handler.
    const funcs = Array.from({ length: VMLINUX_FUNCS }, (_, i) => fname(i)).filter((f) => rng.int(0, 99) < (LEAVES.includes(f) ? 60 : 35));
    if (funcs.length === 0) funcs.push(fname(rng.int(0, VMLINUX_FUNCS - 1)));
    const vfuncs: Record<string, string> = Object.fromEntries(funcs.map((f) => [f, body(f, k + 1)]));
    // The caller of the frameless leaf and its next callee change together, so a task switched while
    // the old caller is on its stack enters the new callee: what the consistency check sees.
    if (rng.int(0, 99) < 60) Object.assign(vfuncs, { stress_fl_caller: flCaller(k + 1), stress_fl_next: flNext(k + 1) });
    if (rng.int(0, 99) < 30) vfuncs.stress_rec = rec(k + 1);
    // After the seeded draws, so that the rest of each patch is what it is without the shadow part.
    if (o.shadow) Object.assign(vfuncs, shadowPatchFunctions(k));
    const objects: Record<string, unknown> = { vmlinux: { funcs: vfuncs } };
    const modFuncs = MODULE_FUNCS.filter(() => rng.int(0, 99) < 40);
    if (modFuncs.length > 0) objects[TARGET_MODULE] = { funcs: Object.fromEntries(modFuncs.map((f) => [f, body(f, k + 1)])) };
    modules[patchName(k)] = { params: { replace: 0 }, livepatch: { replace: '${replace}', objects } };
    changes.set(patchName(k), [...Object.keys(vfuncs), ...modFuncs]);
  }
  // On every CPU a task calls the chains' leaves without sleeping: each CPU is inside klp_ftrace_handler()
  // much of the time, which is where freeing without a grace period (skip-rcu-sync) bites — the three
  // IPIs of the poke that unregisters a leaf's ops find a CPU half-way through the handler for that leaf
  // — and no CPU idles, so on worker threads the run is as parallel as the machine it models.
  const hot = Math.min(o.cpus, Math.floor(o.tasks / 4));
  const tasks = Array.from({ length: o.tasks }, (_, i) => {
    if (i < hot) return { name: `stress_hot/${i}`, cpu: i, run: LEAVES.map((f) => ({ call: f })) };
    // Pinned in turn: left to the round-robin placement, every fourth task lands on the same CPU (all of
    // them on CPU 3 of four), which then runs only them and its hot task, while the worker thread of the
    // other CPUs carries 1.6× the handler calls of its own (issue #13: the busier thread held the run back).
    if (i % 4 === 3)
      return {
        name: `stress_fl/${i}`,
        cpu: (i >> 2) % o.cpus,
        run: [{ call: 'stress_fl_loop' }, { call: { func: 'stress_rec', args: [1 + (i % 7)] } }],
      };
    const call = { call: CHAIN_HEADS[i % CHAIN_HEADS.length] };
    const sleep = { sleep_ms: 1 + (i % 3) };
    // A kthread's loop sleeps first and ends its pass straight out of its call: where a kthread that
    // switched at its "exit" (switch-kthreads-at-exit) would, with no clean stack check before it.
    if (i % 3 === 2) return { name: `stress_kt/${i}`, kind: 'kthread', run: [sleep, call] };
    return { name: `stress/${i}`, run: [call, sleep] };
  });
  const timeslice = rng.int(150, 3000);
  const doc = {
    name: `stress workload (seed ${o.seed})`,
    cpus: o.cpus,
    seed: o.seed,
    nop_removal: o.nopRemoval,
    kernel: { functions: vmlinux },
    modules,
    tasks: o.shadow ? [...tasks, ...shadowTasks(o.cpus)] : tasks,
    steps: [],
  };
  return { yaml: stringify(doc, { lineWidth: 0 }), changes, timeslice };
}
