/**
 * One simulated CPU: the interpreter plus what the kernel does around it on that CPU — the run queue of
 * its tasks, the kernel services, ftrace sites and the ftrace trampoline, the int3 handler of code
 * patching, the sync-core IPI, oopses. The same class runs inside a CPU worker thread and, in
 * deterministic mode, several instances run in lockstep on one thread (src/coordinator/lockstep-cpus.ts).
 *
 * Shared memory this class touches, and how (see src/mem/*.ts for each word's contract):
 * - kmem text/data/stacks: plain typed-array reads and writes by the interpreter; text is written by the
 *   coordinator only through the text_poke_bp protocol, which this CPU acknowledges in handleIpis().
 * - its own per-CPU area: written here (Atomics.store), read by the coordinator.
 * - task structs of its tasks: state/saved frame under the task lock; TIF flags with Atomics RMW.
 * - the poke descriptor (GlobalField.Poke*): read with Atomics.load in the int3 handler.
 */
import { KernelMemory, KernelMemoryBuffers } from '../mem/kernel-memory';
import { Kallsyms, KsymKind } from '../mem/kallsyms';
import {
  CpuMode,
  EVENTS_OFF_TASK_STATE,
  GlobalField,
  GlobalView,
  KERNEL_FEATURE_COND_RESCHED_SWITCH,
  PcpuField,
  PercpuView,
} from '../mem/percpu';
import { stackOf } from '../mem/layout';
import {
  REQ_NONE,
  REQ_POSTED,
  REQ_WAIT_EXIT,
  TASK_STATE_NAMES,
  TaskField,
  TaskState,
  TaskView,
  TIF_PATCH_PENDING,
  TIF_SHOULD_STOP,
  TIF_SIGPENDING,
  taskEnded,
} from '../mem/task-struct';
import { CpuContext, X86Cpu } from '../x86/interpreter';
import { EntryKind, Exit } from '../x86/cpu-types';
import { FTRACE_SITE_SIZE } from '../x86/ftrace-site';
import { Reg } from '../x86/registers';
import { EventBody, RawEvent, hex, taskStateEvent } from './events';
import { NESTED_CALL_RET, RET_FROM_CALL, ServiceName, isServiceAddr, serviceAt } from './services';
import { FtraceSites } from './ftrace-sites';
import { FtraceTrampoline } from './ftrace-trampoline';
import { FTRACE_USER_KLP, FtraceUsers } from '../mem/ftrace-users';
import { OrcTables } from './orc-tables';
import { unwindOrc, unwindOrcInto } from './unwind-orc';
import type { FrameBuffer } from './unwind-types';
import { asDoubleFields } from '../util/double-fields';
import { END_OF_TIME_NS, NEVER, NS_PER_INSN } from './sim-clock';
import { jiffiesLeft, MAX_JIFFY_OFFSET, msecsToJiffies, nextTickNs, timeoutExpires, timerWakeNs } from './timer-wheel';
import { RqEntity, RunQueue } from './run-queue';
import { ActionPos, ParamRef, TaskAction, TaskKind, TaskSpec, TaskValue } from './task-program';
import {
  COND_RESCHED_NS,
  CONTEXT_SWITCH_NS,
  CURRENT_PID_NS,
  KTHREAD_LOOP_NS,
  PRINTK_NS,
  SCHEDULE_NS,
  SEQ_PRINTF_NS,
  SEQ_PUTS_NS,
  SYSCALL_ENTRY_NS,
  SYSCALL_EXIT_NS,
  TIMER_SETUP_NS,
  TIMER_WAKEUP_NS,
} from './time-model';
import { needsCoordinator, TaskReply } from './task-request';
import { isCoreService, serveCoreService } from './core-services';
import { isCoordinatorService, serviceRequestCode, writeServiceArgs } from './service-request';
import { vsprintf } from './vsprintf';
import { oopsLines, showOpcodes } from './oops';
import { KernelVersion } from './kernel-version';
import { addTaint, printTainted, Taint, taintMask } from './taint';

/** Returned by CpuHooks.ftrace when the handler is not done yet: it continues in ftraceResume(). */
export const HANDLER_PENDING = -1;

/** Extension points for the livepatch layer, which runs on the CPU too. */
export interface CpuHooks {
  /**
   * The ftrace handler (klp_ftrace_handler), called inside the trampoline with preemption disabled
   * (an RCU-sched read-side section) for a call of the traced function at `ip` from `parentIp`.
   * Returns where execution continues: `ip + 5` (the function's own body) or a replacement function —
   * or HANDLER_PENDING: the handler has read the first links and takes simulated time; the CPU ends its
   * slice still inside the read-side section and finishes in ftraceResume() at the start of the next one.
   * That is where another thread can act while a CPU is inside the handler, as on real hardware.
   */
  ftrace?(host: CpuHost, ip: number, parentIp: number): number;
  ftraceResume?(host: CpuHost): number;
  /** A task's top-level call returned: its stack holds no kernel frame now. */
  callReturned?(host: CpuHost, task: TaskView): void;
  /**
   * A user task's pass (one system call) ends and it returns to user space: exit_to_user_mode_loop(),
   * where a pending TIF_PATCH_PENDING calls klp_update_patch_state(). Never called for a kthread.
   */
  exitToUserMode?(host: CpuHost, task: TaskView): void;
  /** A kthread's pass ends: one turn of its thread function's loop, still in the kernel. */
  kthreadLoop?(host: CpuHost, task: TaskView): void;
  /**
   * The current task calls cond_resched() on a kernel with klp_sched_try_switch() (6.4): if its patch
   * state is pending and its own stack is clean, it switches here. `chain`: its return addresses.
   */
  condResched?(host: CpuHost, task: TaskView, chain: number[], reliable: boolean): void;
  /** The CPU found nothing to run (the idle loop's klp_update_patch_state(current) for swapper/N). */
  idle?(host: CpuHost): void;
  /**
   * A kernel service of a higher layer (the livepatch shadow variables): serves the call — arguments
   * through serviceArg(), the result through serviceReturn() — and returns true, or false if it is not
   * one of its services.
   */
  service?(host: CpuHost, name: ServiceName): boolean;
}

export interface CpuHostOptions {
  cpu: number;
  buffers: KernelMemoryBuffers;
  emit: (ev: RawEvent) => void;
  /**
   * Posts the events emitted so far (a worker thread batches them). Called before this CPU makes visible
   * what another actor acts on — a task's end (kthread_stop(), flush_work() waiters log after it) and a
   * request to the coordinator — so the kernel log keeps printk order across threads for what is causally
   * after. Lockstep emits directly and passes none.
   */
  flushEvents?: () => void;
  /**
   * A `task.state` event as plain values, for a worker thread's packed batches (event-batch.ts); without
   * it, CpuHost builds the object and emits it.
   */
  emitTaskState?: (t: number, cpu: number, pid: number, comm: string, state: string, func: string | undefined) => void;
  hooks?: CpuHooks;
  /** Instructions a task may run before it is preempted when other tasks are runnable. */
  timeslice?: number;
}

/**
 * Why a task sleeps without a wake-up time of its own: it waits for the coordinator to answer a request
 * (task-request.ts), or, in stop_task, for another task to end (kthread_stop()).
 */
type Block = { kind: 'request' } | { kind: 'exit'; view: TaskView; pid: number };
const REQUEST_BLOCK: Block = { kind: 'request' };

