/**
 * The livepatch code that runs on the CPUs: klp_ftrace_handler() and klp_update_patch_state().
 * Loaded into every CPU worker (and into lockstep CPUs) as the CPU hooks module.
 *
 * klp_ftrace_handler() runs in two halves around a slice boundary (see CpuHooks in cpu-host.ts), both
 * inside its RCU-sched read-side section (PreemptCount = 1):
 *   1. look up the klp_ops for the called function and read the top of its func_stack (the link);
 *   2. follow that link: if the func is in transition and the current task is still UNPATCHED, take the
 *      next entry (or the original code); a NOP means the original code; else jump to new_func.
 * Between the halves, other threads run. The coordinator may unlink the func meanwhile — that is allowed
 * (the handler still sees a valid, intact record, as with list_del_rcu()) — but it must not *free* it
 * before this CPU leaves the read side. Every link is checked (generation + poison) before it is
 * followed, so an early free is reported as `violation: use-after-free`, never silently tolerated.
 *
 * Every decision is also checked against the consistency model (consistency-check.ts), and every record
 * read is counted as a use-after-free check (CpuHost.checks).
 *
 * Memory read here: the ftrace filter table and klp records (Atomics.load, written by the coordinator),
 * the current task's patch_state (written by the coordinator under the task lock or by this CPU), and
 * GlobalField.KlpTargetState.
 */
import type { ServiceName } from '../kernel/services';
import { KlpShadow } from './shadow';
import { klpGetStateC } from './state-services';
import type { CpuHooks, CpuHost } from '../kernel/cpu-host';
import { HANDLER_PENDING } from '../kernel/cpu-host';
import { FTRACE_HANDLER_ENTRY_NS, FTRACE_HANDLER_EXIT_NS } from '../kernel/time-model';
import { Link, NULL_LINK } from '../kernel/slab';
import { EVENTS_OFF_CALL_REDIRECT, GlobalField, PcpuField } from '../mem/percpu';
import {
  KLP_UNDEFINED,
  KLP_UNPATCHED,
  TaskField,
  TaskView,
  TIF_FORCED_SWITCH,
  TIF_PATCH_PENDING,
  TIF_SIGPENDING,
} from '../mem/task-struct';
import { ConsistencyCheck } from './consistency-check';
import { ConsistencyTable, sideOf } from './consistency-table';
import { CPU_FAULT_SWITCH_KTHREADS_AT_EXIT } from './klp-state';
import { FuncWord, FUNC_MAGIC, FUNC_NOP, FUNC_TRANSITION, KlpRecords, OpsWord, OPS_MAGIC } from './klp-records';

/** call.redirect is sampled: the first redirect of each function on a CPU, then one in SAMPLE_EVERY. */
const SAMPLE_EVERY = 256;

interface Pending {
  ip: number;
  parentIp: number;
  ops: Link;
  head: Link;
}

