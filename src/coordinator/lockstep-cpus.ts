/**
 * Deterministic mode: every CPU runs on the coordinator's thread. At each step the seeded scheduler runs
 * the CPU that is furthest behind in simulated time (ties broken by the PRNG) for a seeded number of
 * instructions, so the interleaving of CPUs — and with it every event — is a pure function of the seed.
 * The CPU code is the same CpuHost that worker threads run; only who calls runSlice() differs.
 */
import type { KernelMemoryBuffers } from '../mem/kernel-memory';
import { GlobalField, PcpuField } from '../mem/percpu';
import { CpuHooks, CpuHost } from '../kernel/cpu-host';
import type { RawEvent } from '../kernel/events';
import { NEVER, WINDOW_NS } from '../kernel/sim-clock';
import type { TaskSpec } from '../kernel/task-program';
import type { TaskReply } from '../kernel/task-request';
import { Prng } from '../util/prng';
import type { CpuPlatform } from './cpu-platform';

export interface LockstepCpusOptions {
  cpus: number;
  buffers: KernelMemoryBuffers;
  seed: number;
  onEvents(batch: RawEvent[]): void;
  hooks?: (host: CpuHost) => CpuHooks;
  timeslice?: number;
}

const MIN_SLICE = 200;
const MAX_SLICE = 5_000;
const WINDOW = Number(WINDOW_NS);
const NEVER_NUM = Number(NEVER);
/** Steps between yields to the event loop (keeps output flowing; does not affect the simulation). */
const STEPS_PER_YIELD = 2_000;
/**
 * Also yield when this much real time has passed since the last yield, whatever the step count: a run
 * made of many short waits (CPUs mostly idle) would otherwise never return to the event loop, and its
 * timers, sockets and signals (`klpsim serve`, Ctrl-C) would wait for the whole run.
 */
const YIELD_MS = 20;

export class LockstepCpus implements CpuPlatform {
  readonly hosts: CpuHost[];
  private readonly prng: Prng;
  private lastYield = performance.now();
  /** The CPUs tied for the earliest time in a step (reused: a step allocates nothing). */
  private readonly ties: CpuHost[] = [];
  /** The clock epoch when IPIs were last looked for (every IPI sender bumps the epoch after sending). */
  private ipiEpoch = -1;

  constructor(private readonly opts: LockstepCpusOptions) {
    this.prng = new Prng(opts.seed);
    this.hosts = Array.from({ length: opts.cpus }, (_, cpu) => {
      const host = new CpuHost({ cpu, buffers: opts.buffers, emit: (ev) => opts.onEvents([ev]), timeslice: opts.timeslice });
      if (opts.hooks) host.setHooks(opts.hooks(host));
      host.pcpu.set64(PcpuField.Horizon, NEVER);
      return host;
    });
    this.epochWords = this.hosts[0].km.i32;
    this.epochIndex = this.hosts[0].global.index(GlobalField.ClockEpoch);
  }

  private readonly epochWords: Int32Array;
  private readonly epochIndex: number;

  get cpus(): number {
    return this.opts.cpus;
  }

  async start(): Promise<void> {}

  async addTask(cpu: number, spec: TaskSpec, startNs: number): Promise<void> {
    const h = this.hosts[cpu];
    if (!h.hasRunnable()) h.advanceTo(startNs);
    h.addTask(spec);
    h.publishHorizon(true);
  }

  async drainEvents(): Promise<void> {}

  async waitUntil(pred: () => boolean, timeoutMs: number, _relaxed?: boolean, onPoll?: () => void): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    let steps = 0;
    if (performance.now() - this.lastYield >= YIELD_MS) {
      await new Promise<void>((r) => setImmediate(r));
      this.lastYield = performance.now();
    }
    for (;;) {
      // An idle CPU goes around its idle loop on entering idle (runSlice()) and at a reschedule IPI. Every
      // IPI is sent before a bump of the clock epoch, so the CPUs need looking at only when it moved.
      const epoch = Atomics.load(this.epochWords, this.epochIndex);
      if (epoch !== this.ipiEpoch) {
        this.ipiEpoch = epoch;
        for (const h of this.hosts) h.handleIpis();
      }
      if (pred()) return true;
      onPoll?.();
      if (!this.step()) return pred();
      if (++steps % STEPS_PER_YIELD === 0) {
        if (performance.now() > deadline) return false;
        await new Promise<void>((r) => setImmediate(r));
        this.lastYield = performance.now();
      }
    }
  }

  /**
   * Runs one slice on the CPU furthest behind. False when no CPU can move before the coordinator does.
   * Each CPU answers hasRunnable() / nextWake() from its cached minimum (cpu-host.ts), so a step costs a
   * few loads per CPU and no allocation; the tied CPUs go into a reused array, in CPU order, for the PRNG.
   */
  private step(): boolean {
    const coord = Number(this.hosts[0].global.coordHorizon);
    let best = NEVER_NUM;
    let nties = 0;
    let blockedCpus = 0;
    const ties = this.ties;
    for (const h of this.hosts) {
      const runnable = h.hasRunnable();
      const t = runnable ? h.clock : h.nextWake();
      if (h.hasBlocked()) blockedCpus++;
      // A CPU inside the ftrace handler may always finish it (see cpu-thread.ts).
      const allowed = h.inHandler() || (runnable ? t < coord + WINDOW : t <= coord);
      if (!allowed || t >= NEVER_NUM) continue;
      if (t < best) {
        best = t;
        nties = 0;
      } else if (t > best) continue;
      ties[nties++] = h;
    }
    if (nties === 0) return false;
    const h = nties === 1 ? ties[0] : ties[this.prng.int(0, nties - 1)];
    h.advanceTo(best);
    const room = Math.max(1, coord + WINDOW - h.clock);
    h.runSlice(Math.min(room, this.prng.int(MIN_SLICE, MAX_SLICE)));
    h.publishHorizon();
    // A CPU whose task waits for a task on this one follows this one's horizon (cpu-host.ts horizon()).
    if (blockedCpus > 0) for (const o of this.hosts) if (o !== h && o.hasBlocked()) o.publishHorizon();
    return true;
  }

  replyTask(cpu: number, pid: number, reply: TaskReply): void {
    const h = this.hosts[cpu];
    h.replyTask(pid, reply);
    h.publishHorizon(true);
  }

  async stop(): Promise<void> {
    for (const h of this.hosts) h.pcpu.set64(PcpuField.Horizon, NEVER);
  }
}
