/**
 * The sh subset a scenario's `sh:` commands use: words, '…' and "…" quoting, backslash escapes, `#`
 * comments and `>` / `>>` redirection. Everything else sh would give a meaning to (pipes, `;`, `&`,
 * `<`, `$VAR`, `$(…)`, backquotes) is refused rather than silently taken literally, so a command never
 * means something other than what it would mean in a real shell. Glob characters stay literal, which is
 * what sh does when a pattern matches no file (the usual case for a grep pattern).
 */

export class ShellParseError extends Error {
  constructor(
    /** 1-based column in the command string. */
    readonly col: number,
    message: string,
  ) {
    super(message);
    this.name = 'ShellParseError';
  }
}

export type ShellToken =
  { kind: 'word'; text: string; col: number; end: number } | { kind: 'redirect'; append: boolean; col: number; end: number };

const UNSUPPORTED: Record<string, string> = {
  '|': 'pipes are not supported',
  ';': "';' is not supported: use one step per command",
  '&': "'&' is not supported",
  '<': 'input redirection is not supported',
  '(': 'subshells are not supported',
  ')': 'subshells are not supported',
  '`': 'command substitution is not supported',
};

/** `$NAME`, `${…}`, `$(…)` and `$1`: sh would expand them; klpsim does not. */
function checkDollar(cmd: string, i: number): void {
  const next = cmd[i + 1];
  if (next !== undefined && /[A-Za-z_{(0-9@*#?$!-]/.test(next)) {
    const m = /^\$(\{[^}]*\}?|\([^)]*\)?|[A-Za-z_][A-Za-z0-9_]*|.)/.exec(cmd.slice(i));
    throw new ShellParseError(i + 1, `shell expansion '${m ? m[0] : '$'}' is not supported`);
  }
}

/** Columns are 1-based; `end` is the column just past the token. */
export function tokenizeShell(cmd: string): ShellToken[] {
  const tokens: ShellToken[] = [];
  let i = 0;
  while (i < cmd.length) {
    const c = cmd[i];
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    if (c === '\n' || c === '\r') throw new ShellParseError(i + 1, 'a command is one line');
    if (c === '#') break;
    if (c === '>') {
      const append = cmd[i + 1] === '>';
      const len = append ? 2 : 1;
      if (cmd[i + len] === '&' || cmd[i + len] === '|')
        throw new ShellParseError(i + 1, `redirection '${cmd.slice(i, i + len + 1)}' is not supported`);
      tokens.push({ kind: 'redirect', append, col: i + 1, end: i + len + 1 });
      i += len;
      continue;
    }
    const why = UNSUPPORTED[c];
    if (why) throw new ShellParseError(i + 1, why);

    const start = i;
    let text = '';
    while (i < cmd.length) {
      const ch = cmd[i];
      if (ch === ' ' || ch === '\t' || ch === '>') break;
      if (UNSUPPORTED[ch]) throw new ShellParseError(i + 1, UNSUPPORTED[ch]);
      if (ch === '\n' || ch === '\r') throw new ShellParseError(i + 1, 'a command is one line');
      if (ch === "'") {
        const close = cmd.indexOf("'", i + 1);
        if (close < 0) throw new ShellParseError(i + 1, 'unterminated single quote');
        text += cmd.slice(i + 1, close);
        i = close + 1;
      } else if (ch === '"') {
        const open = i;
        i++;
        for (;;) {
          const d = cmd[i];
          if (d === undefined) throw new ShellParseError(open + 1, 'unterminated double quote');
          if (d === '"') break;
          if (d === '\\' && i + 1 < cmd.length && '"\\$`'.includes(cmd[i + 1])) {
            text += cmd[i + 1];
            i += 2;
            continue;
          }
          if (d === '$') checkDollar(cmd, i);
          if (d === '`') throw new ShellParseError(i + 1, UNSUPPORTED['`']);
          text += d;
          i++;
        }
        i++;
      } else if (ch === '\\') {
        if (i + 1 >= cmd.length) throw new ShellParseError(i + 1, 'trailing backslash');
        text += cmd[i + 1];
        i += 2;
      } else {
        if (ch === '$') checkDollar(cmd, i);
        text += ch;
        i++;
      }
    }
    // `2>` would redirect a file descriptor in sh; only stdout redirection is supported.
    if (cmd[i] === '>' && /^[0-9]+$/.test(cmd.slice(start, i))) {
      throw new ShellParseError(start + 1, `redirection '${cmd.slice(start, i + 1)}' is not supported`);
    }
    tokens.push({ kind: 'word', text, col: start + 1, end: i + 1 });
  }
  return tokens;
}
