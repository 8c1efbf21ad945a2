/**
 * The screen of `klpsim watch`, as a pure function from a snapshot of the simulation to lines of text.
 * Kept apart from the code that reads the machine (watch.ts) so it can be tested on a constructed
 * snapshot, and so the renderer's cost can be measured on its own (src/bench/events.ts).
 */
import { dmesgTime } from './format-event';

export interface WatchCpu {
  cpu: number;
  /** 'running' | 'idle' | 'stopped' | 'crashed' | 'offline'. */
  mode: string;
  /** 0 while the CPU runs its idle task. */
  pid: number;
  comm: string;
  /** The function LastRip falls in (null: no symbol, e.g. before the first slice). */
  func: string | null;
}

export interface WatchPatch {
  mod: string;
  enabled: boolean;
  /** This is klp_transition_patch. */
  transition: boolean;
  replace: boolean;
  forced: boolean;
  nops: number;
}

export interface WatchTransition {
  patch: string;
  /** 'patched' | 'unpatched'. */
  target: string;
  /** Tasks (idle tasks included) whose patch_state already equals the target. */
  done: number;
  total: number;
}

export interface WatchFuncStackEntry {
  patch: string;
  nop: boolean;
  transition: boolean;
}

export interface WatchFuncStack {
  func: string;
  /** Newest first, as the kernel's func_stack: the first entry is the one the ftrace handler uses. */
  entries: WatchFuncStackEntry[];
}

export interface WatchSnapshot {
  title: string;
  /** Simulated time, ns. */
  timeNs: number;
  events: number;
  cpus: WatchCpu[];
  /** klp_patches, oldest first. */
  patches: WatchPatch[];
  transition: WatchTransition | null;
  funcStacks: WatchFuncStack[];
  /** The last kernel log lines, oldest first. */
  log: string[];
  /** Set once the run has ended. */
  done?: { exitCode: number };
}

export interface WatchViewOptions {
  /** Lines longer than this are cut (the terminal's width); 0 or absent: no limit. */
  columns?: number;
  /** At most this many lines (the terminal's height), so a redraw from home never scrolls; 0: no limit. */
  rows?: number;
}

const BAR = 20;

function progressBar(done: number, total: number): string {
  const filled = total > 0 ? Math.round((done / total) * BAR) : 0;
  return `[${'#'.repeat(filled)}${'.'.repeat(BAR - filled)}]`;
}

function patchFlags(p: WatchPatch): string {
  const flags = [p.enabled ? 'enabled' : 'disabled'];
  if (p.transition) flags.push('transition');
  if (p.replace) flags.push('replace');
  if (p.forced) flags.push('forced');
  flags.push(`${p.nops} NOP${p.nops === 1 ? '' : 's'}`);
  return flags.join(', ');
}

function stackEntry(e: WatchFuncStackEntry): string {
  const tags = [e.nop ? 'nop' : '', e.transition ? 'transition' : ''].filter(Boolean);
  return tags.length > 0 ? `${e.patch}(${tags.join(',')})` : e.patch;
}

export function renderWatch(s: WatchSnapshot, o: WatchViewOptions = {}): string[] {
  const lines: string[] = [];
  const status = s.done ? `finished, exit ${s.done.exitCode}` : 'running';
  lines.push(`klpsim watch: ${s.title}`);
  lines.push(`${dmesgTime(s.timeNs)} simulated   ${s.events} events   ${status}`);
  lines.push('');

  lines.push('CPUs');
  for (const c of s.cpus) {
    const task = c.pid === 0 ? `swapper/${c.cpu}` : `${c.comm}:${c.pid}`;
    lines.push(`  cpu${String(c.cpu).padEnd(3)} ${c.mode.padEnd(8)} ${task.padEnd(24)} ${c.func ?? '-'}`);
  }
  lines.push('');

  lines.push('patches (oldest first)');
  if (s.patches.length === 0) lines.push('  (none)');
  s.patches.forEach((p, i) => lines.push(`  ${i + 1}. ${p.mod.padEnd(28)} ${patchFlags(p)}`));
  if (s.transition) {
    const t = s.transition;
    lines.push(`  transition: ${t.patch} -> ${t.target}  ${progressBar(t.done, t.total)} ${t.done}/${t.total} tasks`);
  } else lines.push('  transition: none');
  lines.push('');

  lines.push('func_stacks (newest first)');
  if (s.funcStacks.length === 0) lines.push('  (none)');
  for (const f of s.funcStacks) lines.push(`  ${f.func.padEnd(28)} ${f.entries.map(stackEntry).join(' > ') || '(empty)'}`);
  lines.push('');

  lines.push('kernel log');
  if (s.log.length === 0) lines.push('  (empty)');
  for (const l of s.log) lines.push(`  ${l}`);

  const rows = o.rows ?? 0;
  if (rows > 0 && lines.length > rows)
    lines.splice(rows - 1, lines.length, `... ${lines.length - rows + 1} more lines (a taller terminal shows them)`);
  const cols = o.columns ?? 0;
  return cols > 0 ? lines.map((l) => (l.length > cols ? l.slice(0, cols) : l)) : lines;
}

/** ESC [ H (home) then each line cleared to its end, then ESC [ J: a redraw without a blank flash. */
export function ansiFrame(lines: string[]): string {
  return `\x1b[H${lines.map((l) => `${l}\x1b[K`).join('\n')}\n\x1b[J`;
}
