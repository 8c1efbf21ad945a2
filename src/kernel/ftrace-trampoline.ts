/**
 * The ftrace users other than livepatch as a CPU runs them inside a site's trampoline: the function
 * tracer's function_trace_call() and kprobes' kprobe_ftrace_handler(). cpu-host.ts calls them from
 * `ftrace_caller` (the site's lone ops) and `ftrace_ops_list_func` (several ops match the site), inside
 * the trampoline's preempt-disabled section, before livepatch's handler, whose ip change takes effect
 * when the trampoline restores the registers.
 *
 * Shared memory (src/mem/ftrace-users.ts): the site users table and kprobe slots are read with
 * Atomics.load (the coordinator writes them); this CPU's trace ring is written here only; kprobe hit
 * counts are Atomics.add'ed.
 */
import {
  FTRACE_USER_FUNCTION,
  FTRACE_USER_KLP,
  FTRACE_USER_KPROBE,
  FTRACE_USER_KPROBE_IPMODIFY,
  FtraceUsers,
  KprobeWord,
  TRACE_TYPE_FN,
  TRACE_TYPE_KPROBE,
  TraceControl,
} from '../mem/ftrace-users';
import { FTRACE_LIST_FUNC_NS, FTRACE_OPS_TEST_NS, FTRACE_TRAMPOLINE_NS, FUNCTION_TRACE_NS, KPROBE_FTRACE_NS } from './time-model';

/** What the trampoline needs from the CPU it runs on. */
export interface TrampolineCpu {
  readonly cpu: number;
  /** The CPU's clock (ns): the trace entries' timestamps. */
  now(): number;
  charge(ns: number): void;
  /** The pid of the task running (0: the idle task). */
  currentPid(): number;
  /** A handler of emulated code, run to completion (CpuHost.callNested()); null if it faulted. */
  callNested(func: number, args: readonly number[]): bigint | null;
  /** The current task is still alive (a handler that faulted killed it). */
  alive(): boolean;
}

const bits = (m: number): number => {
  let n = 0;
  for (let v = m; v; v &= v - 1) n++;
  return n;
};

export class FtraceTrampoline {
  /** Calls through the list function (a statistic: the benchmark and tests read it). */
  listCalls = 0;

  constructor(
    readonly users: FtraceUsers,
    private readonly c: TrampolineCpu,
  ) {}

  /**
   * The users a call of `ip` reaches: the lone one for `ftrace_caller`, every matching one for the list
   * function (which charges its loop and an ftrace_ops_test() per ops).
   */
  usersOf(ip: number, list: boolean): number {
    if (!list) return this.users.ownUser(ip);
    this.listCalls++;
    const users = this.users.listUsers(ip);
    this.c.charge(FTRACE_LIST_FUNC_NS + FTRACE_OPS_TEST_NS * bits(users));
    return users;
  }

  /** The non-livepatch users' handlers for a call of `ip` from `parent`. */
  run(ip: number, parent: number, users: number): void {
    // Livepatch's half already counts ftrace_regs_caller's save and restore.
    if (!(users & FTRACE_USER_KLP) && users) this.c.charge(FTRACE_TRAMPOLINE_NS);
    if (users & FTRACE_USER_FUNCTION) this.functionTraceCall(ip, parent);
    if (users & (FTRACE_USER_KPROBE | FTRACE_USER_KPROBE_IPMODIFY)) this.kprobeFtraceHandler(ip);
  }

  /** function_trace_call(): one TRACE_FN entry in this CPU's ring, while tracing_on is 1. */
  private functionTraceCall(ip: number, parent: number): void {
    this.c.charge(FUNCTION_TRACE_NS);
    if (this.users.ctl(TraceControl.TracingOn) === 0) return;
    this.users.write(this.c.cpu, this.c.now(), this.c.currentPid(), ip, parent, TRACE_TYPE_FN, 0);
  }

  /**
   * kprobe_ftrace_handler(): get_kprobe(ip); a disabled probe is skipped; pre_handler(p, regs) — a
   * non-zero return means it changed regs->ip, and the post handler is not called — then the probe's
   * trace event, then post_handler(p, regs, 0) (the ip is the instruction after the site meanwhile).
   * klpsim builds no pt_regs: `regs` is NULL for handlers written in C.
   */
  private kprobeFtraceHandler(ip: number): void {
    const slot = this.users.kprobeAt(ip);
    if (slot < 0 || this.users.kprobe(slot, KprobeWord.Disabled)) return;
    this.c.charge(KPROBE_FTRACE_NS);
    this.users.kprobeHit(slot);
    const kp = this.users.kprobe(slot, KprobeWord.Kp);
    const pre = this.users.kprobe(slot, KprobeWord.Pre);
    if (pre) {
      const r = this.c.callNested(pre, [kp, 0]);
      if (!this.c.alive()) return;
      if (r !== null && r !== 0n) return;
    }
    if (this.users.kprobe(slot, KprobeWord.TraceEvent) && this.users.ctl(TraceControl.TracingOn)) {
      this.users.write(this.c.cpu, this.c.now(), this.c.currentPid(), ip, 0, TRACE_TYPE_KPROBE, slot);
    }
    const post = this.users.kprobe(slot, KprobeWord.Post);
    if (post) this.c.callNested(post, [kp, 0, 0]);
  }
}
