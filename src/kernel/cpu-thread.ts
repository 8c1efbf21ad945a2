/**
 * The life of one CPU on its own worker thread: run slices of CpuHost under the simulated-clock rules
 * (sim-clock.ts), serve IPIs between slices, sleep in Atomics.wait when there is nothing to do, and yield
 * to the thread's event loop every few milliseconds so the control plane (comlink calls) is served and
 * the batched events are posted.
 *
 * Waiting: an idle or too-far-ahead CPU blocks in Atomics.wait on GlobalField.ClockEpoch, which every
 * actor bumps (and notifies) after moving its horizon, and which IPI senders bump too — so one word
 * wakes a CPU for every reason it could have to continue. Waits are bounded (1 ms) so a lost wake-up
 * costs latency, never a hang.
 */
import type { MessagePort } from 'node:worker_threads';
import type { KernelMemoryBuffers } from '../mem/kernel-memory';
import { CpuMode, DEBUG_CPU_CRASH, DEBUG_CPU_HANG, GlobalField, PcpuField } from '../mem/percpu';
import { CpuHooks, CpuHost } from './cpu-host';
import type { RawEvent } from './events';
import { NEVER, SimClock, WINDOW_NS } from './sim-clock';
import type { TaskSpec } from './task-program';
import type { TaskReply } from './task-request';

export interface CpuThreadInit {
  cpu: number;
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
const WINDOW = Number(WINDOW_NS);
const NEVER_NUM = Number(NEVER);

export interface CpuThreadState {
  cpu: number;
  clock: number;
  retired: number;
  rip: number;
  mode: number;
  current: number;
}

export class CpuThread {
  readonly host: CpuHost;
  private readonly clock: SimClock;
  private events: RawEvent[] = [];
  private stopping = false;
  private loop: Promise<void> | null = null;

  constructor(private readonly init: CpuThreadInit) {
    this.host = new CpuHost({ cpu: init.cpu, buffers: init.buffers, emit: (ev) => this.events.push(ev), timeslice: init.timeslice });
    this.clock = new SimClock(this.host.km);
    if (init.hooksModule) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const mod = require(init.hooksModule) as { createCpuHooks(host: CpuHost): CpuHooks };
      this.host.setHooks(mod.createCpuHooks(this.host));
    }
    this.host.pcpu.set64(PcpuField.Horizon, NEVER);
  }

  start(): void {
    if (!this.loop) this.loop = this.run();
  }

  addTask(spec: TaskSpec, startNs: number): void {
    if (!this.host.hasRunnable()) this.host.advanceTo(startNs);
    this.host.addTask(spec);
    // A runnable task pulls our horizon back to our clock before the coordinator hears back from this
    // call, so it cannot let time pass the task by.
    this.host.pcpu.set64(PcpuField.Horizon, BigInt(this.host.clock));
    this.clock.bumpEpoch();
  }

  /** The coordinator's answer to a task's request (task-request.ts), over the control plane. */
  replyTask(pid: number, reply: TaskReply): void {
    this.host.replyTask(pid, reply);
    this.clock.bumpEpoch();
  }

  state(): CpuThreadState {
    const h = this.host;
    return {
      cpu: h.cpu,
      clock: h.clock,
      retired: h.x86.retired,
      rip: h.x86.rip,
      mode: h.pcpu.get(PcpuField.Mode),
      current: h.pcpu.get(PcpuField.Current),
    };
  }

  async stop(): Promise<CpuThreadState> {
    this.stopping = true;
    this.clock.bumpEpoch();
    await this.loop;
    this.flush();
    return this.state();
  }

  /** Posts the batch and counts it, before any horizon that covers these events is published. */
  private flush(): void {
    if (this.events.length === 0) return;
    this.init.eventPort.postMessage(this.events);
    this.events = [];
    this.host.pcpu.add(PcpuField.EventsPosted, 1);
  }

