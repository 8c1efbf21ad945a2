/**
 * Watches the CPU threads for hangs: a healthy CPU thread bumps its per-CPU Heartbeat word at least once
 * a millisecond of real time (after every slice, and every time it wakes from its bounded Atomics.wait),
 * whatever the simulation does. A thread whose word stays still for `stallMs` is stuck in the host — a
 * bug in klpsim itself, not in the simulated kernel — and the watchdog reports its CPU and last RIP and
 * aborts the machine, so the run ends with a report instead of hanging.
 *
 * Reads PcpuField.Heartbeat / Mode / LastRip with Atomics.load (written by each CPU's thread). Worker mode
 * only: lockstep CPUs run on the coordinator's own thread and cannot hang apart from it.
 */
import { cpuGone, GlobalField, PcpuField } from '../mem/percpu';
import { Machine, SimError } from './machine';

export interface Hang {
  cpu: number;
  rip: number;
  where: string;
  stalledMs: number;
}

export class HeartbeatMonitor {
  private timer: NodeJS.Timeout | null = null;
  private readonly last: { beat: number; since: number }[];
  hang: Hang | null = null;

  constructor(
    private readonly m: Machine,
    private readonly stallMs = 3000,
    private readonly periodMs = 250,
  ) {
    const now = performance.now();
    this.last = m.pcpus.map((p) => ({ beat: p.get(PcpuField.Heartbeat), since: now }));
  }

  start(): this {
    if (this.m.lockstep) return this;
    this.timer = setInterval(() => this.poll(), this.periodMs);
    this.timer.unref();
    return this;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /**
   * The CPUs of one thread (a group, worker-cpus.ts) stop beating together: the one that hung is the one
   * its thread was working on, as the thread last recorded in its leader's Active word.
   */
  private culprit(cpu: number): number {
    const groups = this.m.global.get(GlobalField.CpuGroups);
    if (groups <= 0) return cpu;
    const active = this.m.pcpus[cpu % groups].get(PcpuField.Active);
    return active >= 0 && active < this.m.pcpus.length && active % groups === cpu % groups ? active : cpu;
  }

  private poll(): void {
    const now = performance.now();
    this.m.pcpus.forEach((p, i) => {
      const beat = p.get(PcpuField.Heartbeat);
      const mode = p.get(PcpuField.Mode);
      const l = this.last[i];
      if (beat !== l.beat || cpuGone(mode)) {
        l.beat = beat;
        l.since = now;
        return;
      }
      if (this.hang || now - l.since < this.stallMs) return;
      const cpu = this.culprit(i);
      const rip = this.m.pcpus[cpu].get(PcpuField.LastRip) >>> 0;
      this.hang = { cpu, rip, where: this.m.kallsyms.format(rip), stalledMs: Math.round(now - l.since) };
      const message = `CPU ${cpu} thread stopped answering: no heartbeat for ${this.hang.stalledMs} ms (last RIP ${this.hang.where})`;
      this.m.violation('heartbeat', message);
      this.m.abort(new SimError(message));
    });
  }
}
