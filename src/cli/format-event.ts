/**
 * Renders events for a terminal: `--format pretty` (one readable line per event), `dmesg` (the kernel log
 * only, `[ seconds.micros] text` as dmesg prints it) and `ndjson` (the event as JSON).
 */
import type { SimEvent } from '../kernel/events';

export type OutputFormat = 'pretty' | 'dmesg' | 'ndjson';

export function dmesgTime(ns: number): string {
  const us = Math.floor(ns / 1000);
  const s = Math.floor(us / 1_000_000);
  return `[${String(s).padStart(5)}.${String(us % 1_000_000).padStart(6, '0')}]`;
}

const SKIP = new Set(['t', 'seq', 'cpu', 'type']);

/** A scenario position (a violation's `pos`) as FILE:LINE:COL, any other object as JSON. */
function fieldText(v: unknown): string {
  if (typeof v !== 'object' || v === null) return String(v);
  const p = v as { file?: unknown; line?: unknown; col?: unknown };
  return typeof p.file === 'string' && typeof p.line === 'number' && typeof p.col === 'number'
    ? `${p.file}:${p.line}:${p.col}`
    : JSON.stringify(v);
}

export function formatEvent(ev: SimEvent, format: OutputFormat): string | null {
  if (format === 'ndjson') return JSON.stringify(ev);
  if (format === 'dmesg') return ev.type === 'log' ? `${dmesgTime(ev.t)} ${ev.text}` : null;
  const where = ev.cpu === null ? 'coord' : `cpu${ev.cpu}`;
  const head = `${dmesgTime(ev.t)} ${where.padEnd(5)} ${ev.type.padEnd(16)}`;
  if (ev.type === 'log') return `${head} ${ev.text}`;
  const fields = Object.entries(ev)
    .filter(([k, v]) => !SKIP.has(k) && v !== undefined)
    .map(
      ([k, v]) =>
        `${k}=${typeof v === 'number' && k.endsWith('addr') ? `0x${v.toString(16)}` : typeof v === 'string' && /\s/.test(v) ? JSON.stringify(v) : fieldText(v)}`,
    );
  return `${head} ${fields.join(' ')}`;
}
