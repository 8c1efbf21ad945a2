/**
 * What YAML allows in a mapping's keys and a scenario does not: every key of a scenario is a name, so a
 * mapping or a sequence used as a key (`? [a, b]`) is refused at the key (yaml would turn it into a
 * string and print a Node warning on stderr). Duplicate keys are yaml-document.ts's walk.
 */
import { Document, isCollection, Node, visit } from 'yaml';

export function collectionKeys(doc: Document): Node[] {
  const keys: Node[] = [];
  visit(doc, {
    Pair: (_key, pair) => {
      if (isCollection(pair.key)) keys.push(pair.key);
    },
  });
  return keys;
}
