/**
 * What every input must end in (issue 11, "Done when"): exit 0, 1 or 2; never a stack trace, an
 * "internal error" or a JavaScript error's name in what the user sees; bad scenario input as
 * `FILE:LINE:COL: message`, at a position that is in the file.
 */

/** Text that means klpsim lost control: a crash leaking through to the user. */
const FORBIDDEN: readonly [RegExp, string][] = [
  [/internal error/, '"internal error"'],
  [/^\s*at (?:.+ \()?(?:\/|node:|file:|<anonymous>|native)/m, 'a stack frame'],
  [/\b(?:TypeError|RangeError|ReferenceError|SyntaxError|EvalError|AggregateError)\b/, 'a JavaScript error name'],
  [/Maximum call stack/, '"Maximum call stack"'],
  [/\bUnhandled(?:PromiseRejection)?\b/, 'an unhandled rejection'],
];

export function forbiddenIn(text: string): string | null {
  for (const [re, what] of FORBIDDEN) {
    const m = re.exec(text);
    if (m) {
      const line = text.slice(text.lastIndexOf('\n', m.index) + 1, (text.indexOf('\n', m.index) + 1 || text.length + 1) - 1);
      return `${what}: ${JSON.stringify(line.slice(0, 300))}`;
    }
  }
  return null;
}

const POSITIONED = /^([^:\n]+):(\d+):(\d+): \S/;

/**
 * Problems with a scenario error report: each line `FILE:LINE:COL: message`, FILE the file the user gave,
 * LINE and COL inside the text (a position past the end is allowed: "unexpected end of file").
 */
export function badDiagnostics(report: string, file: string, text: string): string | null {
  const lines = report.split('\n').filter((l) => l !== '');
  if (lines.length === 0) return 'exit 2 without a message';
  const textLines = text.split('\n');
  for (const l of lines) {
    const m = POSITIONED.exec(l);
    if (!m) return `not FILE:LINE:COL: message: ${JSON.stringify(l.slice(0, 300))}`;
    if (m[1] !== file) return `names file ${JSON.stringify(m[1])}, not ${JSON.stringify(file)}: ${JSON.stringify(l.slice(0, 300))}`;
    const line = Number(m[2]);
    const col = Number(m[3]);
    if (line < 1 || line > textLines.length + 1)
      return `line ${line} is outside the file (${textLines.length} lines): ${JSON.stringify(l.slice(0, 300))}`;
    if (col < 1 || col > (textLines[line - 1]?.length ?? 0) + 2)
      return `column ${col} is outside line ${line}: ${JSON.stringify(l.slice(0, 300))}`;
  }
  return null;
}

export const EXIT_CODES: readonly number[] = [0, 1, 2];
