/**
 * The life of one worker thread running a *group* of CPUs (M:N execution: a thread per host core, not
 * per simulated CPU): run slices of their CpuHosts under the simulated-clock rules (sim-clock.ts), serve
 * IPIs between slices, sleep when none of them can go on, and yield to the thread's event loop every few
 * milliseconds so the control plane (comlink calls) is served and the batched events are posted.
 *
 * Inside a group the CPUs interleave as in lockstep mode: each pass runs one slice of the CPU furthest
 * behind in simulated time among those the clock rules let run. Between groups, synchronisation is
 * conservative (sim-clock.ts): every CPU's horizon is published after each of its slices, whichever
 * thread runs it, so a group sees the CPUs of other groups exactly as it sees its own.
 *
 * Sleeping: when no CPU of the group can go on, the group publishes in its leader's WaitFor word the
 * horizon it waits for and sleeps (Atomics.waitAsync, so the event loop still serves comlink) on its
 * leader's Wake word, which is bumped only by whoever changed something the group waits on: a horizon
 * crossing WaitFor, an IPI, a task or an answer for one of its CPUs, a stop. So a group with nothing
 * runnable costs nothing, and waits are bounded (WAIT_MS) only so that a lost wake-up would cost latency,
 * never a hang — and be counted (lateWakes), which the tests check stays 0.
 */
import { performance } from 'node:perf_hooks';
import type { MessagePort } from 'node:worker_threads';
import type { KernelMemoryBuffers } from '../mem/kernel-memory';
import { CpuMode, DEBUG_CPU_CRASH, DEBUG_CPU_HANG, GlobalField, PcpuField, PercpuView } from '../mem/percpu';
import { CpuHooks, CpuHost } from './cpu-host';
import type { RawEvent } from './events';
import { EventBatchWriter } from './event-batch';
import { NEVER, NO_WAIT, NS_PER_INSN, SimClock, WakeCounters, WINDOW_NS } from './sim-clock';
import type { TaskSpec } from './task-program';
import type { TaskReply } from './task-request';

export interface CpuThreadInit {
  /** The CPUs this thread runs, leader (the group's lowest CPU) first. */
  cpus: number[];
  buffers: KernelMemoryBuffers;
  eventPort: MessagePort;
  /** A module exporting `createCpuHooks(host): CpuHooks` (the livepatch layer), loaded in this thread. */
  hooksModule?: string;
  timeslice?: number;
}

/** Instructions per slice: short enough that IPIs are acknowledged within ~100 µs. */
const SLICE = 20_000;
/** Real time between yields to the event loop. */
const YIELD_MS = 4;
/**
 * How long an ftrace handler interrupted by a sync-core IPI stays interrupted, waiting for the rest of the
 * IPI burst (text_poke_bp() sends three in a row). The handler runs with interrupts enabled, so in the
 * kernel a CPU can take all three IPIs of one poke while it is inside it — which is why unregistering
 * ftrace ops must wait for an RCU grace period before the handler's data is freed.
 */
const IRQ_HOLD_MS = 1;
/** The bound of one sleep: a lost wake-up costs at most this; the heartbeat is kept well inside it. */
const WAIT_MS = 100;
/**
 * The bound of a sleep while a task of ours follows another CPU's horizon (a stop_task wait): wakes come
 * when a *group* horizon crosses our WaitFor, and that CPU may not hold its group's minimum, so such a
 * sleep polls (rare: kthread_stop() of a task on another CPU) and is not counted as a late wake.
 */
const FOLLOW_WAIT_MS = 1;
/**
 * The bound of a sleep held by the window (WaitFor includes SLACK): the others may need far more real
 * time than usual to move SLACK on (a slow stretch of their simulation, a descheduled thread), while ours
 * could already go on a little; so such a sleep looks again after this. Its running out counts as a late
 * wake only if the others had passed WaitFor itself, the point a wake was promised at.
 */
const SLACK_WAIT_MS = 2;
/** How long a wake that looks lost may still be on its way (see the check after a held sleep). */
const LATE_GRACE_MS = 50;
/** Events held before a batch is posted whatever else happens (bounds memory and latency). */
const MAX_BATCH = 512;
/** Real time between two heartbeats of a group's CPUs (the watchdog reports 3 s without one). */
const BEAT_MS = 100;
const WINDOW = Number(WINDOW_NS);
/**
 * A group whose running CPUs are held back by the window sleeps until the others are SLACK past the least
 * they must reach for one of them to go on, so that a wake buys a stretch of work rather than one slice.
 * Below WINDOW, so while it sleeps the others' minimum stays below its own least horizon: the actor with
 * the smallest horizon is elsewhere and can go on, and crosses WaitFor before it could need the sleeper.
 * (An idle CPU's wake-up is waited for exactly: an idle CPU goes on only once every other horizon has
 * passed its wake-up.)
 */
