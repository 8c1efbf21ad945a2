/**
 * The consistency model (kernel/livepatch/transition.c): every task switches from the initial to the
 * target patch state on its own — at kernel exit, in the idle loop, or when the coordinator finds its
 * stack free of every function the transition changes — and the transition completes when all have.
 *
 * Ordering with the CPUs (what the kernel's barriers give, here by Atomics):
 * - klp_init_transition(): task patch_states are stored before any func's `transition` flag is set, and
 *   klp_target_state before any TIF_PATCH_PENDING, so klp_update_patch_state() on a CPU never installs
 *   KLP_UNDEFINED and the handler never sees a func in transition with an undefined task state;
 * - klp_try_switch_task(): a task's stack is checked and its state switched under the task lock, which a
 *   CPU also takes to switch the task in, so a task never starts running half-way through the check.
 */
import { synchronizeRcu } from '../kernel/rcu';
import { walkTaskStack } from '../kernel/stack-walk';
import { CpuMode, PcpuField } from '../mem/percpu';
import {
  KLP_PATCHED,
  KLP_UNDEFINED,
  KLP_UNPATCHED,
  taskEnded,
  TaskField,
  TaskState,
  TIF_FORCED_SWITCH,
  TIF_PATCH_PENDING,
  TIF_SIGPENDING,
} from '../mem/task-struct';
import type { TaskHandle } from '../kernel/task-handle';
import type { KlpState } from './klp-state';
import { klpPostPatchCallback, klpPostUnpatchCallback } from './callbacks';
import { klpPublishConsistency } from './consistency-table';
import { klpFindOps, klpUnpatchObjects, setTransition } from './patch';
import { klpDiscardNops, klpDiscardReplacedPatches, klpFreePatchFinish, klpFreePatchStart, klpFreeReplacedPatches } from './core-free';
import type { KlpFunc, KlpPatch } from './klp-types';

/** The kernel signals remaining tasks every SIGNALS_TIMEOUT retries (about 15 s). */
const SIGNALS_TIMEOUT = 15;

const verb = (state: number): string => (state === KLP_PATCHED ? 'patching' : 'unpatching');
const log = (s: KlpState, text: string): void => s.m.log(`livepatch: ${text}`);
const mod = (s: KlpState): string => (s.transitionPatch as KlpPatch).mod;

/** Tasks the kernel's for_each_process_thread() visits: every task that has not exited. */
const liveTasks = (s: KlpState): TaskHandle[] => s.m.tasks.filter((t) => !taskEnded(t.view, t.pid));

export async function klpSynchronizeTransition(s: KlpState): Promise<void> {
  await synchronizeRcu(s.m, 'klp_synchronize_transition');
}

export function klpInitTransition(s: KlpState, patch: KlpPatch, state: number): void {
  const initial = state === KLP_PATCHED ? KLP_UNPATCHED : KLP_PATCHED;
  s.transitionPatch = patch;
  s.targetState = state;
  log(s, `'${patch.mod}': initializing ${verb(state)} transition`);
  for (const t of liveTasks(s)) t.view.set(TaskField.PatchState, initial);
  for (const p of s.m.pcpus) p.set(PcpuField.IdlePatchState, initial);
  // Only now may the handler see funcs in transition (smp_wmb() in the kernel; Atomics are ordered).
  for (const obj of patch.objs) for (const func of obj.funcs) setTransition(s, func, true);
}

export function klpStartTransition(s: KlpState): void {
  const patch = s.transitionPatch as KlpPatch;
  log(s, `'${patch.mod}': starting ${verb(s.targetState)} transition`);
  s.m.emit({ type: 'transition.start', patch: patch.mod, target: verb(s.targetState), tasks: liveTasks(s).length });
  // Before any task may switch: the CPUs judge every call against this transition's two versions.
  klpPublishConsistency(s.consistency, s.transitionPatch, s.ops);
  for (const t of liveTasks(s)) if (t.view.get(TaskField.PatchState) !== s.targetState) t.view.orFlags(TIF_PATCH_PENDING);
  for (const p of s.m.pcpus)
    if (p.get(PcpuField.IdlePatchState) !== s.targetState) Atomics.or(s.m.km.i32, p.index(PcpuField.IdleFlags), TIF_PATCH_PENDING);
  s.signalsCnt = 0;
  if (s.fault('early-transition-clear')) {
    // Fault: the handler stops consulting task states while tasks are still switching.
    for (const obj of patch.objs) for (const func of obj.funcs) setTransition(s, func, false);
  }
}

