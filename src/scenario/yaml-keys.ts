/**
 * What YAML allows in a mapping's keys and a scenario does not: every key of a scenario is a name, so a
 * mapping or a sequence used as a key (`? [a, b]`) is refused at the key (yaml would turn it into a
 * string and print a Node warning on stderr). Duplicate keys are yaml-document.ts's walk.
 *
 * A merge key (`<<`) takes a mapping, an alias of one, or a list of those: yaml finds any other value
 * only when it builds the data, and throws a plain Error there (an internal error for the user).
 */
import { Document, isAlias, isCollection, isMap, isNode, isScalar, isSeq, Node, visit } from 'yaml';

const isMergeKey = (key: unknown): boolean =>
  isScalar(key) && (key.value === '<<' || (typeof key.value === 'symbol' && key.value.description === '<<'));

/** The values of merge keys that are not a mapping (or an alias of one, or a list of those). */
export function badMergeSources(doc: Document): Node[] {
  // An alias names the last anchor of its name before it: visit() goes in document order.
  const anchors = new Map<string, Node>();
  const bad: Node[] = [];
  const isMapping = (n: unknown): boolean => isMap(isAlias(n) ? anchors.get(n.source) : n);
  visit(doc, {
    Node: (_key, node) => {
      if (!isAlias(node) && node.anchor) anchors.set(node.anchor, node);
    },
    Pair: (_key, pair) => {
      if (!isMergeKey(pair.key)) return;
      const v = pair.value;
      const items = isSeq(v) ? v.items : [v];
      for (const item of items) if (!isMapping(item)) bad.push(isNode(item) ? item : (pair.key as Node));
    },
  });
  return bad;
}

export function collectionKeys(doc: Document): Node[] {
  const keys: Node[] = [];
  visit(doc, {
    Pair: (_key, pair) => {
      if (isCollection(pair.key)) keys.push(pair.key);
    },
  });
  return keys;
}
