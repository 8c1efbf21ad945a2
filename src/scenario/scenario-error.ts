import type { Pos } from './scenario-types';

export interface ScenarioDiagnostic {
  pos: Pos;
  message: string;
}

export function formatDiagnostic(d: ScenarioDiagnostic): string {
  return `${d.pos.file}:${d.pos.line}:${d.pos.col}: ${d.message}`;
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