/** The address range klp_check_stack_func() looks for on a stack. */
function checkRange(s: KlpState, func: KlpFunc): [number, number] {
  if (s.targetState === KLP_UNPATCHED) return [func.new_func, func.new_size];
  const ops = klpFindOps(s, func.old_func);
  if (!ops || ops.func_stack.length <= 1) return [func.old_func, func.old_size];
  const prev = ops.func_stack[ops.func_stack.indexOf(func) + 1] ?? func;
  return [prev.new_func, prev.new_size];
}

/** klp_check_stack(): the name of a function being changed that the stack holds, or null. */
function klpCheckStack(s: KlpState, frames: number[]): string | null {
  const patch = s.transitionPatch as KlpPatch;
  for (const obj of patch.objs) {
    if (!obj.patched) continue;
    for (const func of obj.funcs) {
      const [addr, size] = checkRange(s, func);
      if (frames.some((a) => a >= addr && a < addr + size)) return func.old_name;
    }
  }
  return null;
}

function trySwitchTask(s: KlpState, t: TaskHandle): boolean {
  if (t.view.get(TaskField.PatchState) === s.targetState) return true;
  let result = 'busy'; // 'ok', 'running', 'unreliable', 'busy', or the function the task sleeps in
  const trustRegs = s.fault('trust-unreliable-stack');
  const walk = walkTaskStack(
    s.m.unwinder,
    t.view,
    (w) => {
      if (!w.reliable && !s.fault('skip-stack-check')) {
        result = 'unreliable';
        return;
      }
      const old = s.fault('skip-stack-check') ? null : klpCheckStack(s, w.frames);
      if (old) {
        result = old;
        return;
      }
      t.view.andNotFlags(TIF_PATCH_PENDING);
      t.view.set(TaskField.PatchState, s.targetState);
      result = 'ok';
    },
    { trustRegs },
  );
  if (walk?.running) result = s.fault('skip-stack-check') ? forceSwitch(s, t) : 'running';
  const who = `${t.comm}:${t.pid}`;
  if (result === 'ok') {
    s.m.emit({ type: 'transition.task_switch', pid: t.pid, comm: t.comm, state: s.targetState, how: 'stack check', kind: t.kind });
    return true;
  }
  if (s.options.verbose) {
    if (result === 'running' || result === 'busy') log(s, `klp_try_switch_task: ${who} is running`);
    else if (result === 'unreliable') log(s, `klp_try_switch_task: ${who} has an unreliable stack`);
    else log(s, `klp_try_switch_task: ${who} is sleeping on function ${result}`);
  }
  return false;
}

/** With skip-stack-check a running task is switched blindly (the injected bug). */
function forceSwitch(s: KlpState, t: TaskHandle): 'ok' {
  t.view.andNotFlags(TIF_PATCH_PENDING);
  t.view.set(TaskField.PatchState, s.targetState);
  return 'ok';
}

/**
 * The idle task swapper/N: running while its CPU has no task on it — idling, or between two tasks (the
 * kernel has no such gap: there, `prev` stays current through __schedule(), so a busy CPU always has a
 * running task, and the first try of a transition never finds every CPU switchable). Otherwise its stack
 * holds nothing patched and it switches at once, as an offline CPU's does.
 */
function trySwitchIdle(s: KlpState, cpu: number): boolean {
  const p = s.m.pcpus[cpu];
  if (p.get(PcpuField.IdlePatchState) === s.targetState) return true;
  const mode = p.get(PcpuField.Mode);
  if ((mode === CpuMode.Idle || mode === CpuMode.Running) && p.get(PcpuField.Current) === 0) {
    if (s.options.verbose) log(s, `klp_try_switch_task: swapper/${cpu}:0 is running`);
    return false;
  }
  Atomics.and(s.m.km.i32, p.index(PcpuField.IdleFlags), ~TIF_PATCH_PENDING);
  p.set(PcpuField.IdlePatchState, s.targetState);
  return true;
}

/** Wakes `t` now if it sleeps in TASK_INTERRUPTIBLE (under its lock: its CPU may be switching it). */
function wakeUpInterruptible(s: KlpState, t: TaskHandle): void {
  if (!t.view.tryLock()) return; // being switched in or out: not asleep
  const wake =
    t.view.get(TaskField.State) === TaskState.Sleeping && t.view.get(TaskField.SleepInterruptible) !== 0 && t.view.wakeNs > s.m.now;
  if (wake) t.view.wakeNs = s.m.now;
  t.view.unlock();
  if (wake) s.m.kickCpu(t.view.get(TaskField.Cpu));
}