const SLACK = WINDOW / 2;
const NEVER_NUM = Number(NEVER);

export interface CpuThreadState {
  cpu: number;
  clock: number;
  retired: number;
  rip: number;
  mode: number;
  current: number;
}

/** What one group thread did (load-independent figures for the benchmark; lateWakes for the tests). */
export interface CpuThreadStats extends WakeCounters {
  cpus: number[];
  /** Slices run. */
  slices: number;
  /** Slices run right after one of the same CPU, without a pass over the group. */
  continued: number;
  /** Sleeps on the Wake word (not counting the short IRQ holds). */
  sleeps: number;
  /** Sleeps ended by a wake (the word moved) rather than the bound. */
  wakes: number;
  /** Wakes after which the group could still not go on, and slept again. */
  uselessWakes: number;
  /** Sleeps that ran out their bound and then found work: a wake-up that should have come and did not. */
  lateWakes: number;
  /** Real time (ms) spent asleep, and spent in the event loop at yields (comlink, posting events). */
  sleptMs: number;
  yieldMs: number;
  /** Event batches posted, the events in them, and the real time (ms) postMessage took. */
  batches: number;
  events: number;
  postMs: number;
}

export class CpuThread {
  readonly hosts: CpuHost[];
  private readonly clock: SimClock;
  private readonly events = new EventBatchWriter(MAX_BATCH);
  private stopping = false;
  private loop: Promise<void> | null = null;
  /** The horizon last published for each host (ns). */
  private readonly pub: Float64Array;
  /** The group horizon last published (PcpuField.GroupHorizon), and the lowest it held since. */
  private groupPub = NEVER_NUM;
  private groupLow = NEVER_NUM;
  private readonly leader: PercpuView;
  private readonly stats: CpuThreadStats;
  // The loop's words and its state between passes (fields: the loop is split into methods, see below).
  private readonly i32: Int32Array;
  private readonly wakeIdx: number;
  private readonly stopAllIdx: number;
  private readonly debugIdx: number;
  private readonly flushIdx: number;
  private readonly outside: PercpuView[] = [];
  /** The Wake value when IPIs were last looked for, and FlushReq when last seen. */
  private ipiSeen = Number.NaN;
  private flushSeen = 0;
  /** Per host: until when (real ms) an ftrace handler interrupted by an IPI stays held (IRQ_HOLD_MS). */
  private readonly irqUntil: Float64Array;
  /** Per host: whether an idle host has made its idle publication (mode, quiescent state) since it ran. */
  private readonly idleShown: Uint8Array;
  private lastBeat = 0;
  /** How the last sleep ended; cleared by the next progress. */
  private woke = Woke.None;
  /** The WaitFor of a held sleep that ran out its bound (kept published until the next slice). */
  private sleptFor = NEVER_NUM;
  /**
   * The Wake word's value the last sleep waited on: a sleep that ran out its bound was only a lost
   * wake-up if nobody has woken us since (a descheduled thread's bound can run out before a wake comes).
   */
  private sleptOn = 0;
  // What the last pass found (choose()), for the slice or the sleep that follows it.
  private outsideMin = NEVER_NUM;
  private bestLimit = NEVER_NUM;
  private need = NEVER_NUM;
  private needWindow = NEVER_NUM;
  private irqHold = false;
  private follow = false;
  private slack = false;

