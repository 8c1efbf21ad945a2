/**
 * The machine as the coordinator sees it: kernel memory, kallsyms, the loader, the CPUs (worker threads
 * or lockstep), tasks, simulated time, code patching and the event stream. The livepatch core (#3) and
 * the scenario runner sit on top of this.
 *
 * The coordinator is one actor on the main thread: everything it does is serialised (async functions
 * awaited one at a time, like work under klp_mutex). It never blocks its thread; it awaits the platform.
 *
 * Events: CPU events arrive in batches (worker mode) or one by one (lockstep) and are stamped with `seq`
 * here, in arrival order, together with the coordinator's own: `seq` is strictly increasing on events$.
 */
import { Observable, Subject } from 'rxjs';
import { KernelMemory, PERM_R, PERM_W } from '../mem/kernel-memory';
import { DEFAULT_MACHINE, MAX_CPUS, MachineConfig, stackOf } from '../mem/layout';
import { Kallsyms } from '../mem/kallsyms';
import {
  CpuMode,
  cpuGone,
  EVENTS_OFF_CALL_REDIRECT,
  EVENTS_OFF_TASK_STATE,
  GlobalField,
  GlobalView,
  KERNEL_FEATURE_COND_RESCHED_SWITCH,
  PcpuField,
  PercpuView,
} from '../mem/percpu';
import { REQ_POSTED, REQ_TAKEN, taskEnded, TaskField, TaskState, TaskView, TIF_SHOULD_STOP } from '../mem/task-struct';
import type { CpuHooks, CpuHost } from '../kernel/cpu-host';
import type { EventBody, RawEvent, SimEvent } from '../kernel/events';
import { KernelLoader } from '../kernel/loader';
import { END_OF_TIME_NS, NEVER, NO_WAIT, SimClock } from '../kernel/sim-clock';
import { KernelVersion } from '../kernel/kernel-version';
import { ReliableUnwinder, Unwinder } from '../kernel/stack-walk';
import { isColdPart } from '../kernel/orc-tables';
import { textPokeBp } from '../kernel/text-poke';
import { FtraceCore } from '../kernel/ftrace-ops';
import { Kprobes } from '../kernel/kprobes';
import { KprobeEvents } from '../kernel/kprobe-events';
import { FunctionTracer } from '../kernel/function-tracer';
import { serviceAt } from '../kernel/services';
import { synchronizeRcu } from '../kernel/rcu';
import type { ActionPos, TaskAction, TaskKind, TaskSpec } from '../kernel/task-program';
import { CoordinatorService, readServiceArgs, serviceOfRequest } from '../kernel/service-request';
import type { TaskReply } from '../kernel/task-request';
import type { KernelCore } from '../kernel/kernel-core';
import type { TaskHandle } from '../kernel/task-handle';
import type { CpuPlatform } from './cpu-platform';
import { LockstepCpus } from './lockstep-cpus';
import { WorkerCpus } from './worker-cpus';

export type { TaskHandle } from '../kernel/task-handle';

export interface MachineOptions {
  cpus?: number;
  seed?: number;
  deterministic?: boolean;
  maxTasks?: number;
  timeslice?: number;
  /** The reliable stack unwinder the livepatch stack check uses (CONFIG_UNWINDER_*). Default orc. */
  unwinder?: Unwinder;
  /** The kernel release whose behaviour the machine follows (`kernel_version:`). Default 6.12. */
  kernelVersion?: KernelVersion;
  /**
   * cond_resched() switches the current task's patch state when its stack is clean (klp_sched_try_switch(),
   * kernels from 6.4). Default false, as in 5.1; the kernel version table decides it.
   */
  condReschedSwitch?: boolean;
  /** CPU hooks: a module path exporting createCpuHooks (workers) — the same module is required in lockstep. */
  hooksModule?: string;
  /** Worker threads running the CPUs (M:N, src/coordinator/worker-cpus.ts); default one per host core. */
  cpuThreads?: number;
  /**
   * Event types the CPUs do not emit: `task.state` (the scheduler's churn, two events per context switch)
   * and `call.redirect` (sampled, but posted from a CPU thread at every slice that has one). Default none;
   * a caller that never reads them (a stress run) turns them off, as an unused tracepoint is off in the
   * kernel.
   */
  eventsOff?: readonly QuietEventType[];
}

