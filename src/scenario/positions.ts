/**
 * Maps YAML paths (as zod reports them) and places inside scalar values (as the assembler and the shell
 * parser report them) to file line/column, so every diagnostic points at the offending token in the file.
 */
import { Document, LineCounter, Node, Pair, Scalar, YAMLMap, isAlias, isMap, isPair, isScalar, isSeq } from 'yaml';
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

export class SourcePositions {
  constructor(
    readonly file: string,
    readonly text: string,
    readonly doc: Document,
    readonly lineCounter: LineCounter,
  ) {}

  at(offset: number): Pos {
    const { line, col } = this.lineCounter.linePos(offset);
    return { file: this.file, line, col };
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
        return (line, col) => ({ file, line: first.line + line, col: indent + col });
      }
      case Scalar.QUOTE_DOUBLE:
      case Scalar.QUOTE_SINGLE: {
        const raw = this.text.slice(start, valueEnd);
        if (!raw.includes('\n')) {
          // One line in the file; the value may still have several (from \n escapes).
          const offsets = quotedOffsets(raw, node.type === Scalar.QUOTE_DOUBLE);
          const lineStarts = [0];
          String(node.value).split('\n').forEach((l, i) => lineStarts.push((lineStarts[i] as number) + l.length + 1));
          return (line, col) => {
            const index = (lineStarts[line - 1] ?? 0) + col - 1;
            return { file, line: first.line, col: first.col + (offsets[index] ?? offsets[offsets.length - 1] ?? 0) };
          };
        }
        // Multi-line quoted values are folded; lines only approximately match.
        return (line, col) => ({ file, line: first.line + line - 1, col: line === 1 ? first.col + col : col });
      }
      default:
        return (line, col) => ({ file, line: first.line + line - 1, col: line === 1 ? first.col + col - 1 : col });
    }
  }
}
