/**
 * The tracing instance of tracefs (/sys/kernel/tracing, also /sys/kernel/debug/tracing) as far as the
 * function tracer goes (kernel/trace/trace.c, trace_functions.c, ftrace.c's set_ftrace_filter):
 * `current_tracer` (nop, function), `available_tracers`, `set_ftrace_filter`, `tracing_on`, `trace`.
 *
 * - `echo function > current_tracer`: tracing_set_tracer() -> tracer_init(), which empties the ring
 *   buffer, then function_trace_init() registers the tracer's ftrace_ops with the filter of
 *   set_ftrace_filter (none: every traceable function). `nop` unregisters it. Anything else: -EINVAL.
 * - set_ftrace_filter: ftrace_regex_write() — whitespace-separated names or globs (`*` and `?`) of
 *   traceable functions; a word that matches nothing is -EINVAL (and nothing of the write is applied);
 *   `>` (O_TRUNC) empties the filter first, `>>` adds. Reading it lists the functions, or
 *   `#### all functions enabled ####` when it is empty. A change reaches the sites at once when the
 *   tracer is on (ftrace_ops_update_code()).
 * - tracing_on: the ring buffer records (1) or not (0); the ops stay registered.
 * - trace: formatTrace(); a truncating write empties every CPU's ring.
 *
 * Coordinator only (tracefs writes); the CPUs see the ops through the site users table and TracingOn.
 */
import type { Kallsyms } from '../mem/kallsyms';
import { FTRACE_USER_FUNCTION, TraceControl, TraceEntry } from '../mem/ftrace-users';
import type { EventBody } from './events';
import type { FtraceCore, FtraceOpsRef } from './ftrace-ops';
import { formatTrace } from './trace-output';

const EINVAL = -22;

export const TRACERS = ['function', 'nop'] as const;

export interface TracerEnv {
  readonly kallsyms: Kallsyms;
  readonly cpus: number;
  emit(ev: EventBody): void;
  comm(pid: number): string;
  symbol(addr: number, offset: boolean): string;
  kprobeEvent(slot: number): string;
}

export class FunctionTracer {
  current: string = 'nop';
  /** set_ftrace_filter: function addresses (ftrace_hash of the global ops). */
  private filter = new Set<number>();
  private readonly ops: FtraceOpsRef = { owner: 'function', flags: 0, user: FTRACE_USER_FUNCTION, filter: null };

  constructor(
    private readonly ftrace: FtraceCore,
    private readonly env: TracerEnv,
  ) {}

  private filterOrAll(): ReadonlySet<number> | null {
    return this.filter.size === 0 ? null : new Set(this.filter);
  }

  /** tracing_set_tracer(): 0 or -EINVAL. */
  async setTracer(name: string): Promise<number> {
    if (!(TRACERS as readonly string[]).includes(name)) return EINVAL;
    if (name === this.current) return 0;
    if (this.current === 'function') await this.ftrace.unregister(this.ops);
    if (name === 'function') {
      this.resetBuffer();
      this.ops.filter = this.filterOrAll();
      const ret = await this.ftrace.register(this.ops);
      if (ret) return ret;
    }
    this.current = name;
    this.env.emit({ type: 'tracer.set', tracer: name });
    return 0;
  }

  private traceable(): { name: string; addr: number }[] {
    return this.env.kallsyms.ftraceSites();
  }

  /** ftrace_regex_write() of set_ftrace_filter: 0 or -EINVAL. `append`: `>>` (no O_TRUNC). */
  async writeFilter(text: string, append: boolean): Promise<number> {
    const next = append ? new Set(this.filter) : new Set<number>();
    const funcs = this.traceable();
    for (const word of text.split(/\s+/).filter((w) => w.length > 0)) {
      const re = new RegExp(
        `^${word
          .replace(/[.+^${}()|[\]\\]/g, '\\$&')
          .replace(/\*/g, '.*')
          .replace(/\?/g, '.')}$`,
      );
      const hit = funcs.filter((f) => re.test(f.name));
      if (hit.length === 0) return EINVAL;
      for (const f of hit) next.add(f.addr);
    }
    this.filter = next;
    if (this.current === 'function') return this.ftrace.setFilter(this.ops, this.filterOrAll());
    return 0;
  }

  readFilter(): string {
    if (this.filter.size === 0) return '#### all functions enabled ####\n';
    return (
      [...this.filter]
        .map((a) => this.env.kallsyms.symbolAt(a)?.name ?? '')
        .sort()
        .join('\n') + '\n'
    );
  }

  get tracingOn(): boolean {
    return this.ftrace.users.ctl(TraceControl.TracingOn) !== 0;
  }

  setTracingOn(on: boolean): void {
    this.ftrace.users.setCtl(TraceControl.TracingOn, on ? 1 : 0);
  }

  /** tracing_reset_online_cpus(). */
  resetBuffer(): void {
    for (let c = 0; c < this.env.cpus; c++) this.ftrace.users.reset(c);
  }

  entries(): { entries: TraceEntry[]; written: number } {
    const entries: TraceEntry[] = [];
    let written = 0;
    for (let c = 0; c < this.env.cpus; c++) {
      const r = this.ftrace.users.read(c);
      entries.push(...r.entries);
      written += r.written;
    }
    return { entries, written };
  }

  readTrace(): string {
    const { entries, written } = this.entries();
    return formatTrace({
      tracer: this.current,
      entries,
      written,
      cpus: this.env.cpus,
      comm: (pid) => this.env.comm(pid),
      symbol: (a, o) => this.env.symbol(a, o),
      kprobeEvent: (s) => this.env.kprobeEvent(s),
    });
  }
}