/** The event types a machine can leave out (MachineOptions.eventsOff), and their GlobalField.EventsOff bits. */
export type QuietEventType = 'task.state' | 'call.redirect';
const EVENTS_OFF_BIT: Record<QuietEventType, number> = {
  'task.state': EVENTS_OFF_TASK_STATE,
  'call.redirect': EVENTS_OFF_CALL_REDIRECT,
};

export interface SpawnRequest {
  name: string;
  run: TaskAction[];
  cpu?: number;
  once?: boolean;
  /** Default `user`. */
  kind?: TaskKind;
  capture?: boolean;
}

/**
 * Serves a task's request (src/kernel/task-request.ts): `from` asks for `action` at simulated time `atNs`.
 * Synchronous, so a lockstep run stays a function of its seed; `ready`, if given, is awaited (on worker
 * threads) before the task gets its answer — e.g. until a new task has reached its CPU.
 */
export type TaskRequestHandler = (from: TaskHandle, action: TaskAction, atNs: number) => { reply: TaskReply; ready?: Promise<void> };

/**
 * Serves a kernel service a task called from its code (src/kernel/service-request.ts), with the
 * argument registers. As TaskRequestHandler; `null` defers the answer: whoever takes the request up
 * answers it later with Machine.replyService() (klp_enable_patch(), which the module loader runs).
 */
export type ServiceRequestHandler = (
  from: TaskHandle,
  service: CoordinatorService,
  args: bigint[],
  atNs: number,
) => { reply: TaskReply; ready?: Promise<void> } | null;

/** What a service nothing serves returns: the kernel's "function not implemented". */
const ENOSYS = 38;

export class SimError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SimError';
  }
}

/** khungtaskd's default report threshold (CONFIG_DEFAULT_HUNG_TASK_TIMEOUT, 120 s), in ns. */
const HUNG_TASK_TIMEOUT_NS = 120e9;

/** Real-time bound on any single wait of the coordinator (IPI acks, task stops). */
const WAIT_MS = 5_000;

export class Machine implements KernelCore {
  readonly km: KernelMemory;
  readonly kallsyms: Kallsyms;
  readonly loader: KernelLoader;
  /** The machine's reliable unwinder (the coordinator's copy of the ORC tables lives in it). */
  readonly unwinder: ReliableUnwinder;
  readonly version: KernelVersion;
  readonly clock: SimClock;
  readonly global: GlobalView;
  readonly pcpus: PercpuView[];
  readonly tasks: TaskHandle[] = [];
  readonly events$: Observable<SimEvent>;
  /** The ftrace core: every ftrace_ops (livepatch, the function tracer, kprobes) and what each site calls. */
  readonly ftrace: FtraceCore;
  /** kprobes on ftrace sites (register_kprobe()), and the kprobe events of tracefs. */
  readonly kprobes: Kprobes;
  readonly kprobeEvents: KprobeEvents;
  /** tracefs's function tracer (current_tracer, set_ftrace_filter, tracing_on, trace). */
  readonly tracer: FunctionTracer;
  private readonly subject = new Subject<SimEvent>();
  private platform!: CpuPlatform;
  private seq = 0;
  private nextPid = 1;
  private nextCpu = 0;
  /** The coordinator's simulated time (ns). */
  now = 0;
  private pokeChain: Promise<void> = Promise.resolve();
  private readonly timers: { at: number; fn: () => Promise<void> }[] = [];
  private disposed = false;
  readonly errors: Error[] = [];
  /** Set by abort(): every wait of the coordinator ends at once and rethrows it. */
  private aborted: Error | null = null;
  /** Who serves tasks' requests (the scenario runner); without one, a request is answered with an error. */
  taskRequests: TaskRequestHandler | null = null;
  serviceRequests: ServiceRequestHandler | null = null;
  private requestsSeen = 0;
  /** The run list of every task whose slot is still its own, by pid (requests name an action in it). */
  private readonly specs = new Map<number, TaskSpec>();

