/**
 * CPUs as worker_threads, M:N: one long-lived thread per *group* of CPUs, at most one group per host core
 * (threads with identity, so plain workers rather than a piscina pool). CPU c is in group c % groups, so
 * the first CPUs — the ones a small scenario uses — are spread over the threads. More threads than cores
 * would only time-share the cores, with a cross-thread handoff at every wake-up and one V8 isolate (and its
 * compiled code) per thread; within a group the CPUs interleave at slice boundaries, as in lockstep.
 * Control plane: comlink (addTask, stop, state). Data plane: kmem + Atomics. Events: each thread posts
 * batches (kernel/event-batch.ts) on its own MessagePort; `onEvents` receives them in arrival order.
 */
import { availableParallelism } from 'node:os';
import { MessageChannel, Worker } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/umd/node-adapter';
import { KernelMemory, KernelMemoryBuffers } from '../mem/kernel-memory';
import { CpuMode, GlobalField, GlobalView, PcpuField, PercpuView } from '../mem/percpu';
import type { CpuThread, CpuThreadInit, CpuThreadStats } from '../kernel/cpu-thread';
import { NEVER, NO_WAIT, SimClock } from '../kernel/sim-clock';
import type { RawEvent } from '../kernel/events';
import { EventBatchReader, PackedEventBatch } from '../kernel/event-batch';
import type { TaskSpec } from '../kernel/task-program';
import type { TaskReply } from '../kernel/task-request';
import type { CpuPlatform } from './cpu-platform';
import { workerEntry } from './worker-entry';

export interface WorkerCpusOptions {
  cpus: number;
  buffers: KernelMemoryBuffers;
  onEvents(batch: RawEvent[]): void;
  onError(cpu: number, err: Error): void;
  hooksModule?: string;
  timeslice?: number;
  /** CPU threads (groups); default: one per host core, never more than CPUs. */
  threads?: number;
}

/**
 * Upper bound on one wait of the coordinator for its wake word while it waits on the CPUs' progress: what
 * it waits for may also come as an event batch on a port, which does not wake it.
 */
const WAIT_SLICE_MS = 2;
/** Upper bound on one wait while time passes: every reason to look again comes with a wake-up. */
const RELAXED_WAIT_MS = 50;

/** The CPUs of group `g` of `groups`. */
export function groupCpus(cpus: number, groups: number, g: number): number[] {
  const out: number[] = [];
  for (let c = g; c < cpus; c += groups) out.push(c);
  return out;
}

/** Counters of the coordinator's waits (the benchmark's load-independent figures). */
export interface CoordinatorWaitStats {
  /** Sleeps on the wake word. */
  sleeps: number;
  /** Sleeps ended by a wake rather than their bound. */
  wakes: number;
}

export class WorkerCpus implements CpuPlatform {
  private workers: Worker[] = [];
  private remotes: Comlink.Remote<CpuThread>[] = [];
  private stopped = false;
  private readonly received: number[] = [];
  private pcpus: PercpuView[] = [];
  private global!: GlobalView;
  private clock!: SimClock;
  private groups: number[][] = [];
  readonly waitStats: CoordinatorWaitStats = { sleeps: 0, wakes: 0 };
  /** The threads' counters as they stopped (threadStats() after stop()). */
  private finalStats: CpuThreadStats[] | null = null;

  constructor(private readonly opts: WorkerCpusOptions) {}

  get cpus(): number {
    return this.opts.cpus;
  }

  /** How many CPU threads run the CPUs. */
  get threads(): number {
    return this.groups.length;
  }

  private groupOf(cpu: number): number {
    return cpu % this.groups.length;
  }

