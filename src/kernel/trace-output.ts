/**
 * The text of tracefs's `trace` file (kernel/trace/trace.c, trace_output.c), as 6.x prints it with the
 * default options (irq-info, no sym-offset, print-parent):
 *
 *   # tracer: function
 *   #
 *   # entries-in-buffer/entries-written: 2/2   #P:2
 *   #
 *   #                                _-----=> irqs-off/BH-disabled
 *   …
 *   #              | |         |   |||||     |         |
 *                cat-7       [001] .....     0.012345: cmdline_proc_show <-ret_from_call
 *
 * print_trace_header()/print_event_info(), print_func_help_header_irq(); each entry through
 * trace_print_context() (`%16s-%-7d `, `[%03d] `, the five latency flags, ` %5lu.%06lu: `) and
 * trace_fn_trace() (`FUNC <-PARENT`, a module's symbols with ` [MOD]`) or print_kprobe_event()
 * (`NAME: (FUNC+0x0/0xSIZE)`). The flags are `.....`: klpsim's tasks trace with interrupts on, no
 * reschedule pending, outside hard/soft irq, preempt depth 0 (function_trace_call() takes the recursion
 * lock's preempt_disable back out: tracing_gen_ctx_dec()) and migration enabled.
 */
import type { TraceEntry } from '../mem/ftrace-users';
import { TRACE_TYPE_KPROBE } from '../mem/ftrace-users';

const HELP_HEADER_IRQ = [
  '#                                _-----=> irqs-off/BH-disabled',
  '#                               / _----=> need-resched',
  '#                              | / _---=> hardirq/softirq',
  '#                              || / _--=> preempt-depth',
  '#                              ||| / _-=> migrate-disable',
  '#                              |||| /     delay',
  '#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION',
  '#              | |         |   |||||     |         |',
];

export interface TraceView {
  tracer: string;
  entries: TraceEntry[];
  written: number;
  cpus: number;
  /** The task's command at the time (saved_cmdlines), `<idle>` for pid 0, `<...>` when not known. */
  comm(pid: number): string;
  /** A symbol as `%ps` prints it (`name` or `name [mod]`), `offset`: as `%pS` (`name+0x0/0x20 [mod]`). */
  symbol(addr: number, offset: boolean): string;
  /** The name of the kprobe event of a kprobe slot. */
  kprobeEvent(slot: number): string;
}

/** `%5lu.%06lu` of a timestamp in ns (ns2usecs, then seconds and microseconds). */
function stamp(ns: number): string {
  const usecs = Math.floor(ns / 1000);
  const secs = Math.floor(usecs / 1_000_000);
  return `${String(secs).padStart(5)}.${String(usecs % 1_000_000).padStart(6, '0')}`;
}

export function formatTrace(v: TraceView): string {
  const lines = [
    `# tracer: ${v.tracer}`,
    '#',
    `# entries-in-buffer/entries-written: ${v.entries.length}/${v.written}   #P:${v.cpus}`,
    '#',
    ...HELP_HEADER_IRQ,
  ];
  for (const e of [...v.entries].sort((a, b) => a.ts - b.ts || a.cpu - b.cpu)) {
    const ctx = `${v.comm(e.pid).padStart(16)}-${String(e.pid).padEnd(7)} [${String(e.cpu).padStart(3, '0')}] ..... ${stamp(e.ts)}: `;
    const body =
      e.type === TRACE_TYPE_KPROBE
        ? `${v.kprobeEvent(e.kprobe)}: (${v.symbol(e.ip, true)})`
        : `${v.symbol(e.ip, false)} <-${v.symbol(e.parent, false)}`;
    lines.push(ctx + body);
  }
  return lines.join('\n') + '\n';
}