  private constructor(
    readonly config: MachineConfig,
    readonly options: MachineOptions,
  ) {
    this.km = KernelMemory.create(config);
    this.kallsyms = new Kallsyms(this.km);
    this.loader = new KernelLoader(this.km, this.kallsyms);
    this.loader.registerServices();
    this.unwinder = new ReliableUnwinder(this.km, this.kallsyms, options.unwinder);
    // objtool runs on every object as it is built: its warnings are the build's, once per object.
    this.loader.onLoad = (obj) => {
      for (const sym of obj.symbols.values()) {
        // A cold part (`F.cold`) is followed with its function, found in kallsyms (published before onLoad).
        if (sym.kind !== 'func' || isColdPart(sym.name)) continue;
        const w = this.unwinder.orc.function(sym.addr, sym.size, sym.name, obj.name).warning;
        if (w) this.log(`${obj.name}.o: warning: objtool: ${w}`);
      }
    };
    this.clock = new SimClock(this.km);
    this.global = new GlobalView(this.km);
    this.version = options.kernelVersion ?? KernelVersion.DEFAULT;
    this.global.set(GlobalField.KernelVersion, this.version.code);
    // Explicitly, or as the release has it (klp_sched_try_switch(), 6.4).
    if (options.condReschedSwitch ?? this.version.hasCondReschedSwitch)
      this.global.set(GlobalField.KernelFeatures, KERNEL_FEATURE_COND_RESCHED_SWITCH);
    this.global.set(
      GlobalField.EventsOff,
      (options.eventsOff ?? []).reduce((bits, type) => bits | EVENTS_OFF_BIT[type], 0),
    );
    this.pcpus = Array.from({ length: config.cpus }, (_, i) => new PercpuView(this.km, i));
    this.events$ = this.subject.asObservable();
    this.global.coordHorizon = 0n;
    this.ftrace = new FtraceCore({
      km: this.km,
      kallsyms: this.kallsyms,
      version: this.version,
      textPoke: (addr, bytes, protocol) => this.textPoke(addr, bytes, protocol),
      synchronizeRcu: (reason) => synchronizeRcu(this, reason),
      emit: (ev) => this.emit(ev),
    });
    this.kprobes = new Kprobes(this.ftrace, this);
    this.kprobeEvents = new KprobeEvents(this.kprobes);
    this.tracer = new FunctionTracer(this.ftrace, {
      kallsyms: this.kallsyms,
      cpus: config.cpus,
      emit: (ev) => this.emit(ev),
      comm: (pid) => (pid === 0 ? '<idle>' : ([...this.tasks].reverse().find((t) => t.pid === pid)?.comm ?? '<...>')),
      symbol: (addr, offset) => this.traceSymbol(addr, offset),
      kprobeEvent: (slot) => this.kprobeEvents.nameOfSlot(slot),
    });
  }

  /** `%ps` / `%pS` of an address in a trace line: `name [mod]` / `name+0x0/0x20 [mod]`; a service by its name. */
  private traceSymbol(addr: number, offset: boolean): string {
    const sym = this.kallsyms.symbolAt(addr);
    if (!sym) return serviceAt(addr) ?? `0x${addr.toString(16)}`;
    if (offset) return this.kallsyms.format(addr);
    return sym.object === 'vmlinux' ? sym.name : `${sym.name} [${sym.object}]`;
  }

  static async create(options: MachineOptions = {}): Promise<Machine> {
    const config: MachineConfig = {
      ...DEFAULT_MACHINE,
      cpus: options.cpus ?? DEFAULT_MACHINE.cpus,
      maxTasks: options.maxTasks ?? DEFAULT_MACHINE.maxTasks,
    };
    // Refused before anything is allocated: 100 000 CPUs would exhaust the host rather than fail.
    if (!Number.isInteger(config.cpus) || config.cpus < 1 || config.cpus > MAX_CPUS)
      throw new RangeError(`cpus must be between 1 and ${MAX_CPUS}, got ${config.cpus}`);
    const m = new Machine(config, options);
    const onEvents = (batch: RawEvent[]): void => m.ingest(batch);
    if (options.deterministic) {
      const hooks = options.hooksModule
        ? // eslint-disable-next-line @typescript-eslint/no-require-imports
          (require(options.hooksModule) as { createCpuHooks(host: CpuHost): CpuHooks }).createCpuHooks
        : undefined;
      m.platform = new LockstepCpus({
        cpus: config.cpus,
        buffers: m.km.buffers,
        seed: options.seed ?? 1,
        onEvents,
        hooks,
        timeslice: options.timeslice,
      });
    } else {
      m.platform = new WorkerCpus({
        cpus: config.cpus,
        buffers: m.km.buffers,
        onEvents,
        onError: (cpu, err) => {
          m.errors.push(err);
          const rip = m.pcpus[cpu].get(PcpuField.LastRip) >>> 0;
          const message = `CPU ${cpu} thread died: ${err.message} (last RIP ${m.kallsyms.format(rip)})`;
          m.violation('cpu-thread', message);
          // Its tasks and acknowledgements are gone: whatever the coordinator waits for, it waits in vain.
          m.abort(new SimError(message));
        },
        hooksModule: options.hooksModule,
        timeslice: options.timeslice,
        threads: options.cpuThreads,
      });
    }
    await m.platform.start();
    return m;
  }

