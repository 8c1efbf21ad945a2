/**
 * Parses a scenario's YAML with the limits of input-limits.ts enforced, so that no file can make the
 * parser or the checks after it recurse past the JavaScript stack, or walk an exponential tree.
 *
 * The steps of yaml's parseDocument(), with checks between them:
 * - the concrete syntax tree (yaml's lexer and parser keep their own stacks: any depth is safe) is
 *   measured before the composer, which recurses once per level, ever sees it;
 * - the composed document is walked once, without recursion, for what yaml would only find in
 *   toJS() (aliases without an anchor, aliases inside their own anchor, expansion past the limit)
 *   or finds in quadratic time (duplicate keys: yaml compares each new key with every earlier one, a
 *   minute for a 100 000-function file).
 * Every problem comes back with its offset in the text, for a `FILE:LINE:COL` message.
 */
import { CST, Composer, Document, LineCounter, Node, Parser, YAMLParseError, isAlias, isCollection, isMap, isPair, isScalar } from 'yaml';
import { MAX_ALIAS_NODES, MAX_YAML_NESTING } from './input-limits';

export interface YamlProblem {
  offset: number;
  message: string;
}

export interface ParsedYaml {
  doc: Document;
  lineCounter: LineCounter;
  /** The limits' and the walk's problems (yaml's own are in `doc.errors`). */
  problems: YamlProblem[];
}

const TOO_DEEP = `YAML: nested deeper than ${MAX_YAML_NESTING} levels (the most a scenario may nest)`;
const TOO_DEEP_TO_PARSE = 'YAML: this structure nests too deeply for the YAML parser to follow (check the indentation of the lines above)';

/** The first place in a CST document nested deeper than the limit, or null. */
function tooDeepAt(token: CST.Token): number | null {
  const stack: { t: CST.Token; depth: number }[] = [{ t: token, depth: 0 }];
  while (stack.length > 0) {
    const { t, depth } = stack.pop() as { t: CST.Token; depth: number };
    let d = depth;
    if (t.type === 'block-map' || t.type === 'block-seq' || t.type === 'flow-collection') {
      d = depth + 1;
      if (d > MAX_YAML_NESTING) return t.offset;
      for (const item of t.items) {
        if ('key' in item && item.key) stack.push({ t: item.key, depth: d });
        if (item.value) stack.push({ t: item.value, depth: d });
      }
    } else if (t.type === 'document' && t.value) {
      stack.push({ t: t.value, depth: d });
    }
  }
  return null;
}

/** What the walk knows of a node once it has left it: its size and depth with aliases expanded. */
interface Extent {
  nodes: number;
  depth: number;
}

/**
 * One pass over the composed document in document order (the order yaml resolves aliases in: an alias
 * names the last anchor of that name before it).
 */