export function createCpuHooks(host: CpuHost): CpuHooks {
  const recs = new KlpRecords(host.km);
  const slab = recs.slab;
  // The handler's state between its halves: one record per CPU, rewritten at every call (no allocation).
  const pending: Pending = { ip: 0, parentIp: 0, ops: NULL_LINK, head: NULL_LINK };
  const redirects = new Map<number, number>();
  const consistency = new ConsistencyCheck(host);
  const table = new ConsistencyTable(host.km);
  const checked = (link: Link, magic: number): string | null => {
    host.checks.record++;
    return slab.check(link, magic);
  };
  /** The handler's decision: the current task enters `target` for this call of `ip`. */
  const enter = (ip: number, target: number): number => {
    consistency.check(ip, target);
    return target;
  };

  // One report per freed record and CPU: a CPU that keeps reading it would otherwise flood the stream.
  const reportedLinks = new Set<Link>();
  const uaf = (what: string, link: Link, ip: number, why: string): void => {
    if (reportedLinks.has(link)) return;
    reportedLinks.add(link);
    host.violation(
      'use-after-free',
      `CPU ${host.cpu} in klp_ftrace_handler for ${host.kallsyms.format(ip)} read a freed ${what}: ${why}`,
      ip,
    );
  };

  const currentPatchState = (): number => {
    const t = host.currentTask();
    return t ? t.get(TaskField.PatchState) : host.pcpu.get(PcpuField.IdlePatchState);
  };

  // kernel/livepatch/shadow.c's services run on this CPU too (CpuHooks.service).
  const shadow = new KlpShadow(host);

  return {
    service: (h: CpuHost, name: ServiceName): boolean => {
      if (name !== 'klp_get_state') return shadow.serve(name);
      const at = klpGetStateC(h, Number(BigInt.asUintN(64, h.serviceArg(0))), h.serviceArg(1));
      if (at !== null) h.serviceReturn(at);
      else {
        h.x86.fault = { vector: '#PF', rip: h.x86.rip, bytes: [], message: 'klp_get_state() was handed a patch it cannot read' };
        h.oopsCurrent();
      }
      return true;
    },

    ftrace(h: CpuHost, ip: number, parentIp: number): number {
      const ops = recs.filterLookup(ip);
      if (ops === NULL_LINK) return ip + 5; // an ftrace site enabled without klp ops (ftrace_stub)
      const bad = checked(ops, OPS_MAGIC);
      if (bad) {
        uaf('klp_ops', ops, ip, bad);
        return ip + 5;
      }
      // list_first_or_null_rcu(&ops->func_stack): one acquire load of the head link.
      pending.ip = ip;
      pending.parentIp = parentIp;
      pending.ops = ops;
      pending.head = slab.get(ops, OpsWord.Head);
      h.charge(FTRACE_HANDLER_ENTRY_NS);
      return HANDLER_PENDING;
    },

    ftraceResume(h: CpuHost): number {
      const p = pending;
      h.charge(FTRACE_HANDLER_EXIT_NS);
      let func = p.head;
      // "func should never be NULL because preemption should be disabled here and
      // unregister_ftrace_function() does the equivalent of a synchronize_rcu()".
      if (func === NULL_LINK) {
        h.violation('func-stack-empty', `CPU ${h.cpu}: klp_ftrace_handler found an empty func_stack for ${h.kallsyms.format(p.ip)}`, p.ip);
        return p.ip + 5;
      }
      let bad = checked(func, FUNC_MAGIC);
      if (bad) {
        uaf('klp_func', func, p.ip, bad);
        return p.ip + 5;
      }
      if (slab.get(func, FuncWord.Flags) & FUNC_TRANSITION) {
        const state = currentPatchState();
        if (state === KLP_UNDEFINED) {
          h.violation(
            'patch-state-undefined',
            `CPU ${h.cpu}: a task with patch_state KLP_UNDEFINED called ${h.kallsyms.format(p.ip)} while it is in transition`,
            p.ip,
          );
        }
        if (state === KLP_UNPATCHED) {
          func = slab.get(func, FuncWord.Next);
          if (func === NULL_LINK) return enter(p.ip, p.ip + 5); // no previous patch: the original function
          bad = checked(func, FUNC_MAGIC);
          if (bad) {
            uaf('klp_func', func, p.ip, bad);
            return p.ip + 5;
          }
        }
      }
      // A NOP means the original code ("setting pc would cause an infinite loop").
      if (slab.get(func, FuncWord.Flags) & FUNC_NOP) return enter(p.ip, p.ip + 5);
      const target = slab.get(func, FuncWord.NewAddr);
      // The sample's count too is kept only while someone listens (a Map update per redirected call).
      const n = h.global.get(GlobalField.EventsOff) & EVENTS_OFF_CALL_REDIRECT ? 0 : (redirects.get(p.ip) ?? 0) + 1;
      if (n !== 0) redirects.set(p.ip, n);
      if (n === 1 || (n !== 0 && n % SAMPLE_EVERY === 0)) {
        const t = h.currentTask();
        h.emit({
          type: 'call.redirect',
          func: h.kallsyms.symbolAt(p.ip)?.name ?? `0x${p.ip.toString(16)}`,
          from: p.ip,
          to: target,
          target: h.kallsyms.format(target),
          patchId: slab.get(func, FuncWord.PatchId),
          pid: t ? t.get(TaskField.Pid) : 0,
          sampled: n,
        });
      }
      return enter(p.ip, target);
    },

    callReturned(_h: CpuHost, task: TaskView): void {
      // The stack is empty: a forced task is consistent again (see TIF_FORCED_SWITCH).
      if (task.get(TaskField.Flags) & TIF_FORCED_SWITCH) task.andNotFlags(TIF_FORCED_SWITCH);
    },

    exitToUserMode(h: CpuHost, task: TaskView): void {
      // A task on its way out because of klp_send_signals()' fake signal is switched "by the signal".
      klpUpdatePatchState(h, task, task.get(TaskField.Flags) & TIF_SIGPENDING ? 'signal' : 'kernel exit');
    },

    condResched(h: CpuHost, task: TaskView, chain: number[], reliable: boolean): void {
      // klp_sched_try_switch() -> klp_try_switch_task(current): the same check as the coordinator's, on
      // the task's own stack. A frame in either version of a function the transition changes keeps it.
      // (Either version: a pending task runs its initial one, and the check stays safe across a reversal.)
      if (!reliable) return;
      const snap = table.snapshot();
      if (snap && chain.some((ret) => snap.entries.some((e) => sideOf(e, ret) !== 0))) return;
      klpUpdatePatchState(h, task, 'cond_resched');
    },

    kthreadLoop(h: CpuHost, task: TaskView): void {
      // A kthread never returns to user space: nothing switches it here — unless the injected fault
      // treats it as a user task.
      if (h.global.get(GlobalField.KlpCpuFaults) & CPU_FAULT_SWITCH_KTHREADS_AT_EXIT) klpUpdatePatchState(h, task, 'kernel exit');
    },

    idle(h: CpuHost): void {
      // The end of do_idle(): klp_update_patch_state(current) for swapper/N. The test-and-clear is one
      // Atomics RMW, as the coordinator's sets and clears of the same word are.
      const flags = Atomics.and(h.km.i32, h.pcpu.index(PcpuField.IdleFlags), ~TIF_PATCH_PENDING);
      if (flags & TIF_PATCH_PENDING) h.pcpu.set(PcpuField.IdlePatchState, h.global.get(GlobalField.KlpTargetState));
    },
  };
}