  get cpus(): number {
    return this.config.cpus;
  }

  get lockstep(): LockstepCpus | null {
    return this.platform instanceof LockstepCpus ? this.platform : null;
  }

  /** The worker-thread platform, when the CPUs run on worker threads. */
  get workers(): WorkerCpus | null {
    return this.platform instanceof WorkerCpus ? this.platform : null;
  }

  // --- events -------------------------------------------------------------------------------------------

  /**
   * Numbers each event and passes it on. The batch's objects are this stream's own (a structured clone
   * from a worker's port, or built by emit() for this call), so `seq` is added in place rather than by
   * copying every event; it lands last, where a copy put it, so the JSON of an event is unchanged.
   */
  private ingest(batch: RawEvent[]): void {
    for (const ev of batch) {
      (ev as SimEvent).seq = this.seq++;
      this.subject.next(ev as SimEvent);
    }
  }

  emit(ev: EventBody): void {
    this.ingest([{ t: this.now, cpu: null, ...ev }]);
  }

  log(text: string): void {
    this.emit({ type: 'log', text });
  }

  /** An invariant found broken by the coordinator (a checker) rather than by a CPU; `pos`: the scenario's place. */
  violation(check: string, message: string, pos?: ActionPos): void {
    this.global.add(GlobalField.Violations, 1);
    this.emit({ type: 'violation', check, message, ...(pos ? { pos } : {}) });
  }

  /**
   * Ends every wait of the coordinator now, with `err` (first one wins): a CPU thread died or stopped
   * answering, so no acknowledgement or horizon it owes will come.
   */
  abort(err: Error): void {
    if (!this.aborted) this.aborted = err;
    this.clock.bumpEpoch();
  }

  get abortedWith(): Error | null {
    return this.aborted;
  }

  private throwIfAborted(): void {
    if (this.aborted) throw this.aborted;
  }

  // --- time ---------------------------------------------------------------------------------------------

  /** Lets simulated time pass: the coordinator's next timer is at `now + ms`. */
  async sleep(ms: number): Promise<void> {
    await this.sleepUntil(this.now + Math.round(ms * 1_000_000));
  }

  /**
   * Lets simulated time pass until `ns`, running the coordinator's timers that fall due on the way (the
   * kernel's delayed work, e.g. the transition retry), each at its own time.
   */
  async sleepUntil(ns: number, realTimeoutMs = 600_000): Promise<void> {
    // Past the end of simulated time the clocks would stop (sim-clock.ts): the run cannot go on. A
    // scenario's steps are checked against it; sleeps in callbacks and module init/exit, which run as
    // often as the steps make them, are caught here, on both platforms alike.
    if (ns > END_OF_TIME_NS) {
      throw new SimError(
        `simulated time cannot pass ${END_OF_TIME_NS} ns (2^53 - 1, about 104 days), where klpsim's clocks end: a sleep from ${this.now} ns would end at ${ns} ns`,
      );
    }
    for (;;) {
      const next = this.timers[0];
      if (!next || next.at > ns) break;
      this.timers.shift();
      await this.advanceTo(next.at, realTimeoutMs);
      await next.fn();
    }
    await this.advanceTo(ns, realTimeoutMs);
  }

