/** One problem in the source, 1-based line and column relative to the text given to assemble(). */
export interface AsmDiagnostic {
  line: number;
  col: number;
  message: string;
}

/** Thrown by assemble() after every line was tried, so one run reports all the bad lines at once. */
export class AsmError extends Error {
  readonly diagnostics: AsmDiagnostic[];

  constructor(diagnostics: AsmDiagnostic[]) {
    const first = diagnostics[0];
    super(first ? `${first.line}:${first.col}: ${first.message}` : 'assembly failed');
    this.name = 'AsmError';
    this.diagnostics = diagnostics;
  }
}

/**
 * Internal: aborts the current line. assemble() turns it into a diagnostic and moves on to the next
 * line, which is how one run collects one error per bad line.
 */
export class LineError extends Error {
  constructor(
    readonly line: number,
    readonly col: number,
    message: string,
  ) {
    super(message);
    this.name = 'LineError';
  }

  toDiagnostic(): AsmDiagnostic {
    return { line: this.line, col: this.col, message: this.message };
  }
}
