import { LineError } from './errors';
import { Token, TokenStream } from './lexer';
import { isReservedName } from './register-names';

/** A reference to a symbol or label, with where it was written. */
export interface SymRef {
  name: string;
  line: number;
  col: number;
}

/** The value of an expression: a constant plus at most one symbol (what a relocation can express). */
export interface Value {
  num: bigint;
  sym?: SymRef;
  col: number;
}

function add(a: Value, b: Value, sign: 1n | -1n, line: number): Value {
  if (b.sym && sign < 0n) throw new LineError(line, b.sym.col, `can't subtract symbol '${b.sym.name}'`);
  if (a.sym && b.sym) throw new LineError(line, b.sym.col, `expression can't refer to two symbols ('${a.sym.name}' and '${b.sym.name}')`);
  const sym = a.sym ?? b.sym;
  return sym ? { num: a.num + sign * b.num, sym, col: a.col } : { num: a.num + sign * b.num, col: a.col };
}

function constantOf(v: Value, line: number, what: string): bigint {
  if (v.sym) throw new LineError(line, v.sym.col, `symbol '${v.sym.name}' can't be used in ${what}`);
  return v.num;
}

function primary(ts: TokenStream): Value {
  const t: Token = ts.next();
  if (t.kind === 'num') return { num: t.value as bigint, col: t.col };
  if (t.kind === 'ident') {
    if (isReservedName(t.text)) throw new LineError(ts.line, t.col, `'${t.text}' can't be used in an expression`);
    return { num: 0n, sym: { name: t.text, line: ts.line, col: t.col }, col: t.col };
  }
  if (t.kind === 'punct' && t.text === '(') {
    const v = parseExpr(ts);
    ts.expectPunct(')');
    return { ...v, col: t.col };
  }
  throw new LineError(ts.line, t.col, `malformed expression: unexpected '${t.text}'`);
}

function unary(ts: TokenStream): Value {
  const t = ts.peek();
  if (t && t.kind === 'punct' && (t.text === '-' || t.text === '+' || t.text === '~')) {
    ts.next();
    const v = unary(ts);
    if (t.text === '+') return { ...v, col: t.col };
    const n = constantOf(v, ts.line, t.text === '-' ? 'a negation' : 'a complement');
    return { num: t.text === '-' ? -n : ~n, col: t.col };
  }
  return primary(ts);
}

/** A multiplicative term: unary ('*' unary)*. */
export function parseTerm(ts: TokenStream): Value {
  let v = unary(ts);
  while (ts.isPunct('*')) {
    ts.next();
    const r = unary(ts);
    v = { num: constantOf(v, ts.line, 'a product') * constantOf(r, ts.line, 'a product'), col: v.col };
  }
  return v;
}

/** An additive expression over numbers, char literals and at most one (added) symbol. */
export function parseExpr(ts: TokenStream): Value {
  let v = parseTerm(ts);
  while (ts.isPunct('+') || ts.isPunct('-')) {
    const op = ts.next();
    const r = parseTerm(ts);
    v = add(v, r, op.text === '+' ? 1n : -1n, ts.line);
  }
  return v;
}

/** Adds two partial values (used by the memory-operand parser, which collects terms one at a time). */
export function addValues(a: Value, b: Value, sign: 1n | -1n, line: number): Value {
  return add(a, b, sign, line);
}