interface LocalTask extends RqEntity {
  spec: TaskSpec;
  block: Block | null;
  /** The coordinator's answer, taken up when the task runs again. */
  reply: TaskReply | null;
  view: TaskView;
  /**
   * This CPU's copies of the task's `state` and `wake_ns`: this CPU writes both (the shared words under
   * the task lock, then these), and the coordinator only moves a wake-up earlier, followed by a
   * reschedule IPI that makes this CPU read the word again (rereadWakeTimes()). So the scans of the run
   * queue read plain numbers, not Atomics and BigInts.
   */
  state: TaskState;
  wakeAt: number;
  /** Register state while the task is inside a `call:` action; null between actions. */
  ctx: CpuContext | null;
  /** The task's register save area, reused by every call (`ctx` points at it while in a call). */
  readonly saved: CpuContext;
  action: number;
  /** Set while the task sleeps inside a sleeping service: on wake-up the service returns to its caller. */
  inService: boolean;
  /** Set while the task waits inside a coordinator service (service-request.ts) for its answer. */
  inRequest: boolean;
  /** Which one, and its timer's expiry in jiffies (an interruptible sleep may be woken before). */
  sleepService: SleepService;
  expires: number;
  /** A signal cut the task's interruptible sleep short: its call's pass ends when the call returns. */
  interrupted: boolean;
  /** Output of the task's scratch seq_file (kept short: only the last line matters to anyone). */
  seq: string;
  /** needsCoordinator() of each action of the run list, decided once. */
  readonly viaCoordinator: readonly boolean[];
  /** The stack slot's bounds, written by the coordinator before the task was handed to this CPU. */
  readonly stackBase: number;
  readonly stackTop: number;
  /** Passes completed (this CPU is the only writer of TaskField.Passes). */
  passes: number;
}

export interface SliceResult {
  executed: number;
  idle: boolean;
  /** Earliest wake-up among this CPU's sleeping tasks, NEVER if none. */
  nextWakeNs: number;
}

type SleepService = 'msleep' | 'msleep_interruptible' | 'schedule_timeout_interruptible';

const NEVER_NUM = Number(NEVER);
/** System V argument registers, in order. */
const ARG_REGS: readonly Reg[] = [Reg.RDI, Reg.RSI, Reg.RDX, Reg.RCX, Reg.R8, Reg.R9];

export class CpuHost {
  readonly km: KernelMemory;
  readonly x86: X86Cpu;
  readonly pcpu: PercpuView;
  readonly global: GlobalView;
  readonly kallsyms: Kallsyms;
  /** This CPU's copy of the ORC tables, for the consistency check's exact call chains. */
  readonly orc: OrcTables;
  /** This CPU's simulated time, ns. Published to the per-CPU area at slice boundaries. */
  clock = 0;
  private readonly tasks: LocalTask[] = [];
  private current: LocalTask | null = null;
  /** The runnable tasks (not the current one) and the sleepers' timers: run-queue.ts. */
  private readonly rq = new RunQueue<LocalTask>();
  private sliceUsed = 0;
  private readonly timeslice: number;
  private readonly sites: FtraceSites;
  /** The function tracer's and kprobes' handlers, run inside the trampoline. */
  readonly trampoline: FtraceTrampoline;
  private logLine = '';
  private syncSeen = 0;
  private reschedSeen = 0;
  /** How many times this CPU has entered the ftrace handler (a statistic, and a sequence for tests). */
  handlerEntries = 0;
  /** Invariant checks run on this CPU, published at slice boundaries (PcpuField.Checks*). */
  readonly checks = { site: 0, record: 0, consistency: 0 };
  /** Nesting of callNested(): a service's callback runs atomically (no sleeping, no preemption). */
  private atomicDepth = 0;
  /** Inside the ftrace handler across a slice boundary (preemption disabled, no quiescent state). */
  private handlerPending = false;
  private endSlice = false;

  constructor(private readonly opts: CpuHostOptions) {
    // Nanoseconds: past 2^30 at about 1.07 s of simulated time (util/double-fields.ts).
    asDoubleFields(this, 'clock');
    this.km = new KernelMemory(opts.buffers);
    this.pcpu = new PercpuView(this.km, opts.cpu);
    this.global = new GlobalView(this.km);
    this.kallsyms = new Kallsyms(this.km);
    this.orc = new OrcTables(this.km, this.kallsyms);
    this.timeslice = opts.timeslice ?? 100_000;
    this.sites = new FtraceSites(this);
    this.trampoline = new FtraceTrampoline(new FtraceUsers(this.km), {
      cpu: opts.cpu,
      now: () => this.clock,
      charge: (ns) => (this.clock += ns),
      currentPid: () => this.current?.spec.pid ?? 0,
      callNested: (func, args) => this.callNested(func, args),
      alive: () => this.current !== null,
    });
    this.x86 = new X86Cpu(this.km.u8, this.km.perms, {
      entryKind: (a) => (isServiceAddr(a) ? EntryKind.Native : this.sites.isSite(a) ? EntryKind.Site : EntryKind.Normal),
    });
    this.pcpu.set(PcpuField.CpuId, opts.cpu);
    this.pcpu.set(PcpuField.Mode, CpuMode.Idle);
  }

  get cpu(): number {
    return this.opts.cpu;
  }

  setHooks(hooks: CpuHooks): void {
    this.opts.hooks = hooks;
  }

  emit(ev: EventBody): void {
    this.opts.emit({ t: this.clock, cpu: this.opts.cpu, ...ev });
  }

  /** The kind of this CPU's task in `view`'s slot (user if it is not here: only its own CPU asks). */
  taskKind(view: TaskView): TaskKind {
    if (this.current?.view.slot === view.slot) return this.current.spec.kind;
    return this.tasks.find((t) => t.view.slot === view.slot)?.spec.kind ?? 'user';
  }

  /** The task running here, if any. */
  currentTask(): TaskView | null {
    return this.current?.view ?? null;
  }

  addTask(spec: TaskSpec): void {
    const view = new TaskView(this.km, spec.slot);
    const t: LocalTask = {
      spec,
      view,
      state: view.get(TaskField.State),
      wakeAt: this.clock,
      ctx: null,
      saved: { regs: new Int32Array(32), rip: 0, rflags: 0x2 },
      action: 0,
      inService: false,
      inRequest: false,
      sleepService: 'msleep',
      expires: 0,
      interrupted: false,
      seq: '',
      block: null,
      reply: null,
      heapIdx: -1,
      armSeq: 0,
      queued: false,
      viaCoordinator: spec.run.map(needsCoordinator),
      stackBase: view.get(TaskField.StackBase),
      stackTop: view.get(TaskField.StackTop),
      passes: view.get(TaskField.Passes),
    };
    this.tasks.push(t);
    view.wakeNs = this.clock;
    if (t.state === TaskState.Runnable || t.state === TaskState.Running) this.rq.enqueue(t);
    else if (t.state === TaskState.Sleeping) this.rq.arm(t, this.clock);
  }

  /** Tasks waiting for the coordinator or for another task to end (Block): settled before each answer. */
  private blocked = 0;

  private setState(t: LocalTask, state: TaskState): void {
    t.state = state;
  }

  /** The earliest wake-up among this CPU's sleeping, unblocked tasks (the timer heap's top). */
  private earliestWake(): number {
    return this.rq.earliest(NEVER_NUM);
  }

  /** Settles every blocked task whose wait is over (there are rarely any). */
  private settleBlocked(): void {
    if (this.blocked === 0) return;
    for (const t of this.tasks) if (t.block) this.settle(t);
  }

  /**
   * The coordinator may have moved wake-ups earlier (a signal, kthread_stop()): it does so under the task
   * lock and then sends a reschedule IPI, so on the IPI the shared words are read again.
   */
  private rereadWakeTimes(): void {
    for (const t of this.tasks) {
      if (t.state !== TaskState.Sleeping || t.block || t === this.current) continue;
      t.view.lock();
      const w = t.view.wakeNs;
      t.view.unlock();
      // Only ever earlier; a task already on the runnable FIFO is due anyway.
      if (w !== t.wakeAt && t.heapIdx >= 0) this.rq.move(t, w);
    }
  }

