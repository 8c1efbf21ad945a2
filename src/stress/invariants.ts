/**
 * The invariants the coordinator checks between operations (the CPUs check theirs on every call: see
 * CPU_CHECKS). Each is a named check with a counter of how often it ran, as rcutorture counts its
 * reader checks; a broken one becomes a `violation` event like any CPU-side violation.
 *
 * All of this runs on the coordinator between ops or synchronously inside an event of the coordinator's
 * own (transition.complete), so the livepatch state it reads is never half-changed.
 */
import type { Machine } from '../coordinator/machine';
import type { SimEvent } from '../kernel/events';
import { NULL_LINK } from '../kernel/slab';
import { PcpuField } from '../mem/percpu';
import type { Livepatch } from '../livepatch/livepatch';
import { FuncWord, OpsWord } from '../livepatch/klp-records';
import { objName } from '../livepatch/klp-types';
import { CALL_REL32_OPCODE, FTRACE_SITE_NOP } from '../x86/ftrace-site';

/** Checks that run on the CPUs, with the per-CPU counter that counts them. */
export const CPU_CHECKS = {
  consistency: PcpuField.ChecksConsistency,
  'use-after-free': PcpuField.ChecksRecord,
  fetch: PcpuField.ChecksSite,
} as const;

export const COORDINATOR_CHECKS = ['nop-removal', 'func-stack-order', 'sysfs', 'forced-not-removable', 'liveness', 'switch-point'] as const;
export type CheckName = keyof typeof CPU_CHECKS | (typeof COORDINATOR_CHECKS)[number] | 'heartbeat';
export const CHECK_NAMES: CheckName[] = [...(Object.keys(CPU_CHECKS) as CheckName[]), ...COORDINATOR_CHECKS, 'heartbeat'];

/** The summary row a violation event counts under. */
export function checkOf(ev: SimEvent): string {
  if (ev.type === 'fault') return 'fault';
  if (ev.type !== 'violation') return '';
  if (ev.check === 'torn-fetch' || ev.check === 'stale-fetch') return 'fetch';
  if (ev.check === 'func-stack-empty') return 'use-after-free';
  if (ev.check === 'patch-state-undefined') return 'consistency';
  return ev.check;
}

export interface BlockedReport {
  patch: string;
  forMs: number;
  tasks: { pid: number; comm: string; frames: string[] }[];
}

/** A transition running this long (simulated) must be blocked by someone, visibly. */
export const LIVENESS_NS = 2_000_000_000;

export class Invariants {
  readonly runs: Record<string, number> = Object.fromEntries(COORDINATOR_CHECKS.map((c) => [c, 0]));
  readonly blocked: BlockedReport[] = [];
  private transitionSince = 0;
  private reportedBlocked: string | null = null;
  /** Every function address a func_stack ever held: their sites must be NOPs again once unpatched. */
  private readonly everPatched = new Set<number>();

  constructor(
    private readonly m: Machine,
    private readonly klp: Livepatch,
    private readonly nopRemoval: boolean,
  ) {}

  /** How long the running transition has run (simulated ms), 0 if none runs. */
  transitionAgeMs(): number {
    return this.klp.inTransition() ? (this.m.now - this.transitionSince) / 1e6 : 0;
  }

  /** Feeds the checks that follow events (synchronously, inside the coordinator's emit). */
  onEvent(ev: SimEvent): void {
    if (ev.type === 'transition.start') {
      this.transitionSince = ev.t;
      this.reportedBlocked = null;
    } else if (ev.type === 'transition.task_switch') {
      this.checkSwitchPoint(ev);
    } else if (ev.type === 'func_stack.push') {
      this.everPatched.add(ev.addr);
    } else if (ev.type === 'transition.complete' && ev.target === 'patching') {
      const p = this.klp.patch(ev.patch);
      if (p?.replace && this.nopRemoval) this.checkNopsRemoved(ev.patch);
    }
  }

