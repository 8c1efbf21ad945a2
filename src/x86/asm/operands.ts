import { LineError } from './errors';
import { addValues, parseExpr, parseTerm, SymRef, Value } from './expr';
import { Token, TokenStream } from './lexer';
import { isRip, looksLikeRegister, lookupRegister, OpSize, RegInfo, SIZE_KEYWORDS } from './register-names';

export interface RegOperand {
  kind: 'reg';
  reg: RegInfo;
  col: number;
}

/** An immediate; `sym` is set only for `offset sym`, the address of a symbol as a value. */
export interface ImmOperand {
  kind: 'imm';
  value: bigint;
  sym?: SymRef;
  col: number;
}

export interface MemOperand {
  kind: 'mem';
  /** From `byte ptr` etc.; undefined when the other operand has to say. */
  size?: OpSize;
  base?: number;
  index?: number;
  scale: 1 | 2 | 4 | 8;
  rip: boolean;
  disp: bigint;
  sym?: SymRef;
  col: number;
}

/** A bare symbol expression: only meaningful as a branch target. */
export interface SymOperand {
  kind: 'sym';
  sym: SymRef;
  addend: bigint;
  col: number;
}

export type Operand = RegOperand | ImmOperand | MemOperand | SymOperand;

/** The name used for an operand kind in "invalid operand combination" messages. */
export function operandKindName(op: Operand): string {
  switch (op.kind) {
    case 'reg':
      return 'reg';
    case 'imm':
      return 'imm';
    case 'mem':
      return 'mem';
    case 'sym':
      return 'symbol';
  }
}

const RSP = 4;

function parseMemory(ts: TokenStream, size: OpSize | undefined, col: number): MemOperand {
  const line = ts.line;
  ts.expectPunct('[');
  const unscaled: { reg: RegInfo; col: number }[] = [];
  let scaled: { reg: RegInfo; scale: bigint; col: number } | undefined;
  let rip: { col: number } | undefined;
  let disp: Value = { num: 0n, col };
  let first = true;

  const addressReg = (t: Token): RegInfo => {
    const reg = lookupRegister(t.text) as RegInfo;
    if (reg.size !== 8) throw new LineError(line, t.col, `'${t.text}' can't be used as an address register (only 64-bit registers can)`);
    return reg;
  };
  const setIndex = (reg: RegInfo, regCol: number, scale: bigint, scaleCol: number): void => {
    if (scaled) throw new LineError(line, regCol, 'memory operand has more than one scaled index');
    if (scale !== 1n && scale !== 2n && scale !== 4n && scale !== 8n)
      throw new LineError(line, scaleCol, `scale must be 1, 2, 4 or 8, not ${scale}`);
    scaled = { reg, scale, col: regCol };
  };

  while (!ts.isPunct(']')) {
    let sign: 1n | -1n = 1n;
    if (ts.isPunct('+') || ts.isPunct('-')) {
      sign = ts.next().text === '-' ? -1n : 1n;
    } else if (!first) {
      throw new LineError(line, ts.col(), `expected '+', '-' or ']' in memory operand`);
    }
    first = false;
    const t = ts.peek();
    if (!t) throw new LineError(line, ts.col(), `missing ']'`);
    const scaledName = ts.peek(2);
    if (t.kind === 'num' && ts.isPunct('*', 1) && scaledName?.kind === 'ident' && !lookupRegister(scaledName.text)) {
      throw new LineError(line, scaledName.col, `unknown register '${scaledName.text}'`);
    }
    if (t.kind === 'ident' && !lookupRegister(t.text) && !isRip(t.text) && ts.isPunct('*', 1)) {
      throw new LineError(line, t.col, `unknown register '${t.text}'`);
    }
    if (t.kind === 'ident' && (lookupRegister(t.text) || isRip(t.text))) {
      ts.next();
      if (sign < 0n) throw new LineError(line, t.col, `register '${t.text}' can't be subtracted`);
      if (isRip(t.text)) {
        if (rip || unscaled.length > 0 || scaled) throw new LineError(line, t.col, 'rip-relative address can only be [rip + displacement]');
        rip = { col: t.col };
        continue;
      }
      if (rip) throw new LineError(line, t.col, 'rip-relative address can only be [rip + displacement]');
      const reg = addressReg(t);
      if (ts.isPunct('*')) {
        ts.next();
        const s = ts.next();
        if (s.kind !== 'num') throw new LineError(line, s.col, 'scale must be a number');
        setIndex(reg, t.col, s.value as bigint, s.col);
      } else {
        unscaled.push({ reg, col: t.col });
      }
    } else if (t.kind === 'num' && ts.isPunct('*', 1) && ts.peek(2)?.kind === 'ident' && lookupRegister(ts.peek(2)?.text ?? '')) {
      ts.next();
      ts.next();
      const r = ts.next();
      if (rip) throw new LineError(line, r.col, 'rip-relative address can only be [rip + displacement]');
      if (sign < 0n) throw new LineError(line, r.col, `register '${r.text}' can't be subtracted`);
      setIndex(addressReg(r), r.col, t.value as bigint, t.col);
    } else {
      const v = parseTerm(ts);
      disp = addValues(disp, v, sign, line);
    }
  }
  ts.expectPunct(']');
  // Next to base/index registers a register-shaped name is a typo; [rip + name] is a symbol whatever its name.
  if (disp.sym && !rip && looksLikeRegister(disp.sym.name)) throw new LineError(line, disp.sym.col, `unknown register '${disp.sym.name}'`);

  let base = unscaled[0];
  let index: { reg: RegInfo; scale: bigint; col: number } | undefined = scaled;
  if (unscaled.length > 2 || (unscaled.length === 2 && scaled)) {
    throw new LineError(line, (unscaled[unscaled.length - 1] as { col: number }).col, 'too many registers in memory operand');
  }
  if (unscaled.length === 2) index = { ...unscaled[1], scale: 1n };
  if (index && index.reg.num === RSP) {
    // rsp can't be an index; like GNU as, [reg + rsp] is taken to mean [rsp + reg].
    if (index.scale === 1n && base && base.reg.num !== RSP) {
      const b = base;
      base = { reg: index.reg, col: index.col };
      index = { reg: b.reg, scale: 1n, col: b.col };
    } else {
      throw new LineError(line, index.col, `'${index.reg.name}' can't be an index register`);
    }
  }
  const mem: MemOperand = { kind: 'mem', scale: Number(index?.scale ?? 1n) as 1 | 2 | 4 | 8, rip: rip !== undefined, disp: disp.num, col };
  if (size !== undefined) mem.size = size;
  if (base) mem.base = base.reg.num;
  if (index) mem.index = index.reg.num;
  if (disp.sym) mem.sym = disp.sym;
  return mem;
}