function walkDocument(doc: Document): YamlProblem[] {
  const problems: YamlProblem[] = [];
  const anchors = new Map<string, Node>();
  const extents = new Map<Node, Extent>();
  const open = new Set<Node>();
  let aliasNodes = 0;
  const offsetOf = (n: Node): number => n.range?.[0] ?? 0;

  type Frame = { node: Node; depth: number; children: Node[]; next: number; extent: Extent };
  const stack: Frame[] = [];
  // Returns the node's extent at once for leaves; collections are pushed and finish when popped.
  const enter = (node: unknown, depth: number): Extent | null => {
    if (isAlias(node)) {
      const target = anchors.get(node.source);
      if (target === undefined) {
        problems.push({ offset: offsetOf(node), message: `YAML: alias '*${node.source}' has no anchor '&${node.source}' before it` });
        return { nodes: 1, depth: 0 };
      }
      if (open.has(target)) {
        problems.push({ offset: offsetOf(node), message: `YAML: alias '*${node.source}' is inside its own anchor (a circular structure)` });
        return { nodes: 1, depth: 0 };
      }
      const e = extents.get(target) as Extent;
      if (aliasNodes <= MAX_ALIAS_NODES) {
        aliasNodes += e.nodes;
        if (aliasNodes > MAX_ALIAS_NODES)
          problems.push({
            offset: offsetOf(node),
            message: `YAML: aliases expand to more than ${MAX_ALIAS_NODES} nodes (the most a scenario may hold)`,
          });
      }
      if (depth + e.depth > MAX_YAML_NESTING && depth <= MAX_YAML_NESTING)
        problems.push({ offset: offsetOf(node), message: TOO_DEEP + ' with aliases expanded' });
      return e;
    }
    if (!isCollection(node)) {
      if (isScalar(node) && node.anchor) anchors.set(node.anchor, node);
      const e = { nodes: 1, depth: 0 };
      if (isScalar(node)) extents.set(node, e);
      return e;
    }
    if (node.anchor) anchors.set(node.anchor, node);
    open.add(node);
    const children: Node[] = [];
    if (isMap(node)) {
      const seen = new Set<unknown>();
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const key: unknown = pair.key;
        // yaml's own rule (uniqueKeys): two scalar keys are the same when their values are.
        if (isScalar(key)) {
          if (seen.has(key.value)) problems.push({ offset: offsetOf(key), message: 'YAML: Map keys must be unique' });
          seen.add(key.value);
        }
        if (key !== null && key !== undefined) children.push(key as Node);
        if (pair.value !== null && pair.value !== undefined) children.push(pair.value as Node);
      }
    } else {
      for (const item of node.items) if (item !== null && item !== undefined) children.push(item as Node);
    }
    stack.push({ node, depth, children, next: 0, extent: { nodes: 1, depth: 1 } });
    return null;
  };

  const add = (into: Extent, child: Extent): void => {
    into.nodes += child.nodes;
    into.depth = Math.max(into.depth, child.depth + 1);
  };
  const root = enter(doc.contents, 0);
  if (root !== null) return problems;
  while (stack.length > 0) {
    const f = stack[stack.length - 1];
    if (f.next < f.children.length) {
      const e = enter(f.children[f.next++], f.depth + 1);
      if (e !== null) add(f.extent, e);
      continue;
    }
    stack.pop();
    open.delete(f.node);
    extents.set(f.node, f.extent);
    if (stack.length > 0) add(stack[stack.length - 1].extent, f.extent);
  }
  return problems;
}

export function parseYaml(text: string): ParsedYaml {
  const lineCounter = new LineCounter();
  const parser = new Parser(lineCounter.addNewLine);
  const problems: YamlProblem[] = [];
  // uniqueKeys is checked by walkDocument, in linear time. merge: YAML 1.1's `<<` merge keys, which YAML
  // users expect (positions.ts finds merged entries where they are written).
  // logLevel: yaml's warnings go to process.emitWarning, i.e. to the user's terminal as Node warnings;
  // whatever they are about, the loader's checks report it as bad input.
  const composer = new Composer({ uniqueKeys: false, merge: true, logLevel: 'error' });
  function* measured(tokens: Generator<CST.Token>): Generator<CST.Token> {
    for (const t of tokens) {
      const deep = tooDeepAt(t);
      if (deep !== null) {
        problems.push({ offset: deep, message: TOO_DEEP });
        // Whatever follows is not composed: the document is refused here, as after a syntax error.
        return;
      }
      yield t;
    }
  }
  let doc: Document | null = null;
  try {
    for (const d of composer.compose(measured(parser.parse(text)), true, text.length)) {
      if (!doc) doc = d;
      else {
        doc.errors.push(new YAMLParseError([d.range[0], d.range[1]], 'MULTIPLE_DOCS', 'a second document'));
        break;
      }
    }
  } catch (e) {
    // yaml's parser yields a document's syntax tree only when the document ends, and for some malformed
    // structures (block-map entries and sequence items interleaved at one indentation, thousands of times)
    // it recurses once per entry before the depth check above sees a token. Its stack running out is the
    // same limit, reached inside the parser: report it where the parser had got to.
    if (!(e instanceof RangeError) || !/call stack/.test(e.message)) throw e;
    problems.push({ offset: Math.min(parser.offset, text.length), message: TOO_DEEP_TO_PARSE });
    return { doc: new Document(), lineCounter, problems };
  }
  const result = doc as Document;
  const found = problems.length === 0 && result.errors.length === 0 ? walkDocument(result) : problems;
  return { doc: result, lineCounter, problems: found };
}
