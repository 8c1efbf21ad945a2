import { LineError } from './errors';

export type TokenKind = 'ident' | 'num' | 'str' | 'punct';

export interface Token {
  kind: TokenKind;
  /** Source text of the token (for 'str', the raw text including quotes). */
  text: string;
  /** 1-based column of the first character. */
  col: number;
  /** Value of a 'num' token (char literals are numbers too). */
  value?: bigint;
  /** Decoded bytes of a 'str' token. */
  bytes?: number[];
}

const PUNCT = new Set(['[', ']', '+', '-', '*', ',', ':', '(', ')', '~', '{', '}']);

function isIdentStart(c: string): boolean {
  return /[A-Za-z_.$]/.test(c);
}
function isIdentChar(c: string): boolean {
  return /[A-Za-z0-9_.$@]/.test(c);
}

/**
 * Decodes one escape sequence starting at text[i] (the character after the backslash).
 * \xHH takes at most two hex digits (C-like and predictable; GNU as would take every hex digit that
 * follows), octal takes at most three digits as in GNU as, so "\0" is a NUL byte.
 */
function readEscape(text: string, i: number, line: number, col: number): { byte: number; next: number } {
  const c = text[i];
  if (c === undefined) throw new LineError(line, col, 'unterminated escape sequence');
  const simple: Record<string, number> = { n: 10, t: 9, r: 13, '\\': 92, '"': 34, "'": 39, a: 7, b: 8, f: 12, v: 11, e: 27 };
  if (c in simple) return { byte: simple[c], next: i + 1 };
  if (c === 'x' || c === 'X') {
    let j = i + 1;
    let digits = '';
    while (j < text.length && digits.length < 2 && /[0-9A-Fa-f]/.test(text[j])) digits += text[j++];
    if (digits === '') throw new LineError(line, col, '\\x escape needs hex digits');
    return { byte: parseInt(digits, 16), next: j };
  }
  if (/[0-7]/.test(c)) {
    let j = i;
    let digits = '';
    while (j < text.length && digits.length < 3 && /[0-7]/.test(text[j])) digits += text[j++];
    const v = parseInt(digits, 8);
    if (v > 255) throw new LineError(line, col, `octal escape \\${digits} is out of range`);
    return { byte: v, next: j };
  }
  throw new LineError(line, col, `unknown escape sequence \\${c}`);
}

/** Encodes a code point as UTF-8 so non-ASCII text in strings ends up as the bytes a C string would hold. */
function utf8(cp: number): number[] {
  return Array.from(Buffer.from(String.fromCodePoint(cp), 'utf8'));
}

function readNumber(text: string, start: number, line: number): { value: bigint; next: number } {
  let j = start;
  while (j < text.length && isIdentChar(text[j])) j++;
  const raw = text.slice(start, j);
  const lower = raw.toLowerCase();
  let value: bigint | undefined;
  // Leading 0 means octal, as in GNU as, so the cross-check against it means what it says.
  if (/^0x[0-9a-f]+$/.test(lower)) value = BigInt(lower);
  else if (/^0b[01]+$/.test(lower)) value = BigInt(lower);
  else if (/^0[0-7]+$/.test(lower)) value = BigInt('0o' + lower.slice(1));
  else if (/^[0-9]+$/.test(lower)) value = BigInt(lower);
  if (value === undefined) throw new LineError(line, start + 1, `malformed number '${raw}'`);
  return { value, next: j };
}

/**
 * Splits one source line into tokens, dropping the comment (`;`, `#` or `//` outside a string or char literal).
 */
export function tokenizeLine(text: string, line: number): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    const col = i + 1;
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v') {
      i++;
    } else if (c === ';' || c === '#' || (c === '/' && text[i + 1] === '/')) {
      break;
    } else if (c === '"') {
      const bytes: number[] = [];
      let j = i + 1;
      let closed = false;
      while (j < text.length) {
        const d = text[j];
        if (d === '"') {
          closed = true;
          j++;
          break;
        }
        if (d === '\\') {
          const esc = readEscape(text, j + 1, line, j + 1);
          bytes.push(esc.byte);
          j = esc.next;
        } else {
          const cp = text.codePointAt(j) as number;
          for (const b of utf8(cp)) bytes.push(b);
          j += cp > 0xffff ? 2 : 1;
        }
      }
      if (!closed) throw new LineError(line, col, 'unterminated string');
      tokens.push({ kind: 'str', text: text.slice(i, j), col, bytes });
      i = j;
    } else if (c === "'") {
      let j = i + 1;
      let value: number;
      if (text[j] === '\\') {
        const esc = readEscape(text, j + 1, line, j + 1);
        value = esc.byte;
        j = esc.next;
      } else if (j < text.length && text[j] !== "'") {
        value = text.codePointAt(j) as number;
        if (value > 0x7f) throw new LineError(line, col, 'character literal must be ASCII');
        j++;
      } else {
        throw new LineError(line, col, 'empty character literal');
      }
      if (text[j] !== "'") throw new LineError(line, col, 'unterminated character literal');
      j++;
      tokens.push({ kind: 'num', text: text.slice(i, j), col, value: BigInt(value) });
      i = j;
    } else if (/[0-9]/.test(c)) {
      const n = readNumber(text, i, line);
      tokens.push({ kind: 'num', text: text.slice(i, n.next), col, value: n.value });
      i = n.next;
    } else if (isIdentStart(c)) {
      let j = i + 1;
      while (j < text.length && isIdentChar(text[j])) j++;
      tokens.push({ kind: 'ident', text: text.slice(i, j), col });
      i = j;
    } else if (PUNCT.has(c)) {
      tokens.push({ kind: 'punct', text: c, col });
      i++;
    } else {
      throw new LineError(line, col, `unexpected character '${c}'`);
    }
  }
  return tokens;
}

/** A cursor over one line's (or one operand's) tokens; `endCol` is where "missing X" errors point. */
export class TokenStream {
  private pos = 0;

  constructor(
    private readonly tokens: readonly Token[],
    readonly line: number,
    private readonly endCol: number,
  ) {}

  peek(ahead = 0): Token | undefined {
    return this.tokens[this.pos + ahead];
  }

  next(): Token {
    const t = this.tokens[this.pos];
    if (!t) throw new LineError(this.line, this.endCol, 'unexpected end of line');
    this.pos++;
    return t;
  }

  atEnd(): boolean {
    return this.pos >= this.tokens.length;
  }

  isPunct(text: string, ahead = 0): boolean {
    const t = this.peek(ahead);
    return t !== undefined && t.kind === 'punct' && t.text === text;
  }

  /** Column of the next token, or the end of the line when there is none. */
  col(): number {
    return this.peek()?.col ?? this.endCol;
  }

  expectPunct(text: string): Token {
    const t = this.peek();
    if (!t || t.kind !== 'punct' || t.text !== text) {
      throw new LineError(this.line, this.col(), `expected '${text}'${t ? ` before '${t.text}'` : ''}`);
    }
    return this.next();
  }

  rest(): Token[] {
    const r = this.tokens.slice(this.pos);
    this.pos = this.tokens.length;
    return r;
  }
}
