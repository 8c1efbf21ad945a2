/**
 * interpreter.ts keeps same-file copies of decoder.ts's `Op` and flags.ts's `FS`/`FK` const enums (so every
 * build inlines them into the hot switch). This checks the copies are identical to the originals.
 */
import { readFileSync } from 'fs';
import { join } from 'path';

const SRC = join(__dirname, '../../../src/x86');

function members(file: string, decl: RegExp): Map<string, number> {
  const text = readFileSync(join(SRC, file), 'utf8');
  const m = decl.exec(text);
  if (!m) throw new Error(`enum not found in ${file}`);
  const body = m[1].replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  const out = new Map<string, number>();
  for (const mm of body.matchAll(/(\w+)\s*=\s*(\d+)/g)) out.set(mm[1], Number(mm[2]));
  return out;
}

test.each([
  ['Op', 'decoder.ts', /export const enum Op \{([\s\S]*?)\n\}/, /\nconst enum Op \{([\s\S]*?)\n\}/],
  ['FS', 'flags.ts', /export const enum FS \{([\s\S]*?)\n\}/, /\nconst enum FS \{([^}]*)\}/],
  ['FK', 'flags.ts', /export const enum FK \{([\s\S]*?)\n\}/, /\nconst enum FK \{([^}]*)\}/],
])('interpreter.ts mirror of %s matches %s', (_name, file, orig, mirror) => {
  const a = members(file, orig);
  const b = members('interpreter.ts', mirror);
  expect(a.size).toBeGreaterThan(5);
  expect([...b.entries()].sort()).toEqual([...a.entries()].sort());
});

// block-compiler.ts keeps a partial copy of Op (the ops it compiles): every member it has must have the
// original's value, or a block would run a different instruction than the interpreter decoded.
test('block-compiler.ts partial mirror of Op agrees with decoder.ts', () => {
  const a = members('decoder.ts', /export const enum Op \{([\s\S]*?)\n\}/);
  const b = members('block-compiler.ts', /\nconst enum Op \{([\s\S]*?)\n\}/);
  expect(b.size).toBeGreaterThan(5);
  for (const [k, v] of b) expect([k, a.get(k)]).toEqual([k, v]);
});
