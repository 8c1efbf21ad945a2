/**
 * The shell's view of tracefs (/sys/kernel/tracing, and the same instance at /sys/kernel/debug/tracing)
 * and of debugfs's kprobes directory (/sys/kernel/debug/kprobes): which files exist with which mode, and
 * what a read or a write of each does (src/kernel/function-tracer.ts, kprobe-events.ts, kprobes.ts).
 *
 * Modes as the kernel creates them: tracefs's control files 0644 (TRACE_MODE_WRITE; 0640 from 6.2 with
 * "tracing: Add TRACE_MODE_*" — root reads either), available_tracers 0444, events/…/enable 0644;
 * debugfs's kprobes/enabled 0600 and kprobes/list 0400.
 */
import { posix } from 'path';
import type { SimContext } from './sim-context';
import { EINVAL } from './errno';

export const TRACEFS_ROOTS = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'] as const;
export const KPROBES_DEBUGFS = '/sys/kernel/debug/kprobes';

const TRACE_FILES: Record<string, number> = {
  available_tracers: 0o444,
  current_tracer: 0o644,
  events: -1,
  kprobe_events: 0o644,
  set_ftrace_filter: 0o644,
  trace: 0o644,
  tracing_on: 0o644,
};

export type TracefsNode = { kind: 'dir'; entries: string[] } | { kind: 'file'; mode: number } | null;

/** The part of a path under a tracefs root ('' for the root), or null. */
function underTracefs(p: string): string | null {
  for (const root of TRACEFS_ROOTS) {
    if (p === root) return '';
    if (p.startsWith(root + '/')) return p.slice(root.length + 1);
  }
  return null;
}

export function isTracefsPath(p: string): boolean {
  return underTracefs(p) !== null || p === KPROBES_DEBUGFS || p.startsWith(KPROBES_DEBUGFS + '/');
}

/** The node at a normalised path inside tracefs or debugfs's kprobes. */
export function tracefsLookup(ctx: SimContext, p: string): TracefsNode {
  if (p === KPROBES_DEBUGFS) return { kind: 'dir', entries: ['enabled', 'list'] };
  if (p === `${KPROBES_DEBUGFS}/enabled`) return { kind: 'file', mode: 0o600 };
  if (p === `${KPROBES_DEBUGFS}/list`) return { kind: 'file', mode: 0o400 };
  const rel = underTracefs(p);
  if (rel === null) return null;
  if (rel === '') return { kind: 'dir', entries: Object.keys(TRACE_FILES).sort() };
  const parts = rel.split('/');
  if (parts.length === 1) {
    const mode = TRACE_FILES[parts[0]];
    if (mode === undefined) return null;
    return mode < 0 ? { kind: 'dir', entries: eventGroups(ctx) } : { kind: 'file', mode };
  }
  if (parts[0] !== 'events') return null;
  const events = ctx.m.kprobeEvents.all().filter((e) => e.group === parts[1]);
  if (events.length === 0) return null;
  if (parts.length === 2) return { kind: 'dir', entries: events.map((e) => e.name).sort() };
  const ev = events.find((e) => e.name === parts[2]);
  if (!ev) return null;
  if (parts.length === 3) return { kind: 'dir', entries: ['enable'] };
  return parts.length === 4 && parts[3] === 'enable' ? { kind: 'file', mode: 0o644 } : null;
}

function eventGroups(ctx: SimContext): string[] {
  return [...new Set(ctx.m.kprobeEvents.all().map((e) => e.group))].sort();
}

/** read(2) of a tracefs file: its text. */
export function tracefsRead(ctx: SimContext, p: string): string {
  const m = ctx.m;
  if (p === `${KPROBES_DEBUGFS}/enabled`) return m.kprobes.allDisarmed ? '0\n' : '1\n';
  if (p === `${KPROBES_DEBUGFS}/list`) {
    // show_kprobe_addr(): ADDR  k  SYM+0x0    [FTRACE], with [DISABLED] for a disabled probe.
    return m.kprobes
      .all()
      .map(
        (k) => `${k.addr.toString(16).padStart(16, '0')}  k  ${m.kallsyms.format(k.addr)}    ${k.disabled ? '[DISABLED]' : ''}[FTRACE]\n`,
      )
      .join('');
  }
  const rel = underTracefs(p) ?? '';
  switch (rel) {
    case 'available_tracers':
      return 'function nop\n';
    case 'current_tracer':
      return `${m.tracer.current}\n`;
    case 'set_ftrace_filter':
      return m.tracer.readFilter();
    case 'tracing_on':
      return m.tracer.tracingOn ? '1\n' : '0\n';
    case 'trace':
      return m.tracer.readTrace();
    case 'kprobe_events':
      return m.kprobeEvents.read();
  }
  const ev = /^events\/([^/]+)\/([^/]+)\/enable$/.exec(rel);
  const e = ev ? m.kprobeEvents.find(ev[1], ev[2]) : undefined;
  return e && m.kprobeEvents.enabled(e) ? '1\n' : '0\n';
}

/**
 * open(2) + write(2) of a tracefs file: `{ open }` an errno of the open (bash's `-bash: FILE: …`), else
 * the write's errno (`-bash: echo: write error: …`), 0 when it succeeded. `value` is echo's output
 * without its newline.
 */
export async function tracefsWrite(ctx: SimContext, p: string, value: string, append: boolean): Promise<{ open?: number; write: number }> {
  const m = ctx.m;
  // kstrtoul_from_user() of a 0/1 file: a number, else EINVAL.
  const bool = (): number | null => (/^\s*\d+\s*$/.test(value) ? Number(value.trim()) : null);
  if (p === `${KPROBES_DEBUGFS}/enabled`) {
    // write_enabled_file_bool(): kstrtobool.
    const c = value.trim()[0];
    if (c === undefined || !'yYnN01'.includes(c)) return { write: EINVAL };
    return { write: await m.kprobes.setAllArmed('yY1'.includes(c)) };
  }
  const rel = underTracefs(p) ?? '';
  switch (rel) {
    case 'current_tracer':
      // tracing_set_trace_write(): the name without trailing whitespace.
      return { write: await m.tracer.setTracer(value.trim()) };
    case 'set_ftrace_filter':
      return { write: await m.tracer.writeFilter(value, append) };
    case 'tracing_on': {
      const v = bool();
      if (v === null) return { write: EINVAL };
      m.tracer.setTracingOn(v !== 0);
      return { write: 0 };
    }
    case 'trace':
      // tracing_open() with O_TRUNC empties the buffer; the write itself is accepted and ignored.
      if (!append) m.tracer.resetBuffer();
      return { write: 0 };
    case 'kprobe_events': {
      if (!append) {
        const r = await m.kprobeEvents.truncate();
        if (r) return { open: r, write: 0 };
      }
      return { write: await m.kprobeEvents.write(value) };
    }
  }
  const ev = /^events\/([^/]+)\/([^/]+)\/enable$/.exec(rel);
  const e = ev ? m.kprobeEvents.find(ev[1], ev[2]) : undefined;
  const v = bool();
  if (!e || v === null || (v !== 0 && v !== 1)) return { write: EINVAL };
  return { write: await m.kprobeEvents.setEnabled(e, v === 1) };
}

/** The directory above a tracefs path (for the create errno of a name that is not there). */
export const tracefsParent = (p: string): string => posix.dirname(p);