  /** Runs `fn` on the coordinator when simulated time reaches `at` (schedule_delayed_work()). */
  schedule(at: number, fn: () => Promise<void> | void): void {
    const t = { at, fn: async (): Promise<void> => fn() };
    const i = this.timers.findIndex((x) => x.at > at);
    if (i < 0) this.timers.push(t);
    else this.timers.splice(i, 0, t);
  }

  private async advanceTo(ns: number, realTimeoutMs: number): Promise<void> {
    if (ns <= this.now) return;
    const target = BigInt(ns);
    // The CPUs wake us when the last horizon below the target crosses it (sim-clock.ts); set before our
    // horizon moves, which is what lets them run up to it.
    this.global.set64(GlobalField.CoordWaitFor, target);
    this.clock.setCoordHorizon(target);
    let ok: boolean;
    try {
      ok = await this.platform.waitUntil(
        () => this.pollRequests() || (this.clock.minHorizon(-1, false) >= target && !this.ipiPending()),
        realTimeoutMs,
        true,
      );
    } finally {
      this.global.set64(GlobalField.CoordWaitFor, NO_WAIT);
    }
    this.throwIfAborted();
    if (!ok && this.clock.minHorizon(-1, false) < target && !this.lockstep) {
      throw new SimError(`simulated time did not reach ${ns} ns within ${realTimeoutMs} ms of real time`);
    }
    this.now = ns;
    this.clock.setCoordHorizon(target);
    await this.platform.drainEvents();
  }

  /**
   * A bounded wait for a condition that CPUs make true (their progress, acknowledgements). While the
   * coordinator waits it holds no simulated time back — the CPUs run on, as they do while a kernel
   * thread sleeps on a completion — and afterwards its clock catches up with theirs.
   */
  async waitFor(pred: () => boolean, what: string, timeoutMs = WAIT_MS): Promise<void> {
    let ok: boolean;
    try {
      ok = await this.platform.waitUntil(
        () => this.pollRequests() || pred(),
        timeoutMs,
        false,
        () => this.followCpus(pred),
      );
    } finally {
      this.now = Math.max(this.now, Number(this.global.coordHorizon));
      this.clock.setCoordHorizon(BigInt(this.now));
      await this.platform.drainEvents();
    }
    this.throwIfAborted();
    if (!ok) throw new SimError(`timed out after ${timeoutMs} ms waiting for ${what}`);
  }

  /**
   * Serves the tasks' requests (src/kernel/task-request.ts) from inside every wait: waits are where
   * simulated time moves, and a task with an open request holds it, so each is served at its time.
   * Returns whether the machine was aborted (the waits' own first condition).
   */
  private pollRequests(): boolean {
    if (this.aborted) return true;
    const n = this.global.get(GlobalField.TaskRequests);
    if (n === this.requestsSeen) return false;
    this.requestsSeen = n;
    for (const h of this.tasks) {
      if (!h || h.view.get(TaskField.Pid) !== h.pid || h.view.get(TaskField.ReqState) !== REQ_POSTED) continue;
      h.view.set(TaskField.ReqState, REQ_TAKEN);
      this.serveRequest(h);
    }
    return this.aborted !== null;
  }

  /** The answer to a service request whose handler deferred it. */
  replyService(h: TaskHandle, ret: number): void {
    this.platform.replyTask(h.cpu, h.pid, { ret });
  }

  private serveRequest(h: TaskHandle): void {
    const service = serviceOfRequest(h.view.get(TaskField.ReqAction));
    if (service !== undefined) {
      this.serveServiceRequest(h, service);
      return;
    }
    const action = this.specs.get(h.pid)?.run[h.view.get(TaskField.ReqAction)];
    const at = Number(h.view.get64(TaskField.ReqClock));
    let out: ReturnType<TaskRequestHandler>;
    try {
      out =
        action && this.taskRequests
          ? this.taskRequests(h, action, at)
          : { reply: { error: 'nothing serves task requests on this machine' } };
    } catch (e) {
      // A request the machine cannot grant (no free task slot) ends the run, as it does from a step.
      this.abort(e instanceof Error ? e : new SimError(String(e)));
      return;
    }
    const deliver = (): void => this.platform.replyTask(h.cpu, h.pid, out.reply);
    if (out.ready && !this.lockstep) out.ready.then(deliver, (e: unknown) => this.abort(e instanceof Error ? e : new SimError(String(e))));
    else deliver();
  }

