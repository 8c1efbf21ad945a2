/**
 * Makes a CodeBlock from a symbol's YAML entry and assembles it with the real assembler, so `check`
 * reports exactly what a run would, at the file line and column of the bad token.
 */
import { AsmError, AsmReloc, assemble } from '../x86/assembler';
import type { Path, SourcePositions } from './positions';
import type { ScenarioDiagnostic } from './scenario-error';
import type { CodeBlock } from './scenario-types';

export interface AssembledBlock {
  block: CodeBlock;
  /** False when the assembler rejected it: its `kind` is then a guess and its relocations unknown. */
  ok: boolean;
  relocs: AsmReloc[];
  /** Bytes the symbol takes in memory (a function's with its ftrace site), when `ok`. */
  size: number;
}

/** Names the block in messages before the assembler has said what it is: data blocks hold only directives. */
function looksLikeData(source: string): boolean {
  const statements = source
    .split('\n')
    .map((l) =>
      l
        .replace(/(;|#|\/\/).*$/, '')
        .replace(/^\s*([A-Za-z_.$][\w.$@]*\s*:\s*)*/, '')
        .trim(),
    )
    .filter((l) => l !== '');
  return statements.length > 0 && statements.every((l) => l.startsWith('.'));
}

export function describeBlock(name: string, kind: 'func' | 'data'): string {
  return kind === 'data' ? `data symbol ${name}` : `function ${name}`;
}

/**
 * `path` is the entry's path (its key names the symbol); `sourcePath` the string holding the assembly
 * (the entry itself, or its `code` field in `{ sympos, code }`).
 */
export function buildCodeBlock(
  positions: SourcePositions,
  diagnostics: ScenarioDiagnostic[],
  name: string,
  path: Path,
  sourcePath: Path,
  source: string,
  sympos?: number,
): AssembledBlock {
  const map = positions.locator(sourcePath);
  const block: CodeBlock = { name, source, pos: positions.keyPos(path), map, kind: looksLikeData(source) ? 'data' : 'func' };
  if (sympos !== undefined) block.sympos = sympos;
  try {
    const result = assemble(source);
    block.kind = result.kind;
    return { block, ok: true, relocs: result.relocs, size: result.bytes.length };
  } catch (e) {
    const label = describeBlock(name, block.kind);
    if (e instanceof AsmError) {
      for (const d of e.diagnostics) diagnostics.push({ pos: map(d.line, d.col), message: `in ${label}: ${d.message}` });
    } else {
      // An assembler bug must not hide the rest of the report.
      diagnostics.push({ pos: block.pos, message: `in ${label}: assembler failed: ${e instanceof Error ? e.message : String(e)}` });
    }
    return { block, ok: false, relocs: [], size: 0 };
  }
}