  async start(): Promise<void> {
    const entry = workerEntry('cpu');
    const km = new KernelMemory(this.opts.buffers);
    const global = new GlobalView(km);
    this.global = global;
    this.clock = new SimClock(km);
    this.pcpus = Array.from({ length: this.opts.cpus }, (_, i) => new PercpuView(km, i));
    const n = Math.max(1, Math.min(this.opts.cpus, Math.floor(this.opts.threads ?? availableParallelism())));
    this.groups = Array.from({ length: n }, (_, g) => groupCpus(this.opts.cpus, n, g));
    for (let g = 0; g < n; g++) {
      this.pcpus[g].set64(PcpuField.WaitFor, NO_WAIT);
      // Before any thread starts: a thread reads the others' group horizons from its first pass.
      this.pcpus[g].set64(PcpuField.GroupHorizon, NEVER);
    }
    for (const p of this.pcpus) p.set64(PcpuField.Horizon, NEVER);
    global.set64(GlobalField.CoordWaitFor, NO_WAIT);
    // Before any thread starts: every wake of the protocol reads it (sim-clock.ts).
    global.set(GlobalField.CpuGroups, n);
    this.received.push(...new Array<number>(n).fill(0));
    for (let g = 0; g < n; g++) {
      const { port1, port2 } = new MessageChannel();
      const reader = new EventBatchReader();
      port1.on('message', (batch: PackedEventBatch) => {
        this.received[g]++;
        this.opts.onEvents(reader.read(batch));
      });
      const cpus = this.groups[g];
      const init: CpuThreadInit = {
        cpus,
        buffers: this.opts.buffers,
        eventPort: port2,
        hooksModule: this.opts.hooksModule,
        timeslice: this.opts.timeslice,
      };
      const w = new Worker(entry.file, { workerData: init, transferList: [port2], execArgv: entry.execArgv });
      // The thread marks the CPU it was running when it died (cpu-thread.ts); else blame its first.
      w.on('error', (err) => this.opts.onError(cpus.find((c) => this.pcpus[c].get(PcpuField.Mode) === CpuMode.Crashed) ?? cpus[0], err));
      this.workers.push(w);
      const remote = Comlink.wrap<CpuThread>(nodeEndpoint(w));
      this.remotes.push(remote);
      (port1 as unknown as { unref(): void }).unref();
    }
    // A thread that dies before it answers (its entry point failed to load, say) would leave start()
    // waiting on a call nobody answers, and with nothing else pending Node would exit 0 without a word.
    try {
      await Promise.all(
        this.workers.map((w, g) => startedOrDied(w, this.remotes[g].start(), `CPU thread ${g} (CPUs ${this.groups[g].join(',')})`)),
      );
    } catch (e) {
      // The threads that did start would keep the process alive, each waiting for work.
      this.stopped = true;
      await this.terminate();
      throw e;
    }
  }

  /** The wake-protocol counters of every CPU thread. */
  async threadStats(): Promise<CpuThreadStats[]> {
    if (this.finalStats) return this.finalStats;
    return Promise.all(this.remotes.map((r) => r.counters()));
  }

  async addTask(cpu: number, spec: TaskSpec, startNs: number): Promise<void> {
    await this.remotes[this.groupOf(cpu)].addTask(cpu, spec, startNs);
  }