  private serveServiceRequest(h: TaskHandle, service: CoordinatorService): void {
    const at = Number(h.view.get64(TaskField.ReqClock));
    let out: ReturnType<ServiceRequestHandler>;
    try {
      out = this.serviceRequests ? this.serviceRequests(h, service, readServiceArgs(h.view), at) : { reply: { ret: -ENOSYS } };
    } catch (e) {
      this.abort(e instanceof Error ? e : new SimError(String(e)));
      return;
    }
    if (out === null) return;
    const { reply, ready } = out;
    const deliver = (): void => this.platform.replyTask(h.cpu, h.pid, reply);
    if (ready && !this.lockstep) ready.then(deliver, (e: unknown) => this.abort(e instanceof Error ? e : new SimError(String(e))));
    else deliver();
  }

  /**
   * While the coordinator waits, its horizon follows the CPUs that are running, so they are not held
   * back; only when none is running (and the condition still does not hold) may time skip ahead to the
   * next wake-up, as it would while the whole machine idles. A CPU with an IPI not yet acknowledged is
   * not idle: it has work now, so time must not skip past it (else an idle machine's text_poke_bp()
   * would wait, in simulated time, until the next task wakes: found with a task in a 60 s msleep). The
   * acknowledgements may all arrive between the waiter's check of `pred` and this poll; so a skip first
   * checks `pred` again, after reading the acknowledgement words: the last one it saw is also seen there.
   */
  private followCpus(pred: () => boolean): void {
    let running = NEVER;
    let all = NEVER;
    for (const p of this.pcpus) {
      const h = p.get64(PcpuField.Horizon);
      if (p.get(PcpuField.Mode) === CpuMode.Running) {
        const c = p.get64(PcpuField.Clock);
        if (c < running) running = c;
      }
      if (h < all) all = h;
    }
    const target = running < NEVER ? running : this.ipiPending() || pred() ? NEVER : all;
    if (target < NEVER && target > this.global.coordHorizon) this.clock.setCoordHorizon(target);
  }

  // --- tasks --------------------------------------------------------------------------------------------

  /**
   * A task_struct and stack for a new task: a dead task's, as the kernel's allocators hand freed ones out
   * again, else a never-used slot. A dead slot is free once its State word reads Dead: the CPU that ran
   * the task stores Dead as its last write to the slot, after dropping the task from its run queue
   * (cpu-host.ts switchOut()), so nothing on that CPU touches the slot again.
   */
  private freeSlot(name: string): number {
    const dead = this.tasks.findIndex((t) => t.view.get(TaskField.State) === TaskState.Dead);
    if (dead >= 0) return dead;
    if (this.tasks.length < this.config.maxTasks) return this.tasks.length;
    throw new SimError(`cannot create task ${name}: ${this.config.maxTasks} tasks are alive, the most this machine holds`);
  }

  async spawn(req: SpawnRequest): Promise<TaskHandle> {
    const { handle, added } = this.createTask(req, this.now);
    await added;
    return handle;
  }

