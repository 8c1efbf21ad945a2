/**
 * Chrome trace-event JSON (the format Perfetto and chrome://tracing open) built from the event stream:
 * one track per CPU and one per task; transitions and RCU grace periods as slices; redirects, pokes and
 * violations as instant events. Timestamps are microseconds of simulated time.
 */
import type { SimEvent } from '../kernel/events';

interface TraceEvent {
  name: string;
  ph: string;
  ts: number;
  pid: number;
  tid: number;
  s?: string;
  args?: Record<string, unknown>;
  dur?: number;
}

const PID_CPUS = 1;
const PID_TASKS = 2;
const PID_KLP = 3;

export class TraceBuilder {
  private readonly events: TraceEvent[] = [];
  private readonly open = new Map<string, { ts: number; name: string; tid: number; pid: number }>();
  private readonly running = new Map<number, { ts: number; cpu: number; comm: string }>();

  add(ev: SimEvent): void {
    const ts = ev.t / 1000;
    switch (ev.type) {
      case 'task.state': {
        const prev = this.running.get(ev.pid);
        if (prev) {
          this.slice(PID_CPUS, prev.cpu, prev.comm, prev.ts, ts);
          this.slice(PID_TASKS, ev.pid, `on cpu${prev.cpu}`, prev.ts, ts);
          this.running.delete(ev.pid);
        }
        if (ev.state === 'running' && ev.cpu !== null) this.running.set(ev.pid, { ts, cpu: ev.cpu, comm: ev.comm });
        this.meta(PID_TASKS, ev.pid, `${ev.comm}:${ev.pid}`);
        if (ev.cpu !== null) this.meta(PID_CPUS, ev.cpu, `cpu${ev.cpu}`);
        break;
      }
      case 'transition.start':
        this.open.set(`transition:${ev.patch}`, { ts, name: `${ev.target} ${ev.patch}`, tid: 1, pid: PID_KLP });
        this.meta(PID_KLP, 1, 'transitions');
        break;
      case 'transition.complete': {
        const o = this.open.get(`transition:${ev.patch}`);
        if (o) this.slice(o.pid, o.tid, o.name, o.ts, ts);
        this.open.delete(`transition:${ev.patch}`);
        break;
      }
      case 'rcu.gp_end':
        this.slice(PID_KLP, 2, `grace period (${ev.reason})`, ts - ev.durationNs / 1000, ts);
        this.meta(PID_KLP, 2, 'rcu');
        break;
      case 'call.redirect':
      case 'text.poke':
      case 'violation':
      case 'fault':
      case 'nop.discard':
      case 'klp.free':
        this.events.push({
          name: ev.type,
          ph: 'i',
          s: 't',
          ts,
          pid: ev.cpu === null ? PID_KLP : PID_CPUS,
          tid: ev.cpu ?? 3,
          args: { ...ev },
        });
        break;
      case 'log':
        this.events.push({ name: ev.text.slice(0, 80), ph: 'i', s: 'p', ts, pid: PID_KLP, tid: 4, args: { text: ev.text } });
        this.meta(PID_KLP, 4, 'kernel log');
        break;
      default:
        break;
    }
  }

  build(): { traceEvents: TraceEvent[]; displayTimeUnit: string } {
    return { traceEvents: [...this.names(), ...this.events], displayTimeUnit: 'ns' };
  }

  private readonly metaSeen = new Set<string>();
  private names(): TraceEvent[] {
    return [
      { name: 'process_name', ph: 'M', ts: 0, pid: PID_CPUS, tid: 0, args: { name: 'CPUs' } },
      { name: 'process_name', ph: 'M', ts: 0, pid: PID_TASKS, tid: 0, args: { name: 'tasks' } },
      { name: 'process_name', ph: 'M', ts: 0, pid: PID_KLP, tid: 0, args: { name: 'livepatch' } },
    ];
  }

  private meta(pid: number, tid: number, name: string): void {
    const key = `${pid}:${tid}`;
    if (this.metaSeen.has(key)) return;
    this.metaSeen.add(key);
    this.events.push({ name: 'thread_name', ph: 'M', ts: 0, pid, tid, args: { name } });
  }

  private slice(pid: number, tid: number, name: string, from: number, to: number): void {
    this.events.push({ name, ph: 'X', ts: from, dur: Math.max(0, to - from), pid, tid });
  }
}
