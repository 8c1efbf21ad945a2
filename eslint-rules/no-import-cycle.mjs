/**
 * klpsim/no-import-cycle: no module may reach itself through its imports — type-only imports included.
 *
 * import-x/no-cycle skips `import type` edges (they vanish at run time), but a type-only circle is still a
 * circle in the design: two files that each need the other's declarations are one concept split in two,
 * or a shared piece without its own home. So every static edge counts: `import`, `import type`,
 * `export … from`, `require('…')` and `import('…')` of a relative path.
 *
 * The graph is read from disk (TypeScript's preProcessFile, no type checking) and cached for the run; the
 * file being linted is read from the text ESLint hands over, so an editor's unsaved edits count.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import ts from 'typescript';

const EXTENSIONS = ['.ts', '.tsx', '.mts', '.cts', '.js', '.mjs', '.cjs'];

/** Resolves a relative specifier as node16 resolution does for this tree's extensionless imports. */
function resolveRelative(fromFile, spec) {
  if (!spec.startsWith('.')) return null;
  const base = resolve(dirname(fromFile), spec);
  const candidates = [base, ...EXTENSIONS.map((e) => base + e), ...EXTENSIONS.map((e) => resolve(base, `index${e}`))];
  // `./x.js` written for a `.ts` source (ESM style) resolves to `./x.ts`.
  if (/\.(c|m)?js$/.test(base)) candidates.push(base.replace(/\.(c|m)?js$/, '.ts'));
  for (const c of candidates) if (existsSync(c) && statSync(c).isFile()) return c;
  return null;
}

const cache = new Map(); // file -> { mtimeMs, deps: string[] }

function importsOf(file, text) {
  const info = ts.preProcessFile(text, true, true);
  const deps = [];
  for (const ref of info.importedFiles) {
    const target = resolveRelative(file, ref.fileName);
    if (target) deps.push(target);
  }
  return deps;
}

function depsOnDisk(file) {
  let st;
  try {
    st = statSync(file);
  } catch {
    return [];
  }
  const hit = cache.get(file);
  if (hit && hit.mtimeMs === st.mtimeMs) return hit.deps;
  const deps = importsOf(file, readFileSync(file, 'utf8'));
  cache.set(file, { mtimeMs: st.mtimeMs, deps });
  return deps;
}

/** A shortest path of imports from `start` back to `goal` (breadth first), or null. */
function pathBack(start, goal) {
  const prev = new Map([[start, null]]);
  const queue = [start];
  while (queue.length) {
    const cur = queue.shift();
    for (const next of depsOnDisk(cur)) {
      if (prev.has(next)) continue;
      prev.set(next, cur);
      if (next === goal) {
        const path = [];
        for (let n = next; n !== null; n = prev.get(n)) path.unshift(n);
        return path;
      }
      queue.push(next);
    }
  }
  return null;
}

export default {
  meta: {
    type: 'problem',
    docs: { description: 'Forbid import cycles, type-only imports included' },
    schema: [],
    messages: { cycle: 'import cycle: {{route}}' },
  },
  create(context) {
    const file = context.physicalFilename;
    if (!file || file === '<input>' || file === '<text>') return {};
    const cwd = context.cwd;
    const check = (node, spec) => {
      if (typeof spec !== 'string') return;
      const target = resolveRelative(file, spec);
      if (!target || target === file) return;
      const back = pathBack(target, file);
      if (!back) return;
      const route = [file, ...back].map((f) => relative(cwd, f)).join(' -> ');
      context.report({ node, messageId: 'cycle', data: { route } });
    };
    return {
      ImportDeclaration: (node) => check(node.source, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node.source, node.source.value),
      ExportAllDeclaration: (node) => check(node.source, node.source.value),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node.source, node.source.value),
      TSImportEqualsDeclaration: (node) =>
        node.moduleReference.type === 'TSExternalModuleReference' &&
        check(node.moduleReference.expression, node.moduleReference.expression.value),
      CallExpression: (node) => {
        if (node.callee.type === 'Identifier' && node.callee.name === 'require' && node.arguments[0]?.type === 'Literal')
          check(node.arguments[0], node.arguments[0].value);
      },
    };
  },
};