  /**
   * The main thread must not block, so it sleeps with Atomics.waitAsync on its wake word (ClockEpoch).
   * While time passes (`relaxed`) the CPUs wake it when a horizon crosses CoordWaitFor (which the caller
   * set), for acknowledgements and for task requests. Otherwise it waits on their progress: it raises
   * CoordParked before each look, and the first CPU to end a slice (or to go to sleep) after that wakes it
   * — one wake per look, not one per slice of every CPU. Raising CoordParked before the look at `pred`
   * is the Dekker order of sim-clock.ts: a CPU that found it still down made its change before the look.
   */
  async waitUntil(pred: () => boolean, timeoutMs: number, relaxed = false, onPoll?: () => void): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    const i32 = new Int32Array(this.opts.buffers.kmem);
    const global = new GlobalView(new KernelMemory(this.opts.buffers));
    const epochIdx = global.index(GlobalField.ClockEpoch);
    const parkedIdx = global.index(GlobalField.CoordParked);
    try {
      for (;;) {
        const epoch = Atomics.load(i32, epochIdx);
        if (!relaxed) Atomics.store(i32, parkedIdx, 1);
        if (pred()) return true;
        if (performance.now() > deadline) return false;
        onPoll?.();
        this.waitStats.sleeps++;
        const w = Atomics.waitAsync(i32, epochIdx, epoch, relaxed ? RELAXED_WAIT_MS : WAIT_SLICE_MS);
        const r = w.async ? await w.value : w.value;
        if (r !== 'timed-out') this.waitStats.wakes++;
        // Let I/O and other promises (event batches from the CPUs) in between two checks.
        await new Promise<void>((res) => setImmediate(res));
      }
    } finally {
      if (!relaxed) Atomics.store(i32, parkedIdx, 0);
    }
  }

  /**
   * A thread holds its events until it sleeps, yields or is asked (cpu-thread.ts buffer()), and marks in
   * its leader's EventsBuffered word that it holds some before any horizon covering them is published;
   * it counts a posted batch in EventsPosted before it clears EventsBuffered. So the events from before
   * the horizons the coordinator has seen are, per thread, either counted in EventsPosted (the thread held
   * none: EventsBuffered read 0 first) or held: such a thread is asked once (FlushReq, and a wake in case
   * it sleeps or waits out an IPI burst), posts them at its next pass and answers in FlushAck, after which
   * EventsPosted counts them. The drain is over once every thread's count has been received. Events made
   * after the look are not waited for (a busy thread makes them all the time). Bounded: a dead worker
   * cannot hang the coordinator.
   */
  async drainEvents(): Promise<void> {
    const deadline = performance.now() + 1000;
    const groups = this.received.length;
    const target: number[] = new Array<number>(groups).fill(0);
    const held: number[] = [];
    for (let g = 0; g < groups; g++) {
      const p = this.pcpus[g];
      if (p.get(PcpuField.EventsBuffered) !== 0) held.push(g);
      else target[g] = p.get(PcpuField.EventsPosted);
    }
    if (held.length > 0) {
      const req = this.global.add(GlobalField.FlushReq, 1) + 1;
      // CPU g is group g's leader: waking it wakes the group's thread.
      for (const g of held) this.clock.wakeCpu(g);
      for (const g of held) {
        const p = this.pcpus[g];
        while (p.get(PcpuField.FlushAck) - req < 0 && performance.now() < deadline) await new Promise<void>((r) => setImmediate(r));
        target[g] = p.get(PcpuField.EventsPosted);
      }
    }
    while (this.received.some((r, g) => r < target[g]) && performance.now() < deadline) await new Promise<void>((r) => setImmediate(r));
  }

  replyTask(cpu: number, pid: number, reply: TaskReply): void {
    // Not awaited: the coordinator goes on; the CPU takes the answer at its next turn of its event loop.
    this.remotes[this.groupOf(cpu)].replyTask(cpu, pid, reply).catch(() => undefined);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    // Ask each CPU to finish its slice and post its last events, but never wait forever on a hung one.
    const stats = await Promise.all(this.remotes.map((r) => withTimeout(r.stop(), 2000)));
    this.finalStats = stats.filter((x): x is CpuThreadStats => x !== undefined);
    // Let the last event batches arrive before the ports go away.
    await new Promise<void>((r) => setTimeout(r, 10));
    await this.terminate();
  }

  /** Drops the control-plane proxies and ends the threads. */
  private async terminate(): Promise<void> {
    for (const r of this.remotes) r[Comlink.releaseProxy]();
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** `started`, or a rejection naming `what` if the thread fails or exits first. */
function startedOrDied(w: Worker, started: Promise<void>, what: string): Promise<void> {
  let onError: (e: Error) => void = () => undefined;
  let onExit: (code: number) => void = () => undefined;
  const died = new Promise<never>((_, reject) => {
    onError = (e) => reject(new Error(`${what} failed to start: ${e.message}`));
    onExit = (code) => reject(new Error(`${what} exited with code ${code} before it started`));
    w.once('error', onError);
    w.once('exit', onExit);
  });
  return Promise.race([started, died]).finally(() => {
    w.off('error', onError);
    w.off('exit', onExit);
  });
}

/** Resolves with `p`, or after `ms` if it takes longer; the timer never outlives the race. */
async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<undefined>((res) => (timer = setTimeout(() => res(undefined), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