/** klp_send_signals(): wake the tasks still blocking the transition (every 15 retries, or on request). */
export function klpSendSignals(s: KlpState): void {
  if (s.signalsCnt === SIGNALS_TIMEOUT) log(s, 'signaling remaining tasks');
  for (const t of liveTasks(s)) {
    if (!(t.view.get(TaskField.Flags) & TIF_PATCH_PENDING)) continue;
    // A kthread: wake_up_state(task, TASK_INTERRUPTIBLE). A user task: the fake signal (signal_wake_up()
    // in 5.1, set_notify_signal() since 5.11), which also wakes it from an interruptible sleep; its
    // system call then returns to user space, through klp_update_patch_state(). msleep() sleeps
    // uninterruptibly and is not woken, as in the kernel.
    if (t.kind === 'user') t.view.orFlags(TIF_SIGPENDING);
    wakeUpInterruptible(s, t);
  }
  s.m.clock.bumpEpoch();
}

/**
 * Tries to switch every remaining task; completes the transition when all have switched, otherwise
 * schedules itself again after `retryMs` (the kernel's delayed work, every HZ).
 */
export async function klpTryCompleteTransition(s: KlpState): Promise<void> {
  let complete = true;
  for (const t of liveTasks(s)) if (!trySwitchTask(s, t)) complete = false;
  for (let cpu = 0; cpu < s.m.cpus; cpu++) {
    if (trySwitchIdle(s, cpu)) continue;
    complete = false;
    // Make the idle task go through its main loop, where it switches (klp_update_patch_state()).
    s.m.wakeUpIfIdle(cpu);
  }
  if (!complete) {
    if (s.signalsCnt && s.signalsCnt % SIGNALS_TIMEOUT === 0) klpSendSignals(s);
    s.signalsCnt++;
    scheduleRetry(s);
    return;
  }
  const patch = s.transitionPatch as KlpPatch;
  await klpCompleteTransition(s);
  // Freeing is done here rather than in klp_complete_transition(), which the cancel path also uses.
  if (!patch.enabled) {
    klpFreePatchStart(s, patch);
    klpFreePatchFinish(s, patch);
  } else if (patch.replace) {
    klpFreeReplacedPatches(s, patch);
  }
}

function scheduleRetry(s: KlpState): void {
  if (s.retryPending) return;
  s.retryPending = true;
  s.m.schedule(s.m.now + s.options.retryMs * 1_000_000, async () => {
    s.retryPending = false;
    await s.withMutex(async () => {
      if (s.transitionPatch) await klpTryCompleteTransition(s);
    });
  });
}

export async function klpCompleteTransition(s: KlpState): Promise<void> {
  const patch = s.transitionPatch as KlpPatch;
  const target = s.targetState;
  log(s, `'${patch.mod}': completing ${verb(target)} transition`);
  if (patch.replace && target === KLP_PATCHED) {
    await klpDiscardReplacedPatches(s, patch);
    if (s.options.nopRemoval) await klpDiscardNops(s, patch);
  }
  if (target === KLP_UNPATCHED) {
    await klpUnpatchObjects(s, patch);
    // The handler must not see this patch's funcs on a func_stack once `transition` is cleared.
    await klpSynchronizeTransition(s);
  }
  for (const obj of patch.objs) for (const func of obj.funcs) setTransition(s, func, false);
  // Keep the handler from seeing KLP_UNDEFINED task states while funcs were still in transition.
  if (target === KLP_PATCHED) await klpSynchronizeTransition(s);
  for (const t of s.m.tasks) t.view.set(TaskField.PatchState, KLP_UNDEFINED);
  for (const p of s.m.pcpus) p.set(PcpuField.IdlePatchState, KLP_UNDEFINED);
  for (const obj of patch.objs) {
    if (!obj.loaded) continue;
    if (target === KLP_PATCHED) await klpPostPatchCallback(obj);
    else await klpPostUnpatchCallback(obj);
  }
  log(s, `'${patch.mod}': ${verb(target)} complete`);
  s.m.emit({ type: 'transition.complete', patch: patch.mod, target: verb(target) });
  s.targetState = KLP_UNDEFINED;
  s.transitionPatch = null;
}

