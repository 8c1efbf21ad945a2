/**
 * Maps YAML paths (as zod reports them) and places inside scalar values (as the assembler and the shell
 * parser report them) to file line/column, so every diagnostic points at the offending token in the file.
 */
import { Document, Node, Pair, Scalar, YAMLMap, isAlias, isMap, isPair, isScalar, isSeq } from 'yaml';
import type { Pos } from './scenario-types';

export type PathSegment = string | number;
export type Path = readonly PathSegment[];

/** Maps a 1-based line/col inside a scalar's value to the file. */
export type Locator = (line: number, col: number) => Pos;

function hasRange(n: unknown): n is Node & { range: [number, number, number] } {
  return typeof n === 'object' && n !== null && Array.isArray((n as { range?: unknown }).range);
}

/** YAML 1.1's merge key `<<` (yaml parses it to a symbol when `merge` is on). */
function isMergeKey(key: unknown): boolean {
  if (!isScalar(key)) return false;
  const v: unknown = key.value;
  return v === '<<' || (typeof v === 'symbol' && v.description === '<<');
}

const keyName = (key: unknown): unknown => (isScalar(key) ? String(key.value) : key);

/** Merges nested deeper than this are not followed (YAML cannot make a cycle, but a bomb can be deep). */
const MAX_MERGE_DEPTH = 64;

const leadingSpaces = (s: string): number => s.length - s.replace(/^ +/, '').length;

/**
 * For a one-line quoted scalar: the offset in the raw text (0 = the opening quote) of each character of
 * the value, plus one entry for the end (the closing quote), so escapes do not shift columns.
 */
function quotedOffsets(raw: string, double: boolean): number[] {
  const offsets: number[] = [];
  let i = 1;
  const end = raw.length - 1;
  while (i < end) {
    offsets.push(i);
    if (double && raw[i] === '\\') {
      const c = raw[i + 1];
      i += c === 'x' ? 4 : c === 'u' ? 6 : c === 'U' ? 10 : 2;
    } else if (!double && raw[i] === "'" && raw[i + 1] === "'") {
      i += 2;
    } else {
      i += 1;
    }
  }
  offsets.push(Math.min(i, end));
  return offsets;
}

/**
 * For a plain or quoted scalar written over several lines: the offset in the raw text of each character
 * of the value yaml made of it, by YAML's folding of flow scalars (1.2, 7.3): the spaces around a line break
 * go, a single break becomes a space, each empty line after it a newline; in double quotes an escaped
 * break (`\` at the end of a line) joins the lines. Null when the rebuilt value differs from yaml's.
 */
function foldedOffsets(raw: string, style: 'plain' | 'single' | 'double', value: string): number[] | null {
  const double = style === 'double';
  const single = style === 'single';
  const chars: string[] = [];
  const offsets: number[] = [];
  const push = (c: string, at: number): void => {
    chars.push(c);
    offsets.push(at);
  };
  const ESCAPES: Record<string, string> = {
    '0': '\0',
    a: '\x07',
    b: '\b',
    t: '\t',
    '\t': '\t',
    n: '\n',
    v: '\v',
    f: '\f',
    r: '\r',
    e: '\x1b',
    ' ': ' ',
    '"': '"',
    '/': '/',
    '\\': '\\',
    N: '\u0085',
    _: '\u00a0',
    L: '\u2028',
    P: '\u2029',
  };
  let i = style === 'plain' ? 0 : 1;
  const end = style === 'plain' ? raw.length : raw.length - 1;
  while (i < end) {
    const c = raw[i];
    if (c === '\n' || c === '\r' || c === ' ' || c === '\t') {
      // A run of white space: folded if it holds a line break, kept as it is otherwise.
      let j = i;
      let breaks = 0;
      while (j < end && (raw[j] === ' ' || raw[j] === '\t' || raw[j] === '\n' || raw[j] === '\r')) {
        if (raw[j] === '\n') breaks++;
        j++;
      }
      if (breaks === 0) for (let k = i; k < j; k++) push(raw[k], k);
      else if (breaks === 1) push(' ', i);
      else for (let k = 1; k < breaks; k++) push('\n', i);
      i = j;
    } else if (double && c === '\\') {
      const e = raw[i + 1];
      if (e === '\n' || e === '\r') {
        // An escaped line break: nothing, and the next line's indentation goes too.
        i += 2;
        while (i < end && (raw[i] === ' ' || raw[i] === '\t' || raw[i] === '\n' || raw[i] === '\r')) i++;
      } else if (e === 'x' || e === 'u' || e === 'U') {
        const n = e === 'x' ? 2 : e === 'u' ? 4 : 8;
        for (const ch of String.fromCodePoint(parseInt(raw.slice(i + 2, i + 2 + n), 16) || 0)) push(ch, i);
        i += 2 + n;
      } else {
        push(ESCAPES[e] ?? e, i);
        i += 2;
      }
    } else if (single && c === "'" && raw[i + 1] === "'") {
      push("'", i);
      i += 2;
    } else {
      push(c, i);
      i++;
    }
  }
  push('', end);
  return chars.join('') === value ? offsets : null;
}

