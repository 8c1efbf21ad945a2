import { LineError } from './errors';
import { Token, tokenizeLine } from './lexer';
import { isReservedName } from './register-names';

export interface LabelDef {
  name: string;
  col: number;
}

export type Statement =
  { kind: 'insn'; mnemonic: string; col: number; args: Token[][] } | { kind: 'directive'; name: string; col: number; args: Token[][] };

export interface ParsedLine {
  labels: LabelDef[];
  statement?: Statement;
  /** Column just past the last character, where "missing ..." errors point. */
  endCol: number;
}

/** Splits tokens at commas that are not inside brackets or parentheses. */
function splitArgs(tokens: Token[], line: number): Token[][] {
  if (tokens.length === 0) return [];
  const out: Token[][] = [[]];
  let depth = 0;
  for (const t of tokens) {
    if (t.kind === 'punct' && (t.text === '[' || t.text === '(')) depth++;
    if (t.kind === 'punct' && (t.text === ']' || t.text === ')')) depth--;
    if (t.kind === 'punct' && t.text === ',' && depth === 0) {
      if (out[out.length - 1].length === 0) throw new LineError(line, t.col, `missing operand before ','`);
      out.push([]);
    } else {
      out[out.length - 1].push(t);
    }
  }
  return out;
}

export function parseLine(text: string, line: number): ParsedLine {
  const tokens = tokenizeLine(text, line);
  const endCol = text.replace(/\s+$/, '').length + 1;
  const labels: LabelDef[] = [];
  let i = 0;
  for (;;) {
    const t = tokens[i];
    const colon = tokens[i + 1];
    if (!t || t.kind !== 'ident' || !colon || colon.kind !== 'punct' || colon.text !== ':') break;
    if (isReservedName(t.text)) throw new LineError(line, t.col, `'${t.text}' is a reserved word and can't be a label`);
    labels.push({ name: t.text, col: t.col });
    i += 2;
  }
  const head = tokens[i];
  if (!head) return { labels, endCol };
  if (head.kind !== 'ident') throw new LineError(line, head.col, `expected a mnemonic, directive or label, not '${head.text}'`);
  const args = splitArgs(tokens.slice(i + 1), line);
  const last = args[args.length - 1];
  if (last && last.length === 0) throw new LineError(line, endCol, "missing operand after ','");
  const kind = head.text.startsWith('.') ? 'directive' : 'insn';
  if (kind === 'directive') return { labels, endCol, statement: { kind, name: head.text, col: head.col, args } };
  return { labels, endCol, statement: { kind, mnemonic: head.text, col: head.col, args } };
}