  /**
   * A task switches only where the kernel switches it: a kthread never returns to user space, so
   * neither its exit (klp_update_patch_state() in exit_to_user_mode_loop()) nor a fake signal's exit
   * can switch it — only a clean stack check, or force.
   */
  private checkSwitchPoint(ev: Extract<SimEvent, { type: 'transition.task_switch' }>): void {
    this.runs['switch-point']++;
    if (ev.kind === 'kthread' && (ev.how === 'kernel exit' || ev.how === 'signal')) {
      this.fail('switch-point', `kthread ${ev.comm}:${ev.pid} was switched at "${ev.how}", which a kernel thread never passes`);
    }
  }

  private fail(check: string, message: string): void {
    this.m.violation(check, message);
  }

  /** After every completed replace transition: nothing of the NOPs is left (the seed's promise). */
  private checkNopsRemoved(name: string): void {
    this.runs['nop-removal']++;
    const s = this.klp.state;
    for (const p of s.patches) {
      for (const o of p.objs) {
        if (o.dynamic) this.fail('nop-removal', `after '${name}' completed: patch '${p.mod}' still has the dynamic object '${objName(o)}'`);
        for (const f of o.funcs)
          if (f.nop) this.fail('nop-removal', `after '${name}' completed: patch '${p.mod}' still has a NOP func for ${f.old_name}`);
      }
    }
    for (const ops of s.ops.values()) {
      const live = ops.func_stack.filter((f) => !f.nop && f.obj.patch.enabled);
      if (live.length === 0)
        this.fail(
          'nop-removal',
          `after '${name}' completed: ftrace ops still registered for ${this.m.kallsyms.format(ops.old_func)}, which no enabled patch changes`,
        );
    }
    this.checkSites(`after '${name}' completed`);
  }

  /** A site is `call ftrace_caller` exactly while its function has ops, the 5-byte NOP otherwise. */
  private checkSites(when: string): void {
    const s = this.klp.state;
    for (const addr of this.everPatched) {
      if (!this.m.kallsyms.symbolAt(addr)) continue; // its module is gone
      const b = this.m.km.u8.subarray(addr, addr + 5);
      const isNop = FTRACE_SITE_NOP.every((x, i) => b[i] === x);
      if (s.ops.has(addr) ? b[0] !== CALL_REL32_OPCODE : !isNop) {
        this.fail(
          'nop-removal',
          `${when}: the ftrace site of ${this.m.kallsyms.format(addr)} holds ${Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ')} (${s.ops.has(addr) ? 'ops registered' : 'no ops'})`,
        );
      }
    }
  }

  /** Between two ops. */
  afterOp(): void {
    this.checkFuncStacks();
    this.checkSysfs();
    this.checkForced();
    this.checkLiveness();
  }

  /** func_stack order is patch order (newest first), and the shared list the CPUs follow is the same. */
  private checkFuncStacks(): void {
    this.runs['func-stack-order']++;
    const s = this.klp.state;
    const slab = s.records.slab;
    for (const ops of s.ops.values()) {
      const where = this.m.kallsyms.format(ops.old_func);
      let link = slab.get(ops.rec, OpsWord.Head);
      for (let i = 0; i < ops.func_stack.length; i++) {
        const f = ops.func_stack[i];
        if (link !== f.rec) {
          this.fail(
            'func-stack-order',
            `func_stack of ${where}: entry ${i} is ${f.obj.patch.mod}'s func in klp_ops but another record in the list the CPUs read`,
          );
          break;
        }
        link = slab.get(link, FuncWord.Next);
        const below = ops.func_stack[i + 1];
        if (!below) continue;
        const a = s.patches.indexOf(f.obj.patch);
        const b = s.patches.indexOf(below.obj.patch);
        if (a < 0 || b < 0 || a <= b) {
          this.fail(
            'func-stack-order',
            `func_stack of ${where}: '${f.obj.patch.mod}' sits above '${below.obj.patch.mod}' but klp_patches has them ${a < 0 || b < 0 ? 'not both listed' : 'the other way round'}`,
          );
        }
      }
      if (link !== NULL_LINK && ops.func_stack.length > 0)
        this.fail('func-stack-order', `func_stack of ${where}: the shared list is longer than klp_ops' func_stack`);
    }
  }