  /** The current task, or one on the runnable FIFO (Runnable, or a sleeper whose timer has fired). */
  private readyNow(): boolean {
    return this.current !== null || this.rq.runnable > 0;
  }

  hasRunnable(): boolean {
    this.settleBlocked();
    return this.readyNow() || this.earliestWake() <= this.clock;
  }

  nextWake(): number {
    this.settleBlocked();
    return this.readyNow() ? this.clock : this.earliestWake();
  }

  /**
   * The horizon this CPU may publish (sim-clock.ts): its clock while it has work; else its next wake-up,
   * held lower by its blocked tasks. A task waiting for the coordinator holds it at this CPU's clock (its
   * request is served at that time). A task waiting in stop_task for a task on another CPU holds it at
   * that CPU's horizon: the other task may die at any time from there on, and its waiter must wake at
   * that time, so nobody may pass it before this CPU has seen the death. The other CPU's horizon is read
   * *before* the task's state (both Atomics loads): a horizon from after the death implies the Dead
   * store (made before it) is seen too, and the waiter then has its wake-up time (ExitNs).
   */
  horizon(): number {
    if (this.hasRunnable()) return this.clock;
    if (this.blocked === 0) return this.earliestWake();
    let bound = NEVER_NUM;
    for (const t of this.tasks) {
      const b = t.block;
      if (!b) continue;
      if (b.kind === 'request') {
        bound = Math.min(bound, this.clock);
        continue;
      }
      const cpu = b.view.get(TaskField.Cpu);
      // Not behind a task that itself waits in stop_task: a cycle of them would hold time for ever.
      const follow = cpu !== this.cpu && cpu >= 0 && cpu < this.km.layout.config.cpus && b.view.get(TaskField.ReqState) !== REQ_WAIT_EXIT;
      const other = follow ? Number(this.pcpuOf(cpu).get64(PcpuField.Horizon)) : NEVER_NUM;
      if (!this.settle(t)) bound = Math.min(bound, other);
    }
    return Math.min(this.nextWake(), bound);
  }

  /** A `call:` action's argument values, read into this one array (beginCall() consumes them at once). */
  private readonly callArgs: number[] = [];

  /** The horizon this CPU published last through publishHorizon(). */
  private publishedHorizon = NaN;

  /**
   * Publishes horizon() (sim-clock.ts). Unless `force`d, the Int64 word is written only when the value
   * moved — for a caller that is the only writer besides this class (the lockstep scheduler), so that
   * a step that leaves a CPU's horizon where it was costs no BigInt.
   */
  publishHorizon(force = false): void {
    const h = Math.min(this.horizon(), NEVER_NUM);
    if (!force && h === this.publishedHorizon) return;
    this.publishedHorizon = h;
    this.pcpu.set64(PcpuField.Horizon, BigInt(h));
  }

  /** Does a task here wait for the coordinator or for another task? */
  hasBlocked(): boolean {
    return this.blocked > 0;
  }

  private readonly otherPcpus = new Map<number, PercpuView>();

  private pcpuOf(cpu: number): PercpuView {
    let p = this.otherPcpus.get(cpu);
    if (!p) this.otherPcpus.set(cpu, (p = new PercpuView(this.km, cpu)));
    return p;
  }

  /**
   * Ends a stop_task wait whose task has ended: the waiter becomes an ordinary sleeper that wakes when the
   * task died (complete() in do_exit() wakes kthread_stop()'s caller). A slot already reused by a newer
   * task has lost that time; the waiter then wakes now. Returns whether the task is unblocked.
   */
  private settle(t: LocalTask): boolean {
    const b = t.block;
    if (!b) return true;
    if (b.kind === 'request' || !taskEnded(b.view, b.pid)) return false;
    const at = b.view.get(TaskField.Pid) === b.pid ? Number(b.view.get64(TaskField.ExitNs)) : this.clock;
    this.unblock(t, at);
    return true;
  }

  /**
   * The coordinator's answer to the request of task `pid` (task-request.ts). The task runs again at this
   * CPU's clock, where it takes the answer up (finishRequest()).
   */
  replyTask(pid: number, reply: TaskReply): void {
    const t = this.tasks.find((x) => x.spec.pid === pid);
    if (!t || t.block?.kind !== 'request') return;
    t.reply = reply;
    this.unblock(t, this.clock);
  }

  private block(t: LocalTask, b: Block): void {
    if (t.block === null) this.blocked++;
    t.block = b;
  }

  /** The blocked task becomes an ordinary sleeper that wakes at `at`. */
  private unblock(t: LocalTask, at: number): void {
    t.block = null;
    this.blocked--;
    t.view.set(TaskField.ReqState, REQ_NONE);
    t.view.lock();
    t.view.wakeNs = at;
    t.view.unlock();
    this.rq.arm(t, at);
  }

  /**
   * Serves pending IPIs (see percpu.ts): a reschedule IPI; a sync-core IPI: drop every decoded
   * instruction, then acknowledge. Returns whether there was a sync-core IPI.
   */
  handleIpis(): boolean {
    const resched = this.pcpu.get(PcpuField.ReschedReq);
    if (resched !== this.reschedSeen) {
      // The interrupt pulls an idle CPU out of its idle wait, around the loop once, and back: the idle
      // loop's work (the idle task's klp_update_patch_state()) is done before the sender sees the ack.
      if (this.current === null) this.idleLoop();
      // A wake-up may have moved a task's wake time earlier (try_to_wake_up() from another CPU): the
      // horizon is republished before the ack, which is what the sender waits for.
      this.rereadWakeTimes();
      this.publishHorizon(true);
      this.reschedSeen = resched;
      this.pcpu.set(PcpuField.ReschedAck, resched);
      this.notifyAck();
    }
    const req = this.pcpu.get(PcpuField.SyncReq);
    if (req !== this.syncSeen) {
      this.x86.flushICache();
      this.sites.flush();
      this.syncSeen = req;
      this.pcpu.set(PcpuField.SyncAck, req);
      this.notifyAck();
      return true;
    }
    return false;
  }

  /** Wakes whoever waits for acknowledgements (they sleep on the clock epoch word). */
  private notifyAck(): void {
    this.global.add(GlobalField.ClockEpoch, 1);
    Atomics.notify(this.km.i32, this.global.index(GlobalField.ClockEpoch));
  }

  /**
   * Runs up to `budget` instructions of this CPU's tasks. Never blocks: when no task is runnable it
   * returns `idle`. A slice boundary is an RCU quiescent state (no handler read side spans slices).
   */
  runSlice(budget: number): SliceResult {
    this.handleIpis();
    let executed = 0;
    this.endSlice = false;
    // Time the kernel spends without emulated instructions (the handler's second half, a context switch,
    // a service: time-model.ts) counts against the budget as instructions do, so a slice never runs past
    // the time its caller allowed.
    if (this.handlerPending) {
      const c0 = this.clock;
      this.finishHandler();
      executed += this.clock - c0;
    }
    while (executed < budget && !this.endSlice) {
      if (this.current === null) {
        // The timers' wake-ups (pickNext()) and the switch take time too.
        const c0 = this.clock;
        const next = this.pickNext();
        if (next === null) {
          executed += this.clock - c0;
          this.idleLoop();
          break;
        }
        this.switchIn(next);
        executed += this.clock - c0;
        // Woken without a reason to return (msleep_interruptible() woken with no signal): asleep again.
        if (this.current === null) continue;
      }
      const cur = this.current;
      if (cur.ctx === null) {
        // Actions and pass ends take simulated time without retiring instructions: count it against the
        // slice too, so a pass that executes nothing still ends the slice and lets time pass.
        const before = this.clock;
        this.startAction(cur);
        executed += this.clock - before;
        this.sliceUsed += this.clock - before;
        if (this.current === cur && this.sliceUsed >= this.timeslice) this.preempt();
        continue;
      }
      const before = this.x86.retired;
      const allowed = Math.min(budget - executed, Math.max(1, this.timeslice - this.sliceUsed));
      const exit = this.x86.run(allowed);
      const n = this.x86.retired - before;
      executed += n;
      this.sliceUsed += n;
      this.clock += n * NS_PER_INSN;
      const c0 = this.clock;
      this.dispatchExit(cur, exit);
      executed += this.clock - c0;
      this.sliceUsed += this.clock - c0;
      if (this.current === cur && this.sliceUsed >= this.timeslice && !this.handlerPending) this.preempt();
    }
    this.publish();
    const idle = this.current === null;
    return { executed, idle, nextWakeNs: this.nextWake() };
  }

