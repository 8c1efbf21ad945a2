/**
 * CPUs as worker_threads: one long-lived thread per CPU (threads with identity, so plain workers rather
 * than a piscina pool). Control plane: comlink (addTask, stop, state). Data plane: kmem + Atomics.
 * Events: each CPU posts batches on its own MessagePort; `onEvents` receives them in arrival order.
 */
import { MessageChannel, Worker } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/umd/node-adapter';
import { KernelMemory, KernelMemoryBuffers } from '../mem/kernel-memory';
import { GlobalField, GlobalView, PcpuField, PercpuView } from '../mem/percpu';
import type { CpuThread, CpuThreadInit } from '../kernel/cpu-thread';
import type { RawEvent } from '../kernel/events';
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
}

/** Upper bound on one wait of the coordinator for the epoch word (a missed notify costs at most this). */
const WAIT_SLICE_MS = 2;
/** Poll period of relaxed waits (letting simulated time pass). */
const RELAXED_POLL_MS = 1;

export class WorkerCpus implements CpuPlatform {
  private workers: Worker[] = [];
  private remotes: Comlink.Remote<CpuThread>[] = [];
  private stopped = false;
  private readonly received: number[] = [];
  private pcpus: PercpuView[] = [];

  constructor(private readonly opts: WorkerCpusOptions) {}

  get cpus(): number {
    return this.opts.cpus;
  }

  async start(): Promise<void> {
    const entry = workerEntry('cpu');
    const km = new KernelMemory(this.opts.buffers);
    this.pcpus = Array.from({ length: this.opts.cpus }, (_, i) => new PercpuView(km, i));
    this.received.push(...new Array<number>(this.opts.cpus).fill(0));
    for (let cpu = 0; cpu < this.opts.cpus; cpu++) {
      const { port1, port2 } = new MessageChannel();
      port1.on('message', (batch: RawEvent[]) => {
        this.received[cpu]++;
        this.opts.onEvents(batch);
      });
      const init: CpuThreadInit = {
        cpu,
        buffers: this.opts.buffers,
        eventPort: port2,
        hooksModule: this.opts.hooksModule,
        timeslice: this.opts.timeslice,
      };
      const w = new Worker(entry.file, { workerData: init, transferList: [port2], execArgv: entry.execArgv });
      w.on('error', (err) => this.opts.onError(cpu, err));
      this.workers.push(w);
      const remote = Comlink.wrap<CpuThread>(nodeEndpoint(w));
      this.remotes.push(remote);
      (port1 as unknown as { unref(): void }).unref();
    }
    await Promise.all(this.remotes.map((r) => r.start()));
  }

  async addTask(cpu: number, spec: TaskSpec, startNs: number): Promise<void> {
    await this.remotes[cpu].addTask(spec, startNs);
  }

  /**
   * The main thread must not block, so it sleeps with Atomics.waitAsync on the clock epoch word, which
   * CPUs bump (and notify) after every slice and every IPI acknowledgement.
   */
  async waitUntil(pred: () => boolean, timeoutMs: number, relaxed = false, onPoll?: () => void): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    if (relaxed) {
      // Waking on every slice of every CPU would keep this thread busy and steal a core from the CPUs.
      while (!pred()) {
        if (performance.now() > deadline) return false;
        onPoll?.();
        await new Promise<void>((r) => setTimeout(r, RELAXED_POLL_MS));
      }
      return true;
    }
    const i32 = new Int32Array(this.opts.buffers.kmem);
    const epochIdx = new GlobalView(new KernelMemory(this.opts.buffers)).index(GlobalField.ClockEpoch);
    for (;;) {
      const epoch = Atomics.load(i32, epochIdx);
      if (pred()) return true;
      if (performance.now() > deadline) return false;
      onPoll?.();
      const w = Atomics.waitAsync(i32, epochIdx, epoch, WAIT_SLICE_MS);
      if (w.async) await w.value;
      // Let I/O and other promises (event batches from the CPUs) in between two checks.
      await new Promise<void>((r) => setImmediate(r));
    }
  }

  /**
   * A CPU counts a batch in its EventsPosted word before it publishes the horizon the batch belongs to;
   * so once received catches up with posted, no event from before the CPUs' current horizons is still
   * in flight. Bounded: a dead worker cannot hang the coordinator.
   */
  async drainEvents(): Promise<void> {
    const deadline = performance.now() + 1000;
    while (this.pcpus.some((p, i) => p.get(PcpuField.EventsPosted) > this.received[i]) && performance.now() < deadline) {
      await new Promise<void>((r) => setImmediate(r));
    }
  }

  replyTask(cpu: number, pid: number, reply: TaskReply): void {
    // Not awaited: the coordinator goes on; the CPU takes the answer at its next turn of its event loop.
    this.remotes[cpu].replyTask(pid, reply).catch(() => undefined);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    // Ask each CPU to finish its slice and post its last events, but never wait forever on a hung one.
    await Promise.all(this.remotes.map((r) => withTimeout(r.stop(), 2000)));
    // Let the last event batches arrive before the ports go away.
    await new Promise<void>((r) => setTimeout(r, 10));
    for (const r of this.remotes) r[Comlink.releaseProxy]();
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
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