  /** /sys/kernel/livepatch says what the core holds. */
  private checkSysfs(): void {
    this.runs.sysfs++;
    const s = this.klp.state;
    for (const p of s.byName.values()) {
      const dir = `/sys/kernel/livepatch/${p.mod}`;
      // Only the attributes the machine's release has (replace: 6.11, OBJ/patched: 6.0).
      const v = s.m.version;
      const want: Record<string, boolean> = {
        enabled: p.enabled,
        transition: s.transitionPatch === p,
        ...(v.hasReplaceAttr ? { replace: p.replace } : {}),
      };
      for (const [attr, value] of Object.entries(want)) {
        const r = this.klp.read(`${dir}/${attr}`);
        if (!r.ok || r.text !== `${value ? 1 : 0}\n`)
          this.fail('sysfs', `${dir}/${attr} reads ${r.ok ? JSON.stringify(r.text) : `errno ${r.errno}`}, the core has ${value}`);
      }
      for (const o of v.hasPatchedAttr ? p.objs : []) {
        const r = this.klp.read(`${dir}/${objName(o)}/patched`);
        if (!r.ok || r.text !== `${o.patched ? 1 : 0}\n`)
          this.fail(
            'sysfs',
            `${dir}/${objName(o)}/patched reads ${r.ok ? JSON.stringify(r.text) : `errno ${r.errno}`}, the core has ${o.patched}`,
          );
      }
    }
  }

  /** A forced patch's module stays: the core's reference is never dropped. */
  private checkForced(): void {
    this.runs['forced-not-removable']++;
    for (const mod of this.klp.state.forcedModules) {
      if (!this.klp.moduleInUse(mod)) this.fail('forced-not-removable', `module ${mod} had a forced patch but is no longer held`);
    }
  }

  /** An rmmod finished: removing a forced patch's module must have failed. */
  afterRmmod(mod: string, exit: number, wasForced: boolean): void {
    this.runs['forced-not-removable']++;
    if (wasForced && exit === 0) this.fail('forced-not-removable', `rmmod ${mod} succeeded although its patch was forced`);
  }

  /** A long transition must be blocked by tasks that can be named, with their stacks. */
  private checkLiveness(): void {
    this.runs.liveness++;
    const tp = this.klp.transitionPatch();
    if (!tp) return;
    const forNs = this.m.now - this.transitionSince;
    if (forNs < LIVENESS_NS) return;
    const tasks = this.klp.blockingTasks();
    if (tasks.length === 0 && this.klp.state.signalsCnt > 0) {
      // Every task switched, yet the transition did not complete: only idle CPUs could hold it, and they
      // switch on their next idle pass. Give them one more retry period before calling it stuck.
      if (forNs < LIVENESS_NS + 2 * this.klp.state.options.retryMs * 1_000_000) return;
      this.fail('liveness', `transition of '${tp.mod}' has run ${(forNs / 1e9).toFixed(1)} s with no task left blocking it`);
      return;
    }
    if (this.reportedBlocked === tp.mod) return;
    this.reportedBlocked = tp.mod;
    this.blocked.push({ patch: tp.mod, forMs: Math.round(forNs / 1e6), tasks });
  }

  /** The end of the run: the last transition must finish, by force if need be. */
  finalLiveness(stillInTransition: string | null): void {
    this.runs.liveness++;
    if (stillInTransition)
      this.fail(
        'liveness',
        `transition of '${stillInTransition}' did not complete, even after force; blocking: ${JSON.stringify(this.klp.blockingTasks())}`,
      );
  }
}