/** Cancels a transition that was initialised but never started (an error while enabling). */
export async function klpCancelTransition(s: KlpState): Promise<void> {
  if (s.targetState !== KLP_PATCHED) return;
  log(s, `'${mod(s)}': canceling patching transition, going to unpatch`);
  s.targetState = KLP_UNPATCHED;
  await klpCompleteTransition(s);
}

/** Disabling the patch in transition (or re-enabling it) turns the transition around. */
export async function klpReverseTransition(s: KlpState): Promise<void> {
  const patch = s.transitionPatch as KlpPatch;
  log(
    s,
    `'${patch.mod}': reversing transition from ${s.targetState === KLP_PATCHED ? 'patching to unpatching' : 'unpatching to patching'}`,
  );
  s.m.emit({
    type: 'transition.reverse',
    patch: patch.mod,
    from: verb(s.targetState),
    to: verb(s.targetState === KLP_PATCHED ? KLP_UNPATCHED : KLP_PATCHED),
  });
  patch.enabled = !patch.enabled;
  s.targetState = s.targetState === KLP_PATCHED ? KLP_UNPATCHED : KLP_PATCHED;
  // Clear every TIF_PATCH_PENDING so a CPU's klp_update_patch_state() cannot race with the restart.
  for (const t of liveTasks(s)) t.view.andNotFlags(TIF_PATCH_PENDING);
  for (const p of s.m.pcpus) Atomics.and(s.m.km.i32, p.index(PcpuField.IdleFlags), ~TIF_PATCH_PENDING);
  await klpSynchronizeTransition(s);
  klpStartTransition(s);
}

/** `echo 1 > force`: every task is switched, whatever its stack; the patches it may leave in use become forced. */
export function klpForceTransition(s: KlpState): void {
  log(s, 'forcing remaining tasks to the patched state');
  for (const t of liveTasks(s)) {
    if (t.view.andNotFlags(TIF_PATCH_PENDING) & TIF_PATCH_PENDING) {
      t.view.orFlags(TIF_FORCED_SWITCH);
      t.view.set(TaskField.PatchState, s.targetState);
      s.m.emit({ type: 'transition.task_switch', pid: t.pid, comm: t.comm, state: s.targetState, how: 'force', kind: t.kind });
    }
  }
  for (const p of s.m.pcpus) {
    if (Atomics.and(s.m.km.i32, p.index(PcpuField.IdleFlags), ~TIF_PATCH_PENDING) & TIF_PATCH_PENDING)
      p.set(PcpuField.IdlePatchState, s.targetState);
  }
  // Before 5.18 every patch was marked: none of their modules could be removed. Since "livepatch: Don't
  // block removal of patches that are safe to unload" only the code a forced task may still run is kept:
  // the patch being disabled, or the patches a cumulative one replaces.
  if (!s.m.version.forcesOnlyRemovedPatches) {
    for (const patch of s.patches) patch.forced = true;
  } else if (s.targetState === KLP_UNPATCHED) {
    (s.transitionPatch as KlpPatch).forced = true;
  } else if ((s.transitionPatch as KlpPatch).replace) {
    for (const patch of s.patches) if (patch !== s.transitionPatch) patch.forced = true;
  }
}

export interface BlockingTask {
  pid: number;
  comm: string;
  /** Innermost first, symbolised; or one pseudo-frame, `(running)` (on a CPU) or `(locked)` (being switched). */
  frames: string[];
}

/** `comm:pid (where it is)`, as a timed-out `wait` and the stress summary report a blocking task. */
export function describeBlockingTask(t: BlockingTask): string {
  const pseudo = t.frames.length === 1 && t.frames[0].startsWith('(');
  const where = pseudo ? t.frames[0].slice(1, -1) : t.frames.join(' <- ') || 'no frames';
  return `${t.comm}:${t.pid} (${where})`;
}

/** The tasks still blocking the transition, with where they sleep — for timeouts and `watch`. */
export function klpBlockingTasks(s: KlpState): BlockingTask[] {
  if (!s.transitionPatch) return [];
  return liveTasks(s)
    .filter((t) => t.view.get(TaskField.PatchState) !== s.targetState)
    .map((t) => {
      const w = walkTaskStack(s.m.unwinder, t.view);
      const frames = !w ? ['(locked)'] : w.running ? ['(running)'] : w.frames.map((a) => s.m.kallsyms.format(a));
      return { pid: t.pid, comm: t.comm, frames };
    });
}
