/**
 * Reads a recorded event stream for `klpsim serve --replay`: the ndjson that `klpsim run FILE --format
 * ndjson` prints (or the page's own download), one event per line. Bad input is reported the way scenario
 * files are — `FILE:LINE:COL: message` for every bad line at once — and the command exits 2.
 *
 * Each line must be a JSON object with the fields every event has (SPEC section 5): numeric `t` and
 * `seq`, `cpu` a number or null, a string `type`. Types this version does not know are kept (the page
 * ignores them): streams from newer versions may carry new event types.
 */
import type { SimEvent } from '../kernel/events';
import { formatDiagnostic, ScenarioDiagnostic } from '../scenario/scenario-error';
import { jsonErrorOffset } from './json-position';
import { ReadCappedError, readTextCapped } from '../util/read-capped';

/**
 * The largest recording read: the flagship's 65 000 events are about 15 MiB; past a few hundred MiB the
 * page could not hold the run anyway (and a JavaScript string ends at 512 MiB).
 */
const MAX_RECORDING_BYTES = 256 << 20;

/** Bad lines of a recording; the message is one `FILE:LINE:COL: message` line each. */
export class ReplayError extends Error {
  constructor(readonly diagnostics: ScenarioDiagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join('\n'));
    this.name = 'ReplayError';
  }
}

export interface Recording {
  events: SimEvent[];
  /** CPUs the recorded machine had: the widest sync-core IPI, or the highest CPU seen, plus one. */
  cpus: number;
}

/** Past this many bad lines the rest are summarised: a wrong file would print a line for each of its lines. */
const MAX_DIAGNOSTICS = 20;

export function readRecording(file: string): Recording {
  let text: string;
  try {
    text = readTextCapped(file, MAX_RECORDING_BYTES, 'recording');
  } catch (e) {
    if (!(e instanceof ReadCappedError)) throw e;
    throw new ReplayError([{ pos: { file, line: 1, col: 1 }, message: e.message }]);
  }
  return parseRecording(text, file);
}

export function parseRecording(text: string, file: string): Recording {
  const events: SimEvent[] = [];
  const bad: ScenarioDiagnostic[] = [];
  let badLines = 0;
  let cpus = 0;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].replace(/\r$/, '');
    if (raw.trim() === '') continue;
    const r = parseLine(raw);
    if ('message' in r) {
      badLines++;
      if (bad.length < MAX_DIAGNOSTICS) bad.push({ pos: { file, line: i + 1, col: r.col }, message: r.message });
      continue;
    }
    const ev = r.event;
    if (ev.cpu !== null) cpus = Math.max(cpus, ev.cpu + 1);
    if (ev.type === 'ipi.sync_core' && typeof ev.cpus === 'number') cpus = Math.max(cpus, ev.cpus);
    events.push(ev);
  }
  if (badLines > bad.length) {
    const last = bad[bad.length - 1].pos;
    bad.push({ pos: { ...last, col: 1 }, message: `and ${badLines - bad.length} more bad lines` });
  }
  if (bad.length > 0) throw new ReplayError(bad);
  if (events.length === 0)
    throw new ReplayError([
      { pos: { file, line: 1, col: 1 }, message: 'no events: expected the ndjson of `klpsim run FILE --format ndjson`' },
    ]);
  return { events, cpus: Math.max(1, cpus) };
}

function parseLine(raw: string): { event: SimEvent } | { col: number; message: string } {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch (e) {
    return jsonError(raw, (e as Error).message);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    return { col: firstNonBlank(raw), message: 'expected a JSON object (one event per line)' };
  const o = v as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof o.type !== 'string' || o.type === '') problems.push('"type" must be a non-empty string');
  if (typeof o.t !== 'number' || !Number.isFinite(o.t)) problems.push('"t" must be a number (simulated ns)');
  if (typeof o.seq !== 'number' || !Number.isInteger(o.seq)) problems.push('"seq" must be an integer');
  if (!(o.cpu === null || (typeof o.cpu === 'number' && Number.isInteger(o.cpu) && o.cpu >= 0 && o.cpu < 4096)))
    problems.push('"cpu" must be a CPU number or null');
  if (problems.length > 0) return { col: firstNonBlank(raw), message: `not an event: ${problems.join('; ')}` };
  return { event: o as unknown as SimEvent };
}

/** The column is found by our own scan (V8 names a position only for some errors); the text is V8's, without its echo of the line. */
function jsonError(raw: string, message: string): { col: number; message: string } {
  const at = jsonErrorOffset(raw);
  const col = (at < 0 ? raw.length : at) + 1;
  // `Unexpected token '}', "{"t": }" is not valid JSON` -> `Unexpected token '}'`; drop "in JSON at position N".
  const what = message.replace(/, ".*" is not valid JSON$/s, '').replace(/ in JSON at position \d+.*$/s, '');
  return { col, message: `invalid JSON: ${what}` };
}

function firstNonBlank(raw: string): number {
  const i = raw.search(/\S/);
  return i < 0 ? 1 : i + 1;
}