  /** Makes this CPU's state visible to other threads (heartbeat, clock, RCU quiescent state). */
  publish(): void {
    // Between slices this CPU holds no RCU read-side section — unless it is inside the handler.
    if (!this.handlerPending) this.pcpu.add(PcpuField.RcuQs, 1);
    this.pcpu.add(PcpuField.Heartbeat, 1);
    // Loads are cheap and seq-cst stores are not: words that did not move are not stored again.
    this.pcpu.setIfChanged(PcpuField.LastRip, this.x86.rip);
    this.pcpu.set64(PcpuField.Clock, BigInt(this.clock));
    this.pcpu.set64(PcpuField.Retired, BigInt(this.x86.retired));
    this.pcpu.setIfChanged(PcpuField.Mode, this.current ? CpuMode.Running : CpuMode.Idle);
    this.pcpu.setIfChanged(PcpuField.ChecksSite, this.checks.site);
    this.pcpu.setIfChanged(PcpuField.ChecksRecord, this.checks.record);
    this.pcpu.setIfChanged(PcpuField.ChecksConsistency, this.checks.consistency);
  }

  /** Moves this idle CPU's clock forward (time skipped while everyone slept). */
  advanceTo(ns: number): void {
    if (ns > this.clock) this.clock = ns;
  }

  // --- scheduling -------------------------------------------------------------------------------------

  /** Is a task other than the current one runnable now? */
  private othersRunnable(): boolean {
    this.settleBlocked();
    return this.rq.runnable > 0 || this.earliestWake() <= this.clock;
  }

  /**
   * The timers due by now fire (the tick's softirq: every one of its bucket, each a try_to_wake_up()
   * that costs this CPU TIMER_WAKEUP_NS) and their tasks join the runnable FIFO.
   */
  private expireTimers(): void {
    const n = this.rq.expire(this.clock);
    if (n > 0) this.clock += n * TIMER_WAKEUP_NS;
  }

  /** The next task to run: timers due by now join the FIFO first, then its head runs. */
  private pickNext(): LocalTask | null {
    this.settleBlocked();
    this.expireTimers();
    return this.rq.dequeue();
  }

  private switchIn(t: LocalTask): void {
    // The task lock makes the switch atomic with respect to a stack check on the coordinator.
    t.view.lock();
    const wasSleeping = t.state === TaskState.Sleeping;
    t.view.set(TaskField.State, TaskState.Running);
    t.view.setIfChanged(TaskField.Cpu, this.opts.cpu);
    t.view.unlock();
    this.setState(t, TaskState.Running);
    this.pcpu.set(PcpuField.Current, t.spec.pid);
    this.current = t;
    this.sliceUsed = 0;
    // context_switch() from the previous task or the idle task: this CPU's time until the task runs.
    this.clock += CONTEXT_SWITCH_NS;
    if (t.ctx) this.x86.setContext(t.ctx);
    this.emitTaskState(t, 'running');
    if (wasSleeping && t.inService) this.wakeInService(t);
    else if (t.inRequest && t.reply && !t.block) this.finishServiceRequest(t);
  }

  /**
   * Posts a coordinator service call (service-request.ts): the arguments go into the task struct, and the
   * task blocks inside the service until the answer comes.
   */
  private postServiceRequest(t: LocalTask, name: Parameters<typeof serviceRequestCode>[0]): void {
    writeServiceArgs(
      t.view,
      [0, 1, 2, 3].map((i) => this.arg(i)),
    );
    t.view.set(TaskField.ReqAction, serviceRequestCode(name));
    t.view.set64(TaskField.ReqClock, BigInt(this.clock));
    this.opts.flushEvents?.();
    t.view.set(TaskField.ReqState, REQ_POSTED);
    this.global.add(GlobalField.TaskRequests, 1);
    t.inRequest = true;
    this.block(t, { kind: 'request' });
    this.switchOut(TaskState.Sleeping, NEVER_NUM);
    this.notifyAck();
  }

  /** The answer to a service request: wait for a task to end first if asked (kthread_stop()), then return. */
  private finishServiceRequest(t: LocalTask): void {
    const r = t.reply as TaskReply;
    if (r.wait) {
      const view = new TaskView(this.km, r.wait.slot);
      const w = r.wait;
      delete r.wait;
      if (!taskEnded(view, w.pid)) {
        this.block(t, { kind: 'exit', view, pid: w.pid });
        t.view.set(TaskField.ReqState, REQ_WAIT_EXIT);
        this.switchOut(TaskState.Sleeping, NEVER_NUM);
        return;
      }
    }
    t.reply = null;
    t.inRequest = false;
    this.x86.setReg(Reg.RAX, BigInt.asUintN(64, BigInt(r.ret ?? 0)));
    this.ret();
  }

  /**
   * The task wakes inside a sleeping service, at its timeout or before it (klp_send_signals(),
   * kthread_stop()). The service returns to its caller now — or, as msleep_interruptible()'s loop does
   * when no signal is pending, sleeps on for the rest of its time.
   */
  private wakeInService(t: LocalTask): void {
    // schedule_timeout()'s `expire - jiffies`: 0 once the timer has fired (it fires after the expiry).
    const left = jiffiesLeft(this.clock, t.expires);
    const loops = t.sleepService === 'msleep' || (t.sleepService === 'msleep_interruptible' && !this.signalPending(t));
    if (left > 0 && loops) {
      // msleep*()'s loop: schedule_timeout() again for what is left, so the same expiry.
      this.switchOut(TaskState.Sleeping, timerWakeNs(this.clock, t.expires, END_OF_TIME_NS));
      return;
    }
    t.inService = false;
    if (t.sleepService !== 'msleep' && left > 0 && this.signalPending(t)) t.interrupted = true;
    // msleep() returns nothing; msleep_interruptible() jiffies_to_msecs() of what is left (ms = jiffies at
    // HZ=1000), schedule_timeout_interruptible() the jiffies left.
    this.x86.setRegNum(Reg.RAX, t.sleepService === 'msleep' ? 0 : left);
    this.ret();
  }

  /** The kernel release's msleep() timeout in jiffies (timer-wheel.ts, KernelVersion.msleepExtraJiffy). */
  private msleepTimeout(ms: number): number {
    const j = msecsToJiffies(ms);
    return this.version().msleepExtraJiffy ? Math.min(j + 1, MAX_JIFFY_OFFSET) : j;
  }

  private versionCode = -1;
  private versionCached: KernelVersion = KernelVersion.DEFAULT;

  /** The machine's kernel release (a global word the coordinator writes once, before tasks run). */
  private version(): KernelVersion {
    const code = this.global.get(GlobalField.KernelVersion);
    if (code !== this.versionCode) {
      this.versionCode = code;
      this.versionCached = KernelVersion.fromCode(code);
    }
    return this.versionCached;
  }

  /** signal_pending(): only user tasks get klp_send_signals()' fake signal. */
  private signalPending(t: LocalTask): boolean {
    return t.spec.kind === 'user' && (t.view.get(TaskField.Flags) & TIF_SIGPENDING) !== 0;
  }