  /**
   * spawn()'s synchronous part: the task exists when this returns; `added` resolves once its CPU has it
   * (at once in lockstep, where the CPUs are on this thread). `startNs`: the simulated time it starts at.
   */
  createTask(req: SpawnRequest, startNs: number): { handle: TaskHandle; added: Promise<void> } {
    const cpu = req.cpu ?? this.nextCpu % this.cpus;
    if (cpu < 0 || cpu >= this.cpus) throw new SimError(`task ${req.name}: no CPU ${cpu} (the machine has ${this.cpus})`);
    const slot = this.freeSlot(req.name);
    if (req.cpu === undefined) this.nextCpu++;
    const pid = this.nextPid++;
    const view = new TaskView(this.km, slot);
    // Nothing reads a free slot (see freeSlot()); the CPU gets the task by message (addTask), after this.
    view.clear();
    const { base, top } = stackOf(this.km.layout, slot);
    // The stack is mapped read-write; the page below it stays unmapped (the guard page).
    this.km.setPerms(base, top - base, PERM_R | PERM_W);
    view.set(TaskField.Pid, pid);
    view.set(TaskField.Cpu, cpu);
    view.set(TaskField.Flags, 0);
    // klp_copy_process(): a new task takes its parent's patch_state. Its parent here is kthreadd (or the
    // shell), which sleeps outside any patched function and so is switched at the transition's first
    // try: the new task starts in klp_target_state — KLP_UNDEFINED when no transition runs. (Found by
    // `klpsim stress --seed 2 --deterministic`: a module's kthread started mid-transition had no state.)
    view.set(TaskField.PatchState, this.global.get(GlobalField.KlpTargetState));
    view.set(TaskField.StackBase, base);
    view.set(TaskField.StackTop, top);
    view.set(TaskField.SavedRsp, top);
    view.set(TaskField.Slot, slot);
    view.comm = req.name;
    view.set(TaskField.State, TaskState.Runnable);
    const handle: TaskHandle = { pid, slot, cpu, comm: req.name, kind: req.kind ?? 'user', view };
    const previous = this.tasks[slot];
    if (previous) this.specs.delete(previous.pid);
    this.tasks[slot] = handle;
    const spec: TaskSpec = {
      slot,
      pid,
      comm: req.name,
      cpu,
      run: req.run,
      once: req.once ?? false,
      kind: req.kind ?? 'user',
      capture: req.capture,
    };
    this.specs.set(pid, spec);
    // The CPU's thread wakes itself when the task reaches it (cpu-thread.ts addTask()).
    const added = this.platform.addTask(cpu, spec, startNs);
    return { handle, added };
  }

  /** kthread_stop(): the task finishes the pass it is in, then ends. */
  async stopTask(pid: number): Promise<void> {
    const t = this.requestStop(pid, this.now);
    if (!t) return;
    // The thread may be asleep already, or still on its way into the sleep (runnable, not yet run).
    let blocked: string | null = null;
    await this.waitFor(
      () => taskEnded(t.view, t.pid) || (blocked = this.blockedStop(t)) !== null,
      `task ${t.comm} (pid ${pid}) to stop`,
      30_000,
    );
    if (blocked !== null) throw new SimError(blocked);
  }

  /**
   * A kthread_stop() that the kernel would leave blocked past khungtaskd's report: the thread is inside an
   * uninterruptible sleep (msleep()) that wake_up_process() does not end, and it ends more than
   * hung_task_timeout_secs (120 s) from now. The kernel's caller (rmmod, in D state) would wait it out —
   * msleep(-19000) is 49 days — and khungtaskd would print "blocked for more than 120 seconds". Simulated
   * time moves at emulation speed while other tasks run, so that wait could take days of real time: klpsim
   * reports it at once instead (exit 1), with the time the thread would wake. Null when the wait is short.
   */
  private blockedStop(t: TaskHandle): string | null {
    const v = t.view;
    const uninterruptible = v.get(TaskField.InCall) !== 0 && v.get(TaskField.SleepInterruptible) === 0;
    if (v.get(TaskField.State) !== TaskState.Sleeping || !uninterruptible) return null;
    const waitNs = v.wakeNs - this.now;
    if (waitNs <= HUNG_TASK_TIMEOUT_NS) return null;
    return (
      `kthread_stop() of ${t.comm} (pid ${t.pid}) would block for ${(waitNs / 1e9).toFixed(3)} s: the thread sleeps in msleep() ` +
      `(uninterruptible) until ${(v.wakeNs / 1e9).toFixed(3)} s, past the kernel's hung-task report at ` +
      `${HUNG_TASK_TIMEOUT_NS / 1e9} s (hung_task_timeout_secs); klpsim does not simulate that wait`
    );
  }