/**
 * klp_update_patch_state() for `task` on its own CPU: the Atomics RMW that clears TIF_PATCH_PENDING is the
 * read barrier that orders it before the read of klp_target_state (paired with the store order in
 * klp_init_transition()/klp_start_transition() on the coordinator).
 *
 * The test-and-clear and the store of the state run preempt-disabled (preempt_disable_notrace() in the
 * kernel), which is what klp_synchronize_transition() waits out: once klp_reverse_transition() has cleared
 * every TIF_PATCH_PENDING and synchronised, no CPU can still be half-way through an update that read the
 * flag before the clear (synchronize_rcu() here treats a CPU seen with PreemptCount 0 as quiescent).
 */
export function klpUpdatePatchState(h: CpuHost, task: TaskView, how: string): void {
  const preempt = h.pcpu.get(PcpuField.PreemptCount);
  h.pcpu.set(PcpuField.PreemptCount, preempt + 1);
  let state: number | null = null;
  if (task.andNotFlags(TIF_PATCH_PENDING) & TIF_PATCH_PENDING) {
    state = h.global.get(GlobalField.KlpTargetState);
    task.set(TaskField.PatchState, state);
  }
  h.pcpu.set(PcpuField.PreemptCount, preempt);
  if (state !== null)
    h.emit({ type: 'transition.task_switch', pid: task.get(TaskField.Pid), comm: task.comm, state, how, kind: h.taskKind(task) });
}
