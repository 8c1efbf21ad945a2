/**
 * The names a scenario defines, as the checks need them: which object owns a symbol and whether it is
 * code or data. Built from every code block, including ones the assembler rejected (their kind is then
 * 'unknown', so a broken block does not cause a second, misleading "not a function" error).
 */
import { CALLABLE_SERVICES } from '../kernel/services';
import type { AssembledBlock } from './code-block';
import type { CodeBlock, CUnit, Scenario } from './scenario-types';
import { SHN_UNDEF } from '../c/elf/elf-types';
import { sectionClass } from '../c/elf/sections';

export type SymbolKind = 'func' | 'data' | 'unknown';

export type SymbolTable = Map<string, SymbolKind>;

export const SERVICES: ReadonlySet<string> = new Set(CALLABLE_SERVICES);

function kindOf(b: CodeBlock, blocks: Map<CodeBlock, AssembledBlock>): SymbolKind {
  return blocks.get(b)?.ok === false ? 'unknown' : b.kind;
}

/** 'func' wins over 'unknown' over 'data' when two objects define the same name. */
function add(table: SymbolTable, name: string, kind: SymbolKind): void {
  const old = table.get(name);
  if (old === 'func' || (old === 'unknown' && kind === 'data')) return;
  table.set(name, kind);
}

export interface Symbols {
  kernel: SymbolTable;
  /** A module's own symbols: its functions and its parameters (64-bit data symbols, SPEC section 2). */
  modules: Map<string, SymbolTable>;
  /** Functions anything may `call:` or expose in /proc: kernel and module functions. */
  functions: SymbolTable;
  /** Everything an assembly block may reference: all of the above, livepatch symbols and the services. */
  all: Set<string>;
}

/** The globals a C unit defines, code or data (its locals are its own business). */
export function unitGlobals(u: CUnit): [string, SymbolKind][] {
  return u.elf.symbols
    .filter(
      (sym) =>
        sym.binding !== 'local' &&
        sym.shndx !== SHN_UNDEF &&
        sym.name !== '' &&
        (sym.type === 'func' || sym.type === 'object' || sym.type === 'notype'),
    )
    .map((sym) => {
      const sec = u.elf.sections[sym.shndx] as (typeof u.elf.sections)[number] | undefined;
      return [sym.name, sec && sectionClass(sec) === 'text' ? 'func' : 'data'];
    });
}

export function collectSymbols(s: Scenario, blocks: Map<CodeBlock, AssembledBlock>): Symbols {
  const kernel: SymbolTable = new Map();
  for (const b of s.functions) add(kernel, b.name, kindOf(b, blocks));
  for (const u of s.units) for (const [n, k] of unitGlobals(u)) add(kernel, n, k);
  const modules = new Map<string, SymbolTable>();
  const functions: SymbolTable = new Map(kernel);
  const all = new Set<string>([...kernel.keys(), ...SERVICES]);
  for (const m of s.modules) {
    const own: SymbolTable = new Map();
    for (const b of m.functions) add(own, b.name, kindOf(b, blocks));
    for (const u of m.units) for (const [n, k] of unitGlobals(u)) add(own, n, k);
    for (const [name, kind] of own) add(functions, name, kind);
    for (const p of Object.keys(m.params)) add(own, p, 'data');
    modules.set(m.name, own);
    for (const name of own.keys()) all.add(name);
    for (const o of m.livepatch?.objects ?? []) for (const b of o.funcs) all.add(b.name);
  }
  return { kernel, modules, functions, all };
}