  /**
   * The task sleeps inside `service` (its return address stays on the stack, so a stack walk sees the
   * caller, as it would see msleep -> schedule_timeout -> __schedule in the kernel).
   */
  private sleepInService(t: LocalTask, service: SleepService, timeout: number): void {
    if (this.atomicDepth > 0) {
      // __schedule_bug(): a sleep under a spinlock. The kernel prints the splat and schedules anyway;
      // here the sleep returns at once, so the nested call can finish.
      this.log(`BUG: scheduling while atomic: ${t.spec.comm}/${t.spec.pid}/0x00000002`);
      this.violation('atomic-sleep', `CPU ${this.cpu}: ${t.spec.comm}/${t.spec.pid} called ${service}() inside a service's callback`);
      this.x86.setRegNum(Reg.RAX, 0);
      return this.ret();
    }
    if (timeout === 0 && service !== 'schedule_timeout_interruptible') {
      // msleep*(0) from 6.13: the loop does not run (schedule_timeout(0) itself still waits a tick).
      this.x86.setRegNum(Reg.RAX, 0);
      return this.ret();
    }
    t.inService = true;
    t.sleepService = service;
    // schedule_timeout(): the timer is armed, then schedule() takes the task off.
    this.clock += TIMER_SETUP_NS;
    t.expires = timeoutExpires(this.clock, timeout);
    const wake = timerWakeNs(this.clock, t.expires, END_OF_TIME_NS);
    this.clock += SCHEDULE_NS;
    this.switchOut(TaskState.Sleeping, wake);
  }

  /**
   * Takes the current task off the CPU, saving its frame where the stack walker can read it. `interrupted`:
   * the switch comes from an interrupt (preemption), so the frame is pt_regs at an arbitrary instruction.
   */
  private switchOut(state: TaskState, wakeNs = 0, interrupted = false): void {
    const t = this.current;
    if (!t) return;
    if (t.ctx) {
      // Into the task's own save area: no allocation per switch.
      t.ctx.regs.set(this.x86.regs);
      t.ctx.rip = this.x86.rip;
      t.ctx.rflags = this.x86.getRflags();
    }
    // Under the lock; the stack check reads these only after it took the lock and saw the task is not
    // running. A task that sleeps between passes saves the same empty frame each time: only changed words
    // are stored (setIfChanged()).
    const v = t.view;
    v.lock();
    if (t.ctx) {
      v.setIfChanged(TaskField.SavedRip, t.ctx.rip);
      v.setIfChanged(TaskField.SavedRsp, this.x86.getRegNum(Reg.RSP));
      v.setIfChanged(TaskField.SavedRbp, this.x86.getRegNum(Reg.RBP));
      v.setIfChanged(TaskField.PtRegs, interrupted ? 1 : 0);
    } else {
      v.setIfChanged(TaskField.SavedRip, 0);
      v.setIfChanged(TaskField.SavedRsp, t.stackTop);
      v.setIfChanged(TaskField.SavedRbp, 0);
      v.setIfChanged(TaskField.PtRegs, 0);
    }
    v.setIfChanged(TaskField.InCall, t.ctx ? 1 : 0);
    const interruptible = state === TaskState.Sleeping && t.ctx !== null && t.inService && t.sleepService !== 'msleep';
    v.setIfChanged(TaskField.SleepInterruptible, interruptible ? 1 : 0);
    if (state === TaskState.Sleeping) v.wakeNs = wakeNs;
    if (state !== TaskState.Dead) v.set(TaskField.State, state);
    v.unlock();
    if (state === TaskState.Sleeping) t.wakeAt = wakeNs;
    if (state !== TaskState.Dead) this.setState(t, state);
    if (state === TaskState.Sleeping && t.block === null) this.rq.arm(t, wakeNs);
    else if (state === TaskState.Runnable) {
      // Timers due by now fire before this task queues up behind them.
      this.expireTimers();
      this.rq.enqueue(t);
    }
    this.pcpu.set(PcpuField.Current, 0);
    this.pcpu.add(PcpuField.RcuQs, 1); // a context switch is a quiescent state
    this.current = null;
    this.emitTaskState(t, TASK_STATE_NAMES[state]);
    // After the event: a dead task's last one goes out with the batch release() posts, before its end is visible.
    if (state === TaskState.Dead) this.release(t);
  }

  /**
   * A dead task leaves the run queue, and then its slot: the Atomics.store of Dead is this CPU's last
   * access to it, so the coordinator, which reuses a slot once it reads Dead there, never shares it with
   * us. (Until that store, a stack check finds the task "running" and just tries again later.)
   */
  private release(t: LocalTask): void {
    const i = this.tasks.indexOf(t);
    this.setState(t, TaskState.Dead);
    this.rq.remove(t);
    if (i >= 0) this.tasks.splice(i, 1);
    t.view.set64(TaskField.ExitNs, BigInt(this.clock));
    this.opts.flushEvents?.();
    t.view.set(TaskField.State, TaskState.Dead);
  }

  private preempt(): void {
    this.sliceUsed = 0;
    const others = this.othersRunnable();
    // The timer interrupt preempts the task wherever it is: its frame is pt_regs.
    if (others) this.switchOut(TaskState.Runnable, 0, true);
  }

  private emitTaskState(t: LocalTask, state: string): void {
    // Two per context switch, thousands a simulated ms with short timeslices: off unless someone listens.
    if (this.global.get(GlobalField.EventsOff) & EVENTS_OFF_TASK_STATE) return;
    const func = t.ctx ? this.kallsyms.symbolAt(t.ctx.rip)?.name : undefined;
    const packed = this.opts.emitTaskState;
    if (packed) return packed(this.clock, this.opts.cpu, t.spec.pid, t.spec.comm, state, func);
    this.opts.emit(taskStateEvent(this.clock, this.opts.cpu, t.spec.pid, t.spec.comm, state, func));
  }

  // --- task actions ------------------------------------------------------------------------------------

  /** Begins the task's next action, or ends its pass (and the task, if stopped or `once`). */
  private startAction(t: LocalTask): void {
    if (t.reply) {
      this.finishRequest(t);
      return;
    }
    if (t.action >= t.spec.run.length) {
      t.action = 0;
      t.view.set(TaskField.Passes, ++t.passes);
      // The way back to user space (syscall_exit_to_user_mode()), or the end of a kthread loop's turn.
      this.clock += t.spec.kind === 'user' ? SYSCALL_EXIT_NS : KTHREAD_LOOP_NS;
      if (t.spec.kind === 'user') {
        // exit_to_user_mode_loop(): klp_update_patch_state() first, then the signal is handled.
        this.opts.hooks?.exitToUserMode?.(this, t.view);
        t.view.andNotFlags(TIF_SIGPENDING);
      } else this.opts.hooks?.kthreadLoop?.(this, t.view);
      if (t.spec.once || (t.view.get(TaskField.Flags) & TIF_SHOULD_STOP) !== 0 || t.spec.run.length === 0) {
        this.switchOut(TaskState.Dead);
        return;
      }
    }
    // A user task's pass is one system call: entry_SYSCALL_64 before its first action.
    if (t.action === 0 && t.spec.kind === 'user') this.clock += SYSCALL_ENTRY_NS;
    const a = t.spec.run[t.action];
    if (t.viaCoordinator[t.action++]) {
      this.postRequest(t);
      return;
    }
    switch (a.kind) {
      case 'sleep': {
        const ms = this.value(t, a, a.ms);
        if (ms !== null) this.sleepMs(t, a, ms, typeof a.ms === 'number' ? undefined : a.ms);
        return;
      }
      case 'printk': {
        const text = this.expand(t, a);
        if (text !== null) this.log(text);
        this.clock += PRINTK_NS;
        return;
      }
      case 'call': {
        // Refilled in place: `args.length = 0` is a runtime call (1.4 % of a stress run), so the length is
        // set only when this call's count differs from the last one's.
        const args = this.callArgs;
        let k = 0;
        for (const v of a.args) {
          const n = this.value(t, a, v);
          if (n === null) return;
          args[k++] = n;
        }
        if (args.length !== k) args.length = k;
        this.beginCall(t, a, args);
        return;
      }
      case 'start_task':
      case 'stop_task':
        return; // needsCoordinator()
    }
  }