  constructor(private readonly init: CpuThreadInit) {
    this.hosts = init.cpus.map((cpu) => {
      const host = new CpuHost({
        cpu,
        buffers: init.buffers,
        emit: (ev) => this.buffer(ev),
        emitTaskState: (t, cpu, pid, comm, state, func) => {
          this.events.pushTaskState(t, cpu, pid, comm, state, func);
          this.buffered();
        },
        flushEvents: () => this.flush(),
        timeslice: init.timeslice,
      });
      host.pcpu.set64(PcpuField.Horizon, NEVER);
      return host;
    });
    this.clock = new SimClock(this.hosts[0].km);
    if (init.hooksModule) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const mod = require(init.hooksModule) as { createCpuHooks(host: CpuHost): CpuHooks };
      for (const h of this.hosts) h.setHooks(mod.createCpuHooks(h));
    }
    // Typed arrays of doubles: clocks pass the small-integer range at about 1.07 s, and an array of
    // small integers would then change its elements kind under the optimised code that reads it.
    this.pub = new Float64Array(this.hosts.length).fill(NEVER_NUM);
    this.irqUntil = new Float64Array(this.hosts.length);
    this.idleShown = new Uint8Array(this.hosts.length);
    const h0 = this.hosts[0];
    this.i32 = h0.km.i32;
    this.wakeIdx = h0.pcpu.index(PcpuField.Wake);
    this.stopAllIdx = h0.global.index(GlobalField.StopAll);
    this.debugIdx = h0.global.index(GlobalField.DebugCpuFault);
    this.flushIdx = h0.global.index(GlobalField.FlushReq);
    this.leader = this.hosts[0].pcpu;
    this.leader.set64(PcpuField.WaitFor, NO_WAIT);
    this.leader.set64(PcpuField.GroupHorizon, NEVER);
    this.leader.set(PcpuField.Active, init.cpus[0]);
    this.stats = {
      cpus: init.cpus,
      slices: 0,
      continued: 0,
      sleeps: 0,
      wakes: 0,
      uselessWakes: 0,
      lateWakes: 0,
      sleptMs: 0,
      yieldMs: 0,
      batches: 0,
      events: 0,
      postMs: 0,
      ...this.clock.counters,
    };
  }

  start(): void {
    if (!this.loop) this.loop = this.run();
  }

  private hostOf(cpu: number): number {
    const i = this.init.cpus.indexOf(cpu);
    if (i < 0) throw new Error(`CPU ${cpu} is not run by this thread (CPUs ${this.init.cpus.join(',')})`);
    return i;
  }

  addTask(cpu: number, spec: TaskSpec, startNs: number): void {
    const i = this.hostOf(cpu);
    const h = this.hosts[i];
    if (!h.hasRunnable()) h.advanceTo(startNs);
    h.addTask(spec);
    // A runnable task pulls our horizon back to our clock before the coordinator hears back from this
    // call, so it cannot let time pass the task by (group horizon first: it bounds the CPU's word from
    // below at every moment). A move down wakes nobody.
    this.lowerGroup(h.clock);
    h.pcpu.set64(PcpuField.Horizon, BigInt(h.clock));
    this.pub[i] = Math.min(this.pub[i], h.clock);
    this.clock.wakeCpu(cpu);
  }

  /** The coordinator's answer to a task's request (task-request.ts), over the control plane. */
  replyTask(cpu: number, pid: number, reply: TaskReply): void {
    this.hosts[this.hostOf(cpu)].replyTask(pid, reply);
    this.clock.wakeCpu(cpu);
  }

  state(): CpuThreadState[] {
    return this.hosts.map((h) => ({
      cpu: h.cpu,
      clock: h.clock,
      retired: h.x86.retired,
      rip: h.x86.rip,
      mode: h.pcpu.get(PcpuField.Mode),
      current: h.pcpu.get(PcpuField.Current),
    }));
  }

  /** The wake protocol's counters of this thread so far. */
  counters(): CpuThreadStats {
    return { ...this.stats, ...this.clock.counters };
  }

  /** Stops the loop, posts the last events; returns the thread's counters. */
  async stop(): Promise<CpuThreadStats> {
    this.stopping = true;
    this.clock.wakeCpu(this.init.cpus[0]);
    await this.loop;
    this.flush();
    return this.counters();
  }

  /**
   * Holds an event for the next batch. A batch is posted when the thread sleeps or yields, when it is
   * MAX_BATCH long, before the group horizon crosses the coordinator's CoordWaitFor, when the
   * coordinator asks (GlobalField.FlushReq, drainEvents()), and when a CPU is about to make a task's end
   * or a request visible (CpuHostOptions.flushEvents): never once per slice, which cost a postMessage per
   * slice (a sixth of the 64-CPU benchmark's time).
   */
  private buffer(ev: RawEvent): void {
    this.events.push(ev);
    this.buffered();
  }

  /** An event went into the batch: mark the first, post a full batch (event-batch.ts has the format). */
  private buffered(): void {
    if (this.events.length === 1) this.leader.set(PcpuField.EventsBuffered, 1);
    else if (this.events.full()) this.flush();
  }

  /** Posts the batch and counts it (in the leader's word): EventsPosted first, then EventsBuffered = 0. */
  private flush(): void {
    if (this.events.length === 0) return;
    const t0 = performance.now();
    const batch = this.events.take();
    this.init.eventPort.postMessage(batch);
    this.stats.postMs += performance.now() - t0;
    this.stats.batches++;
    this.stats.events += batch.count;
    this.leader.add(PcpuField.EventsPosted, 1);
    this.leader.set(PcpuField.EventsBuffered, 0);
  }

  /** Lowers the group horizon to `v` at once (before a CPU's own word may go below the published one). */
  private lowerGroup(v: number): void {
    if (v >= this.groupPub) return;
    this.groupPub = v;
    if (v < this.groupLow) this.groupLow = v;
    this.leader.set64(PcpuField.GroupHorizon, BigInt(v));
  }

  /** Publishes host `i`'s horizon, then the group horizon if the group's minimum moved. */
  private publish(i: number, value: number): void {
    if (value !== this.pub[i]) {
      this.lowerGroup(value);
      this.hosts[i].pcpu.set64(PcpuField.Horizon, BigInt(value));
      this.pub[i] = value;
    }
    this.publishGroup();
  }

  /** The group horizon is the least published horizon; a rise wakes whoever it crossed (from its low). */
  private publishGroup(): void {
    const pub = this.pub;
    let m = NEVER_NUM;
    for (let i = 0; i < pub.length; i++) if (pub[i] < m) m = pub[i];
    if (m === this.groupPub) return;
    const old = Math.min(this.groupLow, this.groupPub);
    // The coordinator wakes to look at time and events: the events from before the new horizon go first.
    if (this.clock.crossesCoordinator(old, m)) this.flush();
    this.groupPub = m;
    this.groupLow = m;
    this.clock.publishGroupHorizon(this.init.cpus[0], old, m);
  }

  /** The debug switch of GlobalField.DebugCpuFault: a host-level bug, to prove it is detected. */
  private debugFault(kind: number): void {
    if (kind === DEBUG_CPU_CRASH) throw new Error('injected crash (DebugCpuFault)');
    if (kind === DEBUG_CPU_HANG) for (;;) Atomics.load(this.hosts[0].km.i32, 0);
  }

  private async run(): Promise<void> {
    try {
      await this.loopBody();
    } catch (e) {
      // The host that was being run is the CPU whose thread died (the coordinator reports it).
      this.hosts[this.active].pcpu.set(PcpuField.Mode, CpuMode.Crashed);
      throw e;
    }
    for (let i = 0; i < this.hosts.length; i++) {
      this.hosts[i].pcpu.set(PcpuField.Mode, CpuMode.Stopped);
      this.publish(i, NEVER_NUM);
    }
    this.leader.set64(PcpuField.WaitFor, NO_WAIT);
    this.clock.bumpEpoch();
  }

  /** The host being worked on (for the crash and hang reports). */
  private active = 0;

  private setActive(i: number): void {
    if (i === this.active) return;
    this.active = i;
    this.leader.set(PcpuField.Active, this.hosts[i].cpu);
  }

  // --- the loop ---------------------------------------------------------------------------------------
  //
  // Split into small methods on purpose. As one async function the loop was one optimisation unit for
  // V8: each isolate (one per thread) compiled it with everything it inlined in 130–250 ms of a
  // background thread's CPU, and compiled it again at every deoptimisation anywhere in it — the type
  // feedback of its arithmetic changes once, when the simulated clocks pass the small-integer range
  // (about 1.07 s), and a path taken for the first time changes it too. On a 2-core host those compiles
  // ran on the cores the CPU threads need (the 64-CPU benchmark's worker run spent as much CPU in them
  // as in its two CPU threads). Now the async part only sleeps and yields; the synchronous work() runs
  // the passes, and each step of a pass is its own function, so a deoptimisation recompiles one of them.

  /** Sleeps and yields; work() does the rest. */
  private async loopBody(): Promise<void> {
    const h0 = this.hosts[0];
    // The other groups, through their leaders' GroupHorizon words (one load each per pass, not one per CPU).
    for (let l = 0; l < this.clock.groups(); l++) if (l !== this.init.cpus[0]) this.outside.push(new PercpuView(h0.km, l));
    this.flushSeen = Atomics.load(this.i32, this.flushIdx);
    while (this.running()) {
      const deadline = performance.now() + YIELD_MS;
      for (;;) {
        const timeout = this.work(deadline);
        if (timeout === 0) break;
        const slept = performance.now();
        const w = Atomics.waitAsync(this.i32, this.wakeIdx, this.sleptOn, timeout);
        const r = w.async ? await w.value : w.value;
        this.afterSleep(r === 'timed-out', performance.now() - slept);
      }
      this.flush();
      const yielded = performance.now();
      await new Promise<void>((r) => setImmediate(r));
      this.stats.yieldMs += performance.now() - yielded;
    }
  }

  private running(): boolean {
    return !this.stopping && Atomics.load(this.i32, this.stopAllIdx) === 0;
  }

  /**
   * Passes over the group until the yield is due or the loop stops (0), or until no CPU of the group can
   * go on: then the sleep is prepared (WaitFor published, the Dekker re-read done) and its bound returned.
   */
  private work(deadline: number): number {
    const i32 = this.i32;
    while (this.running()) {
      const now = performance.now();
      if (now >= deadline) return 0;
      if (now - this.lastBeat >= BEAT_MS) {
        this.bumpHeartbeats();
        this.lastBeat = now;
      }
      const wakeSeen = Atomics.load(i32, this.wakeIdx);
      const debug = Atomics.load(i32, this.debugIdx);
      if (debug !== 0) this.checkDebug(debug);
      const flushReq = Atomics.load(i32, this.flushIdx);
      if (flushReq !== this.flushSeen) {
        this.flushSeen = flushReq;
        this.flush();
        this.leader.set(PcpuField.FlushAck, flushReq);
      }
      // Every IPI sender bumps our Wake word after the request word (SimClock.wakeCpu()), so the CPUs'
      // IPI words need a look only when it moved: a pass costs no load per CPU for IPIs.
      if (wakeSeen !== this.ipiSeen) {
        this.ipiSeen = wakeSeen;
        this.serveIpis(now);
      }
      const best = this.choose(now);
      if (best >= 0) {
        this.runStretch(best, wakeSeen, deadline);
        continue;
      }
      const timeout = this.prepareSleep(wakeSeen);
      if (timeout > 0) return timeout;
    }
    return 0;
  }

  /** Every CPU of the group is alive (the watchdog's word): every BEAT_MS, and after each sleep. */
  private bumpHeartbeats(): void {
    for (const h of this.hosts) h.pcpu.add(PcpuField.Heartbeat, 1);
  }

  private checkDebug(debug: number): void {
    for (let i = 0; i < this.hosts.length; i++)
      if ((debug & 0xff) === this.hosts[i].cpu + 1) {
        this.setActive(i);
        this.debugFault(debug >> 8);
      }
  }

  private serveIpis(now: number): void {
    const hosts = this.hosts;
    for (let i = 0; i < hosts.length; i++) {
      const h = hosts[i];
      const p = h.pcpu;
      if (p.get(PcpuField.SyncReq) === p.get(PcpuField.SyncAck) && p.get(PcpuField.ReschedReq) === p.get(PcpuField.ReschedAck)) continue;
      this.setActive(i);
      // A reschedule IPI may wake a task earlier, down to this CPU's clock, and handleIpis() writes the
      // CPU's word before it acknowledges: the group horizon goes down first.
      this.lowerGroup(h.clock);
      if (h.handleIpis() && h.inHandler()) this.irqUntil[i] = now + IRQ_HOLD_MS;
      // handleIpis() republished the horizon: a move up must wake whoever it crossed.
      this.publish(i, Number(p.get64(PcpuField.Horizon)));
    }
  }

  /** The least horizon of the other groups and the coordinator (one load per group). */
  private outsideHorizon(): number {
    let m = Number(this.hosts[0].global.coordHorizon);
    for (const p of this.outside) {
      const v = Number(p.get64(PcpuField.GroupHorizon));
      if (v < m) m = v;
    }
    return m;
  }

  /**
   * One pass: the CPU to run (the one furthest behind among those the clock rules let go on), or -1; on
   * the way, idle CPUs whose wake-up everyone has passed skip time to it, and the pass leaves in `need`,
   * `needWindow`, `irqHold` and `follow` what a sleep would wait for.
   */
  private choose(now: number): number {
    const hosts = this.hosts;
    const n = hosts.length;
    const pub = this.pub;
    const outsideMin = this.outsideHorizon();
    this.outsideMin = outsideMin;
    // The others' minimum for host i is min(outsideMin, the group's horizons but i's).
    let min1 = NEVER_NUM;
    let min2 = NEVER_NUM;
    let min1At = -1;
    for (let i = 0; i < n; i++) {
      const v = pub[i];
      if (v < min1) {
        min2 = min1;
        min1 = v;
        min1At = i;
      } else if (v < min2) min2 = v;
    }
    let best = -1;
    let bestClock = NEVER_NUM;
    // What the others' minimum must reach for one of our CPUs to go on: `need` for an idle CPU's wake-up
    // or a wait on another CPU's horizon (exact), `needWindow` for a running CPU held by the window
    // (SLACK is added to it, in prepareSleep()).
    this.need = NEVER_NUM;
    this.needWindow = NEVER_NUM;
    this.irqHold = false;
    this.follow = false;
    for (let i = 0; i < n; i++) {
      const h = hosts[i];
      if (now < this.irqUntil[i] && h.inHandler()) {
        this.irqHold = true;
        continue;
      }
      const others = Math.min(outsideMin, i === min1At ? min2 : min1);
      if (!h.hasRunnable() && !this.idleGoesOn(i, others)) continue;
      const limit = others + WINDOW;
      // Too far ahead: wait for the others (a CPU inside the handler always finishes it first, so a
      // grace period never waits on a CPU that waits on time).
      if (h.clock >= limit && !h.inHandler()) {
        if (pub[i] !== h.clock) this.publish(i, h.clock);
        this.needWindow = Math.min(this.needWindow, h.clock - WINDOW + 1);
        continue;
      }
      if (h.clock < bestClock) {
        best = i;
        bestClock = h.clock;
        this.bestLimit = limit;
      }
    }
    return best;
  }

  /**
   * An idle CPU: our horizon is our next wake-up. Once everyone else has passed it, skip time to it and go
   * on (true). Else it stays idle: the idle publication (mode, quiescent state) is made once, and what it
   * waits for goes into `need`. (The idle loop's pass was made on entering idle, in runSlice(); only a
   * reschedule IPI makes another.) A blocked task (cpu-host.ts horizon()) may hold the horizon below the
   * next wake-up; time then does not skip to it.
   */
  private idleGoesOn(i: number, others: number): boolean {
    const h = this.hosts[i];
    const horizon = h.horizon();
    const wake = h.nextWake();
    if (horizon !== this.pub[i]) this.publish(i, horizon);
    // Strictly behind the others, not within the window as a running CPU: the task that wakes may be
    // affected by what another CPU does before its wake-up (a stop_task at 10 ms must not overtake the
    // child's pass at 9 ms on an idle CPU: tests/scenarios/task-actions.test.ts).
    if (wake < NEVER_NUM && wake <= others && wake <= horizon) {
      h.advanceTo(wake);
      return true;
    }
    if (this.idleShown[i] === 0) {
      h.pcpu.set(PcpuField.Mode, CpuMode.Idle);
      h.publish();
      this.idleShown[i] = 1;
    }
    if (wake < NEVER_NUM) this.need = Math.min(this.need, wake);
    // A task waiting on another CPU's task follows that CPU's horizon: wake when it moves.
    if (h.hasBlocked() && horizon < NEVER_NUM) {
      this.need = Math.min(this.need, horizon + 1);
      this.follow = true;
    }
    return false;
  }

  /** Runs host `best` from the pass that chose it: one slice, and more while nothing else needs a look. */
  private runStretch(best: number, wakeSeen: number, deadline: number): void {
    const h = this.hosts[best];
    const i32 = this.i32;
    this.setActive(best);
    if (this.woke !== Woke.None) this.checkLateWake();
    this.idleShown[best] = 0;
    const bestLimit = this.bestLimit;
    // A slice may take this CPU up to SLICE ns past where it started, whoever is behind it: so may the
    // slices that follow it here, within the limit the pass found.
    const sliceEnd = Math.min(bestLimit, h.clock + SLICE * NS_PER_INSN);
    for (;;) {
      h.runSlice(Math.min(SLICE, Math.max(1, bestLimit - h.clock)));
      this.stats.slices++;
      this.publish(best, Math.min(h.horizon(), NEVER_NUM));
      this.clock.noteProgress();
      // Go on with the same CPU while it stays inside that stretch, as one longer slice would — unless
      // anything came in (an IPI, a wake, a flush request, a stop) or the yield is due: a slice that
      // ended early (the ftrace handler's split, a task switch) then costs no new pass over the group.
      if (!h.hasRunnable() || h.clock >= sliceEnd) break;
      if (Atomics.load(i32, this.wakeIdx) !== wakeSeen || Atomics.load(i32, this.flushIdx) !== this.flushSeen) break;
      if (!this.running() || performance.now() >= deadline) break;
      this.stats.continued++;
    }
  }

  /** The first slice after a sleep that ran out its bound: was it a lost wake-up? */
  private checkLateWake(): void {
    const i32 = this.i32;
    if (this.woke === Woke.Late && Atomics.load(i32, this.wakeIdx) === this.sleptOn) this.stats.lateWakes++;
    // A held sleep's bound ran out: it was a lost wake only if the others had passed the WaitFor we kept
    // published (whoever passed it then also saw it, and bumps Wake right after its store).
    if (this.woke === Woke.Slack) {
      // (A mover stores its horizon, then bumps: give a mover we saw between the two — descheduled, on a
      // loaded host — a moment to bump before calling the wake lost.)
      if (this.outsideMin >= this.sleptFor && Atomics.wait(i32, this.wakeIdx, this.sleptOn, LATE_GRACE_MS) === 'timed-out')
        this.stats.lateWakes++;
      this.leader.set64(PcpuField.WaitFor, NO_WAIT);
    }
    this.woke = Woke.None;
  }

  /**
   * No CPU of ours can go on: post the events, publish WaitFor and read the others again (the Dekker
   * half of the protocol, sim-clock.ts). The sleep's bound in ms, or 0 if the pass must be made again
   * (the others moved meanwhile, or a short IRQ hold was waited out here).
   */
  private prepareSleep(wakeSeen: number): number {
    this.flush();
    if (this.woke === Woke.Wake) this.stats.uselessWakes++;
    // About to sleep: a coordinator following the CPUs must hear that none of ours runs any more.
    this.clock.noteProgress();
    if (this.irqHold) {
      // Inside the handler with an IPI taken: wait a little for the rest of the burst (or a wake).
      this.woke = Woke.None;
      Atomics.wait(this.i32, this.wakeIdx, wakeSeen, 0.2);
      return 0;
    }
    this.slack = this.needWindow < NEVER_NUM;
    if (this.slack) this.need = Math.min(this.need, this.needWindow + SLACK);
    const need = this.need;
    this.leader.set64(PcpuField.WaitFor, need < NEVER_NUM ? BigInt(need) : NO_WAIT);
    if (this.outsideHorizon() !== this.outsideMin) {
      this.leader.set64(PcpuField.WaitFor, NO_WAIT);
      this.woke = Woke.None;
      return 0;
    }
    this.stats.sleeps++;
    this.sleptOn = wakeSeen;
    return this.follow ? FOLLOW_WAIT_MS : this.slack ? SLACK_WAIT_MS : WAIT_MS;
  }

  /** After the sleep prepareSleep() set up: `timedOut` — it ran out its bound rather than being woken. */
  private afterSleep(timedOut: boolean, sleptMs: number): void {
    this.stats.sleptMs += sleptMs;
    if (timedOut && this.slack && !this.follow) {
      // WaitFor stays published: a mover that passes it from here on still wakes us (and the check in
      // checkLateWake() can tell a lost wake from one that is on its way).
      this.sleptFor = this.need;
    } else this.leader.set64(PcpuField.WaitFor, NO_WAIT);
    if (timedOut) this.woke = this.follow ? Woke.None : this.slack ? Woke.Slack : Woke.Late;
    else {
      this.woke = Woke.Wake;
      this.stats.wakes++;
    }
    this.bumpHeartbeats();
  }
}

/** How the last sleep ended, until the next progress (checkLateWake()). */
const enum Woke {
  None,
  /** Woken: the Wake word moved. */
  Wake,
  /** Ran out WAIT_MS: a lost wake-up if the Wake word did not move meanwhile. */
  Late,
  /** Ran out SLACK_WAIT_MS while held by the window. */
  Slack,
}