  /**
   * kthread_stop()'s first half: asks the task to stop (at simulated time `atNs`) and returns it, or null
   * when it has ended already. The caller waits for its end.
   */
  requestStop(pid: number, atNs: number): TaskHandle | null {
    const t = this.tasks.find((x) => x.pid === pid);
    if (!t || taskEnded(t.view, t.pid)) return null;
    t.view.orFlags(TIF_SHOULD_STOP);
    // wake_up_process(): a thread sleeping between passes or in an interruptible sleep wakes now (a
    // schedule_timeout_interruptible() returns early; msleep_interruptible() with no signal sleeps on);
    // one inside msleep() keeps sleeping its whole time, and kthread_stop() waits.
    // Under the task lock, as try_to_wake_up() holds p->pi_lock: the CPU may be switching the task (for
    // a few hundred ns: the CPU never blocks while it holds the lock). Bounded, for a CPU thread that died.
    let locked = false;
    for (let i = 0; i < 1_000_000 && !locked; i++) locked = t.view.tryLock();
    const sleeping = t.view.get(TaskField.InCall) === 0 || t.view.get(TaskField.SleepInterruptible) !== 0;
    const wake = t.view.get(TaskField.State) === TaskState.Sleeping && sleeping && t.view.wakeNs > atNs;
    if (wake) t.view.wakeNs = atNs;
    if (locked) t.view.unlock();
    if (wake) this.kickCpu(t.view.get(TaskField.Cpu));
    // Lockstep polls for IPIs after an epoch bump; a CPU thread is woken by its own word. A thread between
    // passes or running sees TIF_SHOULD_STOP at its next pass end.
    this.clock.bumpEpoch();
    this.clock.wakeCpu(t.view.get(TaskField.Cpu));
    return t;
  }

  // --- code patching ------------------------------------------------------------------------------------

  /** Sends a sync-core IPI to every running CPU and waits (bounded) until each has acknowledged. */
  async syncCore(): Promise<void> {
    const started = this.now;
    const targets = this.pcpus.filter((p) => !cpuGone(p.get(PcpuField.Mode)));
    const gens = targets.map((p) => p.add(PcpuField.SyncReq, 1) + 1);
    for (const p of targets) this.clock.wakeCpu(p.cpu);
    await this.waitFor(
      () => targets.every((p, i) => p.get(PcpuField.SyncAck) >= gens[i]),
      `sync-core IPI acknowledgements from CPUs ${targets.map((p) => p.cpu).join(',')}`,
    );
    this.emit({ type: 'ipi.sync_core', cpus: targets.length, waitedNs: this.now - started });
  }

  /**
   * wake_up_if_idle(): a reschedule IPI to `cpu` if it idles, so it goes once around its idle loop. Not
   * waited for here; simulated time cannot pass it (ipiPending()).
   */
  wakeUpIfIdle(cpu: number): void {
    const p = this.pcpus[cpu];
    if (p.get(PcpuField.Mode) !== CpuMode.Idle) return;
    p.add(PcpuField.ReschedReq, 1);
    this.clock.wakeCpu(cpu);
  }

  kickCpu(cpu: number): void {
    const p = this.pcpus[cpu];
    if (!p || cpuGone(p.get(PcpuField.Mode))) return;
    p.add(PcpuField.ReschedReq, 1);
    this.clock.wakeCpu(cpu);
  }

  /** Some live CPU has an IPI it has not acknowledged yet: it has work at the current time. */
  private ipiPending(): boolean {
    return this.pcpus.some((p) => {
      if (cpuGone(p.get(PcpuField.Mode))) return false;
      return p.get(PcpuField.SyncAck) < p.get(PcpuField.SyncReq) || p.get(PcpuField.ReschedAck) < p.get(PcpuField.ReschedReq);
    });
  }

  /** text_poke_bp() of `bytes` at `addr`; serialised like text_mutex. */
  textPoke(addr: number, bytes: readonly number[], protocol = true): Promise<void> {
    const run = async (): Promise<void> =>
      textPokeBp(
        {
          km: this.km,
          syncCore: () => this.syncCore(),
          emit: (ev) => this.ingest([ev]),
          now: () => this.now,
          symbolize: (a) => this.kallsyms.format(a),
        },
        addr,
        bytes,
        protocol,
      );
    const p = this.pokeChain.then(run, run);
    this.pokeChain = p.catch(() => undefined);
    return p;
  }

  violations(): number {
    return this.global.get(GlobalField.Violations);
  }

  /** Stops the CPUs, lets their last events in, completes events$. Idempotent. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    // StopAll first: a CPU our horizon's move wakes must see it before it runs another slice, whose
    // events would arrive after the run's count was taken.
    this.global.set(GlobalField.StopAll, 1);
    this.clock.setCoordHorizon(NEVER);
    this.clock.bumpEpoch();
    await this.platform.stop();
    this.subject.complete();
  }
}
