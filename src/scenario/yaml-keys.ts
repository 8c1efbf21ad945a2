/**
 * What YAML allows in a mapping's keys and a scenario does not. Every key of a scenario is a name, so a
 * mapping or a sequence used as a key (`? [a, b]`) is refused at the key: yaml would turn it into a string
 * and print a Node warning on stderr.
 *
 * Keys written twice in one mapping. yaml's own check compares each key with every key before it, which
 * made a scenario with 20 000 functions take half a minute to load; this one is a set per mapping. The
 * loader turns yaml's off (`uniqueKeys: false`) and reports these with yaml's wording, at the later key.
 */
import { Document, isCollection, isPair, isScalar, Node, visit } from 'yaml';

export function collectionKeys(doc: Document): Node[] {
  const keys: Node[] = [];
  visit(doc, {
    Pair: (_key, pair) => {
      if (isCollection(pair.key)) keys.push(pair.key);
    },
  });
  return keys;
}

export function duplicateKeys(doc: Document): Node[] {
  const dups: Node[] = [];
  visit(doc, {
    Map: (_key, map) => {
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        if (!isPair(pair)) continue;
        // As yaml compares them: a scalar by its value, any other key only with itself.
        const key = pair.key as Node | null;
        const id: unknown = isScalar(key) ? key.value : key;
        if (seen.has(id) && key !== null) dups.push(key);
        seen.add(id);
      }
    },
  });
  return dups;
}
