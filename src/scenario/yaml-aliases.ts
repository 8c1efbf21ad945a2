/**
 * YAML aliases that name no anchor before them. yaml reports them only when it builds the data
 * (`toJS()` throws a ReferenceError at the first one), so the loader looks for them first and reports
 * each as bad input at the alias, like any other YAML error.
 */
import { Alias, Document, isAlias, isNode, visit } from 'yaml';

export function unresolvedAliases(doc: Document): Alias[] {
  const anchors = new Set<string>();
  const bad: Alias[] = [];
  // visit() walks in document order, a node before its children: an anchor counts from where it is set.
  visit(doc, {
    Node: (_key, node) => {
      if (isAlias(node)) {
        if (!anchors.has(node.source)) bad.push(node);
      } else if (isNode(node) && node.anchor) anchors.add(node.anchor);
    },
  });
  return bad;
}