  /**
   * A sleep_ms action: msleep(ms), so jiffies and the timer wheel as there (up to 6.12 msleep(0) still
   * sleeps until the tick after next: msecs_to_jiffies(0) + 1 jiffy; from 6.13 it does not sleep).
   */
  private sleepMs(t: LocalTask, a: TaskAction, ms: number, ref?: ParamRef): void {
    if (ms < 0) {
      const what = ref ? `\${${ref.name}} is ${ms}` : `sleep_ms is ${ms}`;
      this.actionError(t, a, `${what}: sleep_ms needs a number of milliseconds >= 0`, ref);
      return;
    }
    const timeout = this.msleepTimeout(ms);
    if (timeout === 0) return;
    // msleep(): the timer is armed, then schedule() takes the task off.
    this.clock += TIMER_SETUP_NS;
    const wake = timerWakeNs(this.clock, timeoutExpires(this.clock, timeout), END_OF_TIME_NS);
    this.clock += SCHEDULE_NS;
    this.switchOut(TaskState.Sleeping, wake);
  }

  private beginCall(t: LocalTask, a: Extract<TaskAction, { kind: 'call' }>, args: number[]): void {
    const sym = a.addr !== undefined ? this.kallsyms.symbolAt(a.addr) : this.kallsyms.lookup(a.func);
    if (!sym || sym.kind === KsymKind.Data || (a.addr !== undefined && sym.addr !== a.addr)) {
      // The kernel has no such call: a reference to a symbol that is not there fails when it is resolved.
      // Here it is resolved at the call, so the task dies at its first one, reported once.
      this.actionError(t, a, `${a.func}() is not loaded (no such function in the running kernel or its modules)`);
      return;
    }
    const top = t.stackTop;
    const ctx = t.saved;
    ctx.regs.fill(0);
    ctx.rip = a.addr ?? sym.addr;
    ctx.rflags = 0x2;
    t.ctx = ctx;
    this.x86.setContext(ctx);
    this.x86.setRegNum(Reg.RSP, top);
    this.x86.setRegNum(Reg.RBP, 0);
    // rdi: the task's scratch seq_file, at the bottom of its stack slot (far below any frame).
    this.x86.setRegNum(Reg.RDI, t.stackBase);
    if (args.length > 0) {
      this.x86.setRegNum(Reg.RDI, args[0]);
      for (let i = 1; i < args.length && i < 6; i++) this.x86.setRegNum(ARG_REGS[i], args[i]);
    }
    this.push(RET_FROM_CALL);
  }

  /**
   * A parameter as its module's code would read it: the 64-bit word of its data symbol, an `int` (the low
   * 32 bits, signed) or a `bool` (0 or 1). Null (and the task ended) when the module is gone.
   */
  private readParam(t: LocalTask, a: TaskAction, ref: ParamRef): number | null {
    const sym = this.kallsyms.lookup(ref.name, ref.module);
    if (!sym || sym.kind !== KsymKind.Data) {
      this.actionError(t, a, `\${${ref.name}}: module ${ref.module} is not loaded`, ref);
      return null;
    }
    const word = this.km.dv.getBigInt64(sym.addr, true);
    return ref.type === 'bool' ? (word !== 0n ? 1 : 0) : Number(BigInt.asIntN(32, word));
  }

  private value(t: LocalTask, a: TaskAction, v: TaskValue): number | null {
    return typeof v === 'number' ? v : this.readParam(t, a, v);
  }