  /** The debug switch of GlobalField.DebugCpuFault: a host-level bug, to prove it is detected. */
  private debugFault(kind: number): void {
    if (kind === DEBUG_CPU_CRASH) throw new Error('injected crash (DebugCpuFault)');
    if (kind === DEBUG_CPU_HANG) for (;;) Atomics.load(this.host.km.i32, 0);
  }

  private async run(): Promise<void> {
    const h = this.host;
    const i32 = h.km.i32;
    const epochIdx = this.clock.epochIndex();
    const stopAll = h.global.index(GlobalField.StopAll);
    const debugIdx = h.global.index(GlobalField.DebugCpuFault);
    let irqUntil = 0;
    // What this CPU last published while idle (NaN: not idle since), to bump the epoch only on a change.
    let idleWake = NaN;
    let idleClock = NaN;
    while (!this.stopping && Atomics.load(i32, stopAll) === 0) {
      const deadline = performance.now() + YIELD_MS;
      while (performance.now() < deadline && !this.stopping && Atomics.load(i32, stopAll) === 0) {
        const epoch = Atomics.load(i32, epochIdx);
        const debug = Atomics.load(i32, debugIdx);
        if (debug !== 0 && (debug & 0xff) === h.cpu + 1) this.debugFault(debug >> 8);
        if (h.handleIpis() && h.inHandler()) irqUntil = performance.now() + IRQ_HOLD_MS;
        if (h.inHandler() && performance.now() < irqUntil) {
          h.pcpu.add(PcpuField.Heartbeat, 1);
          Atomics.wait(i32, epochIdx, epoch, 0.2);
          continue;
        }
        const others = Number(this.clock.minHorizon(h.cpu));
        if (h.hasRunnable()) {
          const limit = others + WINDOW;
          if (h.clock >= limit && !h.inHandler()) {
            // Too far ahead: wait for the others (a CPU inside the handler always finishes it first, so a
            // grace period never waits on a CPU that waits on time).
            h.pcpu.set64(PcpuField.Horizon, BigInt(h.clock));
            h.pcpu.add(PcpuField.Heartbeat, 1);
            Atomics.wait(i32, epochIdx, epoch, 1);
            continue;
          }
          idleWake = NaN;
          h.runSlice(Math.min(SLICE, Math.max(1, limit - h.clock)));
          this.flush();
          h.pcpu.set64(PcpuField.Horizon, BigInt(Math.min(h.horizon(), NEVER_NUM)));
          this.clock.bumpEpoch();
          continue;
        }
        // Idle: our horizon is our next wake-up. Once everyone else has passed it, skip time to it. (The
        // idle loop's pass was made on entering idle, in runSlice(); only a reschedule IPI makes another.)
        // A blocked task (cpu-host.ts horizon()) may hold the horizon below the next wake-up; time then
        // does not skip to it.
        const horizon = h.horizon();
        const wake = h.nextWake();
        h.pcpu.set64(PcpuField.Horizon, BigInt(horizon));
        h.pcpu.set(PcpuField.Mode, CpuMode.Idle);
        if (wake < NEVER_NUM && wake <= others && wake <= horizon) {
          h.advanceTo(wake);
          continue;
        }
        h.publish();
        this.flush();
        // Wake the others only when what they wait on has moved: our horizon or clock, or we just went
        // idle. An idle CPU that woke for nothing and bumped anyway would wake every other idle CPU, which
        // would bump in turn: a storm that, with many more CPUs than cores, ate most of the machine.
        if (horizon !== idleWake || h.clock !== idleClock) {
          idleWake = horizon;
          idleClock = h.clock;
          this.clock.bumpEpoch();
          Atomics.wait(i32, epochIdx, Atomics.load(i32, epochIdx), 1);
        } else {
          // Nothing of ours changed: sleep until the epoch moves from what it was when this pass began,
          // so a change made during the pass is not slept through.
          Atomics.wait(i32, epochIdx, epoch, 1);
        }
      }
      this.flush();
      await new Promise<void>((r) => setImmediate(r));
    }
    h.pcpu.set(PcpuField.Mode, CpuMode.Stopped);
    h.pcpu.set64(PcpuField.Horizon, NEVER);
    this.clock.bumpEpoch();
  }
}