/**
 * Parses one operand from its tokens (the text between commas). `col` is where the operand starts,
 * used for errors about the operand as a whole.
 */
export function parseOperand(tokens: Token[], line: number, endCol: number): Operand {
  const ts = new TokenStream(tokens, line, endCol);
  const first = tokens[0];
  if (!first) throw new LineError(line, endCol, 'missing operand');
  const col = first.col;
  let op: Operand;
  const size = first.kind === 'ident' ? SIZE_KEYWORDS.get(first.text.toLowerCase()) : undefined;
  if (size !== undefined) {
    ts.next();
    const ptr = ts.peek();
    if (ptr && ptr.kind === 'ident' && ptr.text.toLowerCase() === 'ptr') ts.next();
    if (!ts.isPunct('[')) throw new LineError(line, ts.col(), `expected a memory operand after '${first.text}'`);
    op = parseMemory(ts, size, col);
  } else if (first.kind === 'punct' && first.text === '[') {
    op = parseMemory(ts, undefined, col);
  } else if (first.kind === 'ident' && lookupRegister(first.text) && tokens.length === 1) {
    ts.next();
    op = { kind: 'reg', reg: lookupRegister(first.text) as RegInfo, col };
  } else if (first.kind === 'ident' && isRip(first.text)) {
    throw new LineError(line, col, `'rip' can only be used in a memory operand`);
  } else if (first.kind === 'ident' && first.text.toLowerCase() === 'offset') {
    ts.next();
    const v = parseExpr(ts);
    op = v.sym ? { kind: 'imm', value: v.num, sym: v.sym, col } : { kind: 'imm', value: v.num, col };
  } else if (first.kind === 'ident' && lookupRegister(first.text)) {
    throw new LineError(line, first.col, `register '${first.text}' can't be used in an expression`);
  } else {
    const v = parseExpr(ts);
    op = v.sym ? { kind: 'sym', sym: v.sym, addend: v.num, col } : { kind: 'imm', value: v.num, col };
  }
  if (!ts.atEnd()) {
    const t = ts.peek() as Token;
    throw new LineError(line, t.col, `unexpected '${t.text}' after operand`);
  }
  return op;
}
