import { LineError } from './errors';
import { parseExpr } from './expr';
import { Item, Fixup, leBytes } from './items';
import { Token, TokenStream } from './lexer';

/** Integer directives and their element size. */
const INTEGER_SIZES: Record<string, 1 | 2 | 4 | 8> = {
  '.byte': 1,
  '.word': 2,
  '.short': 2,
  '.2byte': 2,
  '.long': 4,
  '.int': 4,
  '.4byte': 4,
  '.quad': 8,
  '.8byte': 8,
};

/** Whether `name` (lower case) is a directive this assembler knows. */
export function isDataDirective(name: string): boolean {
  return name in INTEGER_SIZES || ['.ascii', '.asciz', '.string', '.zero', '.skip', '.space', '.align', '.balign'].includes(name);
}

function integers(args: Token[][], size: 1 | 2 | 4 | 8, line: number, endCol: number): Item {
  const bytes: number[] = [];
  const fixups: Fixup[] = [];
  const bits = BigInt(size * 8);
  for (const arg of args) {
    const ts = new TokenStream(arg, line, endCol);
    const v = parseExpr(ts);
    if (!ts.atEnd()) {
      const t = ts.peek() as Token;
      throw new LineError(line, t.col, `malformed expression: unexpected '${t.text}'`);
    }
    if (v.sym) {
      if (size !== 4 && size !== 8)
        throw new LineError(line, v.sym.col, `symbol '${v.sym.name}' doesn't fit in ${size * 8} bits (use .long or .quad)`);
      fixups.push({ at: bytes.length, size, pcrel: false, sym: v.sym, addend: v.num });
      bytes.push(...new Array<number>(size).fill(0));
      continue;
    }
    if (v.num < -(1n << (bits - 1n)) || v.num >= 1n << bits) {
      throw new LineError(line, v.col, `value ${v.num} is out of range for ${size * 8} bits`);
    }
    bytes.push(...leBytes(v.num, size));
  }
  return { t: 'bytes', bytes, fixups, line };
}

function constant(arg: Token[] | undefined, line: number, endCol: number, what: string): bigint {
  if (!arg) throw new LineError(line, endCol, `missing ${what}`);
  const ts = new TokenStream(arg, line, endCol);
  const v = parseExpr(ts);
  if (!ts.atEnd()) {
    const t = ts.peek() as Token;
    throw new LineError(line, t.col, `malformed expression: unexpected '${t.text}'`);
  }
  if (v.sym) throw new LineError(line, v.sym.col, `${what} must be a constant`);
  return v.num;
}

/** Encodes a data directive; `args` are the comma-separated argument token lists. */
export function encodeDirective(name: string, col: number, args: Token[][], line: number, endCol: number): Item {
  const lower = name.toLowerCase();
  const size = INTEGER_SIZES[lower];
  if (size !== undefined) {
    if (args.length === 0) throw new LineError(line, endCol, `${lower} needs at least one value`);
    return integers(args, size, line, endCol);
  }
  switch (lower) {
    case '.ascii':
    case '.asciz':
    case '.string': {
      if (args.length === 0) throw new LineError(line, endCol, `${lower} needs a string`);
      const bytes: number[] = [];
      for (const arg of args) {
        const t = arg[0];
        if (!t || t.kind !== 'str') throw new LineError(line, t?.col ?? endCol, `${lower} takes string literals`);
        if (arg.length > 1) throw new LineError(line, arg[1].col, `unexpected '${arg[1].text}' after string`);
        // A loop, not push(...spread): a spread passes every byte as an argument, and a long string
        // (a few hundred thousand bytes) overflows the stack.
        for (const b of t.bytes as number[]) bytes.push(b);
        if (lower !== '.ascii') bytes.push(0);
      }
      return { t: 'bytes', bytes, fixups: [], line };
    }
    case '.zero':
    case '.skip':
    case '.space': {
      if (args.length > 2) throw new LineError(line, col, `${lower} takes a size and an optional fill byte`);
      const n = constant(args[0], line, endCol, 'size');
      if (n < 0n || n > 1n << 24n) throw new LineError(line, args[0]?.[0]?.col ?? col, `${lower} size ${n} is out of range`);
      const fill = args[1] ? constant(args[1], line, endCol, 'fill byte') : 0n;
      if (fill < -128n || fill > 255n) throw new LineError(line, args[1]?.[0]?.col ?? col, `fill byte ${fill} is out of range`);
      return { t: 'bytes', bytes: new Array<number>(Number(n)).fill(Number(BigInt.asUintN(8, fill))), fixups: [], line };
    }
    case '.align':
    case '.balign': {
      if (args.length < 1 || args.length > 2) throw new LineError(line, col, `${lower} takes an alignment and an optional fill byte`);
      const n = constant(args[0], line, endCol, 'alignment');
      if (n < 1n || n > 4096n || (n & (n - 1n)) !== 0n) {
        throw new LineError(line, args[0]?.[0]?.col ?? col, `alignment ${n} is not a power of two up to 4096`);
      }
      if (!args[1]) return { t: 'align', alignment: Number(n), line };
      const fill = constant(args[1], line, endCol, 'fill byte');
      if (fill < -128n || fill > 255n) throw new LineError(line, args[1]?.[0]?.col ?? col, `fill byte ${fill} is out of range`);
      return { t: 'align', alignment: Number(n), fill: Number(BigInt.asUintN(8, fill)), line };
    }
  }
  throw new LineError(line, col, `unknown directive '${name}'`);
}