  /** A printk action's text with its int and bool `${…}` read now, shown as their sysfs files show them. */
  private expand(t: LocalTask, a: Extract<TaskAction, { kind: 'printk' }>): string | null {
    let failed = false;
    const text = a.text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole, name: string) => {
      const ref = a.refs.find((r) => r.name === name);
      if (!ref || failed) return whole;
      const v = this.readParam(t, a, ref);
      if (v === null) {
        failed = true;
        return whole;
      }
      return ref.type === 'bool' ? (v ? 'Y' : 'N') : String(v);
    });
    return failed ? null : text;
  }

  /** Posts the current action to the coordinator and blocks the task until it answers (task-request.ts). */
  private postRequest(t: LocalTask): void {
    t.view.set(TaskField.ReqAction, t.action - 1);
    t.view.set64(TaskField.ReqClock, BigInt(this.clock));
    this.opts.flushEvents?.();
    t.view.set(TaskField.ReqState, REQ_POSTED);
    this.global.add(GlobalField.TaskRequests, 1);
    this.block(t, REQUEST_BLOCK);
    this.switchOut(TaskState.Sleeping, NEVER_NUM);
    this.notifyAck();
  }

  /** The task runs again after its request was answered: the action it made the request for goes on. */
  private finishRequest(t: LocalTask): void {
    const r = t.reply as TaskReply;
    t.reply = null;
    const a = t.spec.run[t.action - 1];
    if (r.error !== undefined) {
      this.actionError(t, a, r.error, { pos: r.errorAt });
      return;
    }
    switch (a.kind) {
      case 'printk':
        this.log(r.text ?? a.text);
        this.clock += PRINTK_NS;
        return;
      case 'sleep':
        this.sleepMs(t, a, r.values?.[0] ?? 0, typeof a.ms === 'number' ? undefined : a.ms);
        return;
      case 'call':
        this.beginCall(t, a, r.values ?? []);
        return;
      case 'stop_task': {
        const w = r.wait;
        if (!w) return;
        const view = new TaskView(this.km, w.slot);
        if (taskEnded(view, w.pid)) return;
        this.block(t, { kind: 'exit', view, pid: w.pid });
        t.view.set(TaskField.ReqState, REQ_WAIT_EXIT);
        this.switchOut(TaskState.Sleeping, NEVER_NUM);
        return;
      }
      case 'start_task':
        return;
    }
  }

  /**
   * An action that cannot be done (a function or module that is not loaded, a parameter whose value does
   * not fit): the task ends, as a task that oopses does, and the run fails with the action's position.
   */
  private actionError(t: LocalTask, a: TaskAction, message: string, at?: { pos?: ActionPos }): void {
    const pos = at?.pos ?? a.pos;
    const text = `task ${t.spec.comm} (pid ${t.spec.pid}): ${message}; the task is ended`;
    this.log(`klpsim: ${text}`);
    this.global.add(GlobalField.Violations, 1);
    this.emit({ type: 'violation', check: 'action', message: text, pid: t.spec.pid, ...(pos ? { pos } : {}) });
    t.ctx = null;
    this.switchOut(TaskState.Dead);
  }

  // --- exits from the interpreter ---------------------------------------------------------------------

  private dispatchExit(t: LocalTask, exit: Exit): void {
    switch (exit) {
      case Exit.Budget:
        return;
      case Exit.Native:
        this.service(t, this.x86.rip);
        return;
      case Exit.Site:
        this.sites.execute(this.x86.rip);
        return;
      case Exit.Int3:
        this.sites.int3(this.x86.rip);
        return;
      case Exit.Halt:
        // The task waits for the next timer interrupt, which is where it will be switched in again.
        this.switchOut(TaskState.Sleeping, nextTickNs(this.clock), true);
        return;
      case Exit.Fault:
        this.oops(t);
        return;
    }
  }

  /** Argument `i` (0-5, System V) of the service being served. */
  serviceArg(i: number): bigint {
    return this.arg(i);
  }

  /** Ends the service being served: `rax` = value, then `ret` to its caller. */
  serviceReturn(value: bigint | number): void {
    this.x86.setReg(Reg.RAX, BigInt.asUintN(64, BigInt(value)));
    this.ret();
  }

  /**
   * Calls emulated function `func(args…)` from inside a service and runs it to completion on this CPU
   * before the service goes on — as shadow.c calls a constructor under klp_shadow_lock, with interrupts
   * off: nothing else runs on this CPU meanwhile, and the callee must not sleep (a sleeping service inside
   * it is "BUG: scheduling while atomic", a violation, and returns at once). Its ftrace site and the
   * services it calls work as anywhere; its instructions cost simulated time. Returns its rax, or null
   * when it faulted (the task is killed, as the oops kills it) or ran past `maxInsns`.
   */
  callNested(func: number, args: readonly (bigint | number)[], maxInsns = 1_000_000): bigint | null {
    const t = this.current;
    if (!t) return null;
    const saved = this.x86.getContext();
    const argRegs = [Reg.RDI, Reg.RSI, Reg.RDX, Reg.RCX, Reg.R8, Reg.R9];
    args.forEach((v, i) => this.x86.setReg(argRegs[i], BigInt.asUintN(64, BigInt(v))));
    if (!this.push(NESTED_CALL_RET)) return null;
    this.x86.rip = func;
    this.atomicDepth++;
    let retired = 0;
    try {
      while (this.current === t) {
        if (this.x86.rip === NESTED_CALL_RET) {
          // The callee's `ret` popped NESTED_CALL_RET: rsp is the service's again.
          const rax = this.x86.getReg(Reg.RAX);
          this.x86.setContext(saved);
          return rax;
        }
        if (retired >= maxInsns) {
          this.violation('nested-call', `CPU ${this.cpu}: ${this.kallsyms.format(func)} ran ${maxInsns} instructions inside a service`);
          this.x86.setContext(saved);
          return null;
        }
        const before = this.x86.retired;
        const exit = this.x86.run(Math.min(20_000, maxInsns - retired));
        const n = this.x86.retired - before;
        retired += n;
        this.clock += n * NS_PER_INSN;
        if (exit === Exit.Native && this.x86.rip === NESTED_CALL_RET) continue;
        this.dispatchExit(t, exit);
        // The handler's second half, which a slice boundary would otherwise run: no boundary in here.
        if (this.handlerPending) this.finishHandler();
      }
      return null; // the task died (an oops) inside the callee
    } finally {
      this.atomicDepth--;
    }
  }

  /** Emulates `ret` for a service; a stack that cannot be read is a fault like any other. */
  private ret(): void {
    const r = this.x86.pop64();
    if (Number.isNaN(r)) {
      if (this.current) this.oops(this.current);
      return;
    }
    this.x86.rip = r;
  }

  /** Pushes onto the current task's stack; a stack that cannot be written is an oops. */
  push(v: number): boolean {
    if (this.x86.push64(v)) return true;
    this.oopsCurrent();
    return false;
  }

  /** The current task dies of the fault in `x86.fault` (used by the site code too). */
  oopsCurrent(): void {
    if (this.current) this.oops(this.current);
  }

  private arg(i: number): bigint {
    return this.x86.getReg(ARG_REGS[i]);
  }

  private service(t: LocalTask, addr: number): void {
    const name: ServiceName | undefined = serviceAt(addr);
    switch (name) {
      case 'printk': {
        const text = this.format(0);
        this.printk(text);
        this.clock += PRINTK_NS;
        this.x86.setRegNum(Reg.RAX, text.length);
        return this.ret();
      }
      case 'seq_puts':
        this.seqAppend(t, this.x86.getRegNum(Reg.RDI), this.km.readCString(this.x86.getRegNum(Reg.RSI)));
        this.clock += SEQ_PUTS_NS;
        return this.ret();
      case 'seq_printf':
        this.seqAppend(t, this.x86.getRegNum(Reg.RDI), this.format(1));
        this.clock += SEQ_PRINTF_NS;
        return this.ret();
      case 'msleep':
        // TASK_UNINTERRUPTIBLE: no signal ends it early.
        return this.sleepInService(t, 'msleep', this.msleepTimeout(this.x86.getRegNum(Reg.RDI) >>> 0));
      case 'msleep_interruptible':
      case 'schedule_timeout_interruptible': {
        // TASK_INTERRUPTIBLE; with a signal already pending it returns at once, the whole time left
        // (msleep_interruptible(): jiffies_to_msecs() of its timeout, the extra jiffy included).
        const n = this.x86.getRegNum(Reg.RDI) >>> 0;
        const timeout = name === 'msleep_interruptible' ? this.msleepTimeout(n) : n;
        if (this.signalPending(t)) {
          this.x86.setRegNum(Reg.RAX, Math.min(timeout, 2 ** 53));
          return this.ret();
        }
        return this.sleepInService(t, name, timeout);
      }
      case 'cond_resched':
        if (
          this.global.get(GlobalField.KernelFeatures) & KERNEL_FEATURE_COND_RESCHED_SWITCH &&
          t.view.get(TaskField.Flags) & TIF_PATCH_PENDING
        ) {
          // klp_sched_try_switch() runs before the reschedule, on the task's own (current) stack.
          const w = this.serviceCallChain(t);
          this.opts.hooks?.condResched?.(this, t.view, w.frames, w.reliable);
        }
        this.ret();
        this.clock += COND_RESCHED_NS;
        // should_resched(): another task is runnable, so cond_resched() calls __schedule().
        if (this.othersRunnable()) this.clock += SCHEDULE_NS;
        this.switchOutIfOthers();
        return;
      case 'schedule':
        this.ret();
        this.clock += SCHEDULE_NS;
        this.switchOutIfOthers();
        return;
      case 'current_pid':
        this.x86.setRegNum(Reg.RAX, t.spec.pid);
        this.clock += CURRENT_PID_NS;
        return this.ret();
      case 'ftrace_caller':
        return this.ftraceCaller(false);
      case 'ftrace_ops_list_func':
        return this.ftraceCaller(true);
      case 'ret_from_call':
        t.ctx = null;
        // The system call was interrupted: it returns to user space now, where the signal is handled.
        if (t.interrupted && t.spec.kind === 'user') t.action = t.spec.run.length;
        t.interrupted = false;
        if (t.spec.capture) {
          this.emit({
            type: 'task.output',
            pid: t.spec.pid,
            comm: t.spec.comm,
            text: t.seq,
            ret: Number(BigInt.asIntN(64, this.x86.getReg(Reg.RAX))),
          });
          t.seq = '';
        }
        this.opts.hooks?.callReturned?.(this, t.view);
        return;
      default:
        if (name !== undefined && isCoordinatorService(name)) return this.postServiceRequest(t, name);
        if (name !== undefined && isCoreService(name)) {
          const rax = serveCoreService(name, {
            km: this.km,
            global: this.global,
            arg: (i) => this.arg(i),
            currentSlot: () => t.spec.slot,
            shouldStop: () => (t.view.get(TaskField.Flags) & TIF_SHOULD_STOP) !== 0,
          });
          if (rax === null) {
            this.x86.fault = { vector: '#PF', rip: addr, bytes: [], message: `${name}() was handed an address it cannot access` };
            this.oops(t);
            return;
          }
          this.x86.setReg(Reg.RAX, BigInt.asUintN(64, rax));
          return this.ret();
        }
        if (name !== undefined && name !== 'nested_call_ret' && this.opts.hooks?.service?.(this, name)) return;
        this.x86.fault = { vector: '#UD', rip: addr, bytes: [], message: `call into the services window at 0x${addr.toString(16)}` };
        this.oops(t);
    }
  }

  private switchOutIfOthers(): void {
    if (this.atomicDepth > 0) return; // schedule()/cond_resched() under a spinlock: no switch
    if (this.othersRunnable()) this.switchOut(TaskState.Runnable);
  }

  /**
   * The ftrace trampoline: the site pushed ip+5; [rsp] after it is the traced function's caller. `list`:
   * the site calls ftrace_ops_list_func (several ops match it), else its lone ops' own trampoline. The
   * other users' handlers run first (ftrace-trampoline.ts), livepatch's last: its ip change is what the
   * trampoline returns to.
   */
  private ftraceCaller(list: boolean): void {
    const retToBody = this.x86.pop64();
    if (Number.isNaN(retToBody)) {
      if (this.current) this.oops(this.current);
      return;
    }
    const ip = retToBody - 5;
    const parentIp = this.km.readU64(this.x86.getRegNum(Reg.RSP));
    // preempt_disable_notrace(): the handlers are an RCU-sched read-side critical section. Nothing on this
    // CPU can interleave with them, but the coordinator thread can: PreemptCount tells it we are inside.
    this.pcpu.set(PcpuField.PreemptCount, 1);
    const users = this.trampoline.usersOf(ip, list);
    const task = this.current;
    if (users & ~FTRACE_USER_KLP) {
      this.trampoline.run(ip, parentIp, users);
      if (this.current !== task) return; // a kprobe handler faulted: the oops killed the task
    }
    const hook = this.opts.hooks?.ftrace;
    if (!hook || !(users & FTRACE_USER_KLP)) {
      this.x86.rip = retToBody;
      this.pcpu.set(PcpuField.PreemptCount, 0);
      return;
    }
    this.handlerEntries++;
    const next = hook(this, ip, parentIp);
    if (next === HANDLER_PENDING) {
      this.handlerPending = true;
      this.endSlice = true;
      return;
    }
    this.x86.rip = next;
    this.pcpu.set(PcpuField.PreemptCount, 0);
  }

  private finishHandler(): void {
    const resume = this.opts.hooks?.ftraceResume;
    this.x86.rip = resume ? resume(this) : this.x86.rip;
    this.handlerPending = false;
    this.pcpu.set(PcpuField.PreemptCount, 0);
    // preempt_enable_notrace(): the read side is over, which is a quiescent state for RCU-sched. A CPU
    // that calls a traced function in a tight loop is inside the handler at most slice boundaries, so
    // without this a grace period could wait for it indefinitely.
    this.pcpu.add(PcpuField.RcuQs, 1);
  }

  /**
   * One pass of the idle task's loop, up to where do_idle() ends: the CPU has just run out of work, or a
   * reschedule IPI pulled it out of its idle wait. (Not on every wake-up of the CPU thread: in the kernel
   * an interrupt that sets no need_resched returns to the inner idle loop, before klp_update_patch_state.)
   */
  idleLoop(): void {
    this.opts.hooks?.idle?.(this);
  }

  /**
   * The current task's call chain at the entry of a traced function (inside the ftrace handler), into
   * `frames`: the traced function's pc, then the return addresses into its callers, innermost first. The
   * ground truth of the consistency check, so it is the ORC walk whatever the machine's reliable unwinder
   * is: exact through frameless functions. (A function objtool could not follow ends the chain there: what
   * is above it is not seen.) Empty when no task runs here. The caller owns `frames` and reuses it: the
   * check runs at every redirected call, and a reliable walk allocates nothing.
   */
  callChain(tracedIp: number, frames: FrameBuffer): void {
    const t = this.current;
    if (!t) {
      frames.length = 0;
      return;
    }
    // The site has run: the traced function's body has not, so its CFA is the entry's (rsp + 8).
    unwindOrcInto(
      this.km,
      this.orc,
      tracedIp + FTRACE_SITE_SIZE,
      this.x86.getRegNum(Reg.RSP),
      this.x86.getRegNum(Reg.RBP),
      t.stackBase,
      t.stackTop,
      frames,
    );
  }

  /** The current task's call chain inside a service: [rsp] is the return address into its caller. */
  private serviceCallChain(t: LocalTask): { frames: number[]; reliable: boolean } {
    const rsp = this.x86.getRegNum(Reg.RSP);
    const w = unwindOrc(this.km, this.orc, {
      rip: this.km.readU64(rsp),
      rsp: rsp + 8,
      rbp: this.x86.getRegNum(Reg.RBP),
      stackBase: t.stackBase,
      stackTop: t.stackTop,
      regs: false,
    });
    return { frames: w.frames, reliable: w.reliable };
  }

  /** Is this CPU inside the ftrace handler (between its two halves)? */
  inHandler(): boolean {
    return this.handlerPending;
  }

  /** Accounts simulated time for work the host does on the CPU's behalf (the handler: time-model.ts). */
  charge(ns: number): void {
    this.clock += ns;
  }

  private format(fmtArg: number): string {
    let i = fmtArg + 1;
    const fmt = this.km.readCString(Number(BigInt.asUintN(32, this.arg(fmtArg))));
    return vsprintf(fmt, {
      next: () => {
        if (i < 6) return BigInt.asUintN(64, this.arg(i++));
        // Arguments past the sixth are on the stack, above the return address.
        const v = this.x86.readU64(this.x86.getRegNum(Reg.RSP) + 8 * (i++ - 5));
        return BigInt.asUintN(64, v);
      },
      str: (addr) => this.km.readCString(Number(BigInt.asUintN(32, addr))),
    });
  }

  private seqAppend(t: LocalTask, _m: number, s: string): void {
    t.seq = (t.seq + s).slice(-4096);
  }

  /** printk: a trailing newline ends the log line; KERN_<LEVEL> prefixes are dropped. */
  printk(text: string): void {
    const clean = text.replace(/\x01[0-7c]/g, '');
    this.logLine += clean;
    let nl: number;
    while ((nl = this.logLine.indexOf('\n')) >= 0) {
      this.log(this.logLine.slice(0, nl));
      this.logLine = this.logLine.slice(nl + 1);
    }
  }

  log(text: string): void {
    this.emit({ type: 'log', text });
  }

  // --- faults ------------------------------------------------------------------------------------------

  /** An invariant broke on this CPU (while running the current task, if any). */
  violation(check: string, message: string, addr?: number): void {
    this.global.add(GlobalField.Violations, 1);
    this.emit({ type: 'violation', check, message, pid: this.current?.spec.pid, addr });
  }

  /** A fault kills the task (do_exit after the oops), and counts as a violation of the run. */
  private oops(t: LocalTask): void {
    const f = this.x86.fault;
    if (!f) return;
    const dieCounter = this.global.add(GlobalField.DieCounter, 1) + 1;
    const tainted = printTainted(taintMask(this.global));
    for (const line of oopsLines(f, {
      cpu: this.cpu,
      pid: t.spec.pid,
      comm: t.spec.comm,
      where: this.kallsyms.format(f.rip),
      dieCounter,
      tainted,
      release: this.version().utsRelease,
      code: showOpcodes(this.km, f.rip),
      stack: stackOf(this.km.layout, t.spec.slot),
    }))
      this.log(line);
    // oops_end(): the kernel is tainted D only after the oops has been printed
    addTaint(this.global, Taint.Die);
    this.emit({
      type: 'fault',
      vector: f.vector,
      rip: f.rip,
      addr: f.addr,
      bytes: hex(f.bytes),
      message: f.message,
      pid: t.spec.pid,
      comm: t.spec.comm,
    });
    this.global.add(GlobalField.Violations, 1);
    this.x86.fault = null;
    t.ctx = null;
    this.switchOut(TaskState.Dead);
  }
}
