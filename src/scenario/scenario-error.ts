import type { Pos } from './scenario-types';

export interface ScenarioDiagnostic {
  pos: Pos;
  message: string;
}

/**
 * Characters a message may quote from the user's file that would break its one line or fool the terminal:
 * line breaks, other control characters (an ESC starts a terminal escape sequence), and the invisible
 * and direction-changing ones (a message must show what the file holds, as `cat -v` would).
 */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

export function escapeUnprintable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => NAMED[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** One line: `FILE:LINE:COL: message`, whatever the message quotes. */
export function formatDiagnostic(d: ScenarioDiagnostic): string {
  return `${escapeUnprintable(d.pos.file)}:${d.pos.line}:${d.pos.col}: ${escapeUnprintable(d.message)}`;
}

function compare(a: ScenarioDiagnostic, b: ScenarioDiagnostic): number {
  if (a.pos.file !== b.pos.file) return a.pos.file < b.pos.file ? -1 : 1;
  if (a.pos.line !== b.pos.line) return a.pos.line - b.pos.line;
  if (a.pos.col !== b.pos.col) return a.pos.col - b.pos.col;
  return a.message < b.message ? -1 : a.message > b.message ? 1 : 0;
}

/**
 * Everything wrong with a scenario file, found in one pass so a user fixes all of it at once. The message
 * is the `FILE:LINE:COL: message` lines that `klpsim check` prints, in file order.
 */
export class ScenarioError extends Error {
  readonly diagnostics: ScenarioDiagnostic[];

  constructor(diagnostics: ScenarioDiagnostic[]) {
    // Several checks can reach the same node the same way (e.g. a union branch and a refinement): say it once.
    const seen = new Set<string>();
    const unique = [...diagnostics].sort(compare).filter((d) => {
      const key = formatDiagnostic(d);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    super(unique.map(formatDiagnostic).join('\n'));
    this.name = 'ScenarioError';
    this.diagnostics = unique;
  }
}