export class SourcePositions {
  /** Offset of the start of each line of the text: yaml's LineCounter misses the lines of tokens it recovers from. */
  private readonly lineStarts: number[];

  constructor(
    readonly file: string,
    readonly text: string,
    readonly doc: Document,
  ) {
    this.lineStarts = [0];
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.lineStarts.push(i + 1);
  }

  at(offset: number): Pos {
    const o = Math.max(0, Math.min(offset, this.text.length));
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid] <= o) lo = mid;
      else hi = mid - 1;
    }
    return { file: this.file, line: lo + 1, col: o - this.lineStarts[lo] + 1 };
  }

  /** Follows aliases to the node they name: the data the schema checked has them resolved. */
  private deref(n: unknown): unknown {
    for (let i = 0; i < MAX_MERGE_DEPTH && isAlias(n); i++) n = n.resolve(this.doc);
    return n;
  }

  /**
   * Each map's own pairs by key (merge keys aside), made on first use: doc.getIn() and a scan of the items
   * are linear per lookup, and the checks look up every key of a map (quadratic: 100 000 functions took
   * minutes). The first pair of a key wins, as in yaml's own lookups.
   */
  private readonly pairIndex = new WeakMap<YAMLMap, Map<string, Pair>>();

  private ownPair(map: YAMLMap, key: string): Pair | undefined {
    let index = this.pairIndex.get(map);
    if (!index) {
      index = new Map();
      for (const pair of map.items) {
        if (!isPair(pair) || isMergeKey(pair.key)) continue;
        const name = keyName(pair.key);
        if (typeof name === 'string' && !index.has(name)) index.set(name, pair);
      }
      this.pairIndex.set(map, index);
    }
    return index.get(key);
  }

  /**
   * The entry for `key` in a mapping as the loaded data has it: its own key first, then the mappings it
   * merges (`<<: *a`, `<<: [*a, *b]`, earlier ones first), so a value that came from a merge is found
   * where it is written.
   */
  private pairOf(map: YAMLMap, key: PathSegment, depth = 0): Pair | undefined {
    const own = this.ownPair(map, String(key));
    if (own || depth >= MAX_MERGE_DEPTH) return own;
    for (const pair of map.items) {
      if (!isPair(pair) || !isMergeKey(pair.key)) continue;
      const from = this.deref(pair.value);
      for (const src of isSeq(from) ? from.items.map((x) => this.deref(x)) : [from]) {
        const found = isMap(src) ? this.pairOf(src, key, depth + 1) : undefined;
        if (found) return found;
      }
    }
    return undefined;
  }

  /** The node at `path`, or undefined (missing key, or a path through a scalar). */
  node(path: Path): Node | undefined {
    let n: unknown = this.doc.contents;
    for (const seg of path) {
      n = this.deref(n);
      if (isMap(n)) n = this.pairOf(n, seg)?.value;
      else if (isSeq(n)) n = typeof seg === 'number' || /^\d+$/.test(seg) ? n.items[Number(seg)] : undefined;
      else return undefined;
    }
    n = this.deref(n);
    return hasRange(n) ? n : undefined;
  }

  /** Where the node at `path` starts, or its nearest existing ancestor (a missing key: its parent). */
  nodePos(path: Path): Pos {
    for (let len = path.length; len >= 0; len--) {
      const n = this.node(path.slice(0, len));
      if (n && hasRange(n)) return this.at(n.range[0]);
    }
    return { file: this.file, line: 1, col: 1 };
  }

  /** Where the key of the map entry at `path` is written (for sequence items: the item). */
  keyPos(path: Path): Pos {
    const last = path[path.length - 1];
    const parent = this.node(path.slice(0, -1));
    if (last !== undefined && isMap(parent)) {
      const key: unknown = this.pairOf(parent, last)?.key;
      if (hasRange(key)) return this.at(key.range[0]);
    }
    return this.nodePos(path);
  }

  /** A locator for the value at `path`: exact inside scalars, the node's start for anything else. */
  locator(path: Path): Locator {
    const n = this.node(path);
    if (isScalar(n) && hasRange(n)) return this.scalarLocator(n);
    const p = this.nodePos(path);
    return () => p;
  }

  /** A scalar written over several lines: each character of its value found in the raw text. */
  private foldedLocator(node: Scalar & { range: [number, number, number] }, style: 'plain' | 'single' | 'double'): Locator {
    const [start, valueEnd] = node.range;
    const value = String(node.value);
    const folded = foldedOffsets(this.text.slice(start, valueEnd), style, value);
    if (!folded) {
      const first = this.at(start);
      return () => first;
    }
    const lineStarts = [0];
    value.split('\n').forEach((l, i) => lineStarts.push(lineStarts[i] + l.length + 1));
    return (line, col) => this.at(start + (folded[(lineStarts[line - 1] ?? 0) + col - 1] ?? folded[folded.length - 1] ?? 0));
  }

  private scalarLocator(node: Scalar & { range: [number, number, number] }): Locator {
    const [start, valueEnd] = node.range;
    const first = this.at(start);
    const file = this.file;
    switch (node.type) {
      case Scalar.BLOCK_LITERAL:
      case Scalar.BLOCK_FOLDED: {
        // The value's first line is the line after the `|` header; its indentation is that of the first
        // non-blank content line, or the header line's plus an explicit indentation indicator (`|2`).
        const headerEnd = this.text.indexOf('\n', start);
        const header = this.text.slice(start, headerEnd < 0 ? undefined : headerEnd);
        const lineStart = this.text.lastIndexOf('\n', start) + 1;
        const explicit = /^[|>][+-]?([1-9])/.exec(header) ?? /^[|>]([1-9])[+-]?/.exec(header);
        let indent = 0;
        if (explicit) {
          indent = leadingSpaces(this.text.slice(lineStart, start)) + Number(explicit[1]);
        } else if (headerEnd >= 0) {
          for (const l of this.text.slice(headerEnd + 1, Math.max(valueEnd, headerEnd + 1)).split('\n')) {
            if (l.trim() !== '') {
              indent = leadingSpaces(l);
              break;
            }
          }
        }
        if (node.type === Scalar.BLOCK_FOLDED) {
          // `>` folds lines into one another: the value's lines are the file's only where nothing folded.
          const content = this.text
            .slice(headerEnd + 1, Math.max(valueEnd, headerEnd + 1))
            .split('\n')
            .map((l) => l.slice(indent));
          const lines = String(node.value).split('\n');
          if (!lines.every((l, i) => l === '' || content[i] === l)) return () => first;
        }
        return (line, col) => ({ file, line: first.line + line, col: indent + col });
      }
      case Scalar.QUOTE_DOUBLE:
      case Scalar.QUOTE_SINGLE: {
        const raw = this.text.slice(start, valueEnd);
        if (!raw.includes('\n')) {
          // One line in the file; the value may still have several (from \n escapes).
          const offsets = quotedOffsets(raw, node.type === Scalar.QUOTE_DOUBLE);
          const lineStarts = [0];
          String(node.value)
            .split('\n')
            .forEach((l, i) => lineStarts.push(lineStarts[i] + l.length + 1));
          return (line, col) => {
            const index = (lineStarts[line - 1] ?? 0) + col - 1;
            return { file, line: first.line, col: first.col + (offsets[index] ?? offsets[offsets.length - 1] ?? 0) };
          };
        }
        // Written over several lines: folded, so each character of the value is found in the raw text.
        return this.foldedLocator(node, node.type === Scalar.QUOTE_DOUBLE ? 'double' : 'single');
      }
      default:
        if (this.text.slice(start, valueEnd).includes('\n')) return this.foldedLocator(node, 'plain');
        return (line, col) => ({ file, line: first.line + line - 1, col: line === 1 ? first.col + col - 1 : col });
    }
  }
}
