/**
 * Intel-syntax x86-64 assembler for the source text of one kernel symbol (a function or a data object).
 * Encodings follow GNU as (`as --64 -msyntax=intel -mnaked-reg`, no -O) byte for byte, so code written
 * for the simulator disassembles and behaves as it would in a real kernel build.
 */
import { FTRACE_SITE_NOP } from './ftrace-site';
import { encodeDirective } from './asm/directives';
import { encodeInstruction, isMnemonic } from './asm/encoder';
import { AsmDiagnostic, AsmError, LineError } from './asm/errors';
import { Item } from './asm/items';
import { layout } from './asm/layout';
import { parseOperand } from './asm/operands';
import { parseLine } from './asm/parser';
import { AsmReloc } from './asm/reloc';

export { AsmError } from './asm/errors';
export type { AsmDiagnostic } from './asm/errors';
export type { AsmReloc, RelocKind } from './asm/reloc';

export interface AsmResult {
  bytes: Uint8Array;
  /** 'data' when the block holds only data directives and labels. */
  kind: 'func' | 'data';
  /** Labels defined in the block -> offset in bytes (counting the ftrace site when there is one). */
  labels: Map<string, number>;
  relocs: AsmReloc[];
}

export interface AsmOptions {
  /** Prepend the 5-byte ftrace site 0f 1f 44 00 00 when kind is 'func' (default true). Offsets/labels account for it. */
  ftraceSite?: boolean;
}

const NOP = 0x90;

/**
 * The largest symbol the assembler builds, as bytes are added (`.zero 16777216` on each of many lines
 * would otherwise grow without bound before any check could say it does not fit the machine).
 */
export const MAX_SYMBOL_BYTES = 16 << 20;

export function assemble(source: string, options: AsmOptions = {}): AsmResult {
  const items: Item[] = [];
  const labelItems = new Map<string, number>();
  const diagnostics: AsmDiagnostic[] = [];
  let hasInstructions = false;
  let size = 0;
  let tooLarge = false;

  source.split('\n').forEach((text, i) => {
    const line = i + 1;
    if (tooLarge) return;
    try {
      const parsed = parseLine(text, line);
      for (const label of parsed.labels) {
        if (labelItems.has(label.name)) throw new LineError(line, label.col, `duplicate label '${label.name}'`);
        labelItems.set(label.name, items.length);
        items.push({ t: 'label', name: label.name, line, col: label.col });
      }
      const st = parsed.statement;
      if (!st) return;
      if (st.kind === 'directive') {
        const item = encodeDirective(st.name, st.col, st.args, line, parsed.endCol);
        items.push(item);
        if (item.t === 'bytes') size += item.bytes.length;
        if (size > MAX_SYMBOL_BYTES) {
          tooLarge = true;
          throw new LineError(line, st.col, `symbol larger than ${MAX_SYMBOL_BYTES >> 20} MiB (the most one symbol may hold)`);
        }
        return;
      }
      if (!isMnemonic(st.mnemonic)) throw new LineError(line, st.col, `unknown mnemonic '${st.mnemonic}'`);
      const operands = st.args.map((a) => parseOperand(a, line, parsed.endCol));
      items.push(encodeInstruction(st.mnemonic, st.col, operands, line));
      hasInstructions = true;
      // At most 15 bytes an instruction (x86's limit): a bound, not the size.
      size += 15;
      if (size > MAX_SYMBOL_BYTES) {
        tooLarge = true;
        throw new LineError(line, st.col, `symbol larger than ${MAX_SYMBOL_BYTES >> 20} MiB (the most one symbol may hold)`);
      }
    } catch (e) {
      if (!(e instanceof LineError)) throw e;
      diagnostics.push(e.toDiagnostic());
    }
  });

  const kind = hasInstructions ? 'func' : 'data';
  const withSite = kind === 'func' && options.ftraceSite !== false;
  const out = layout({ items, labelItems, prefix: withSite ? FTRACE_SITE_NOP : [], alignFill: kind === 'func' ? NOP : 0 });
  const badLines = new Set(diagnostics.map((d) => d.line));
  for (const e of out.errors) {
    if (badLines.has(e.line)) continue;
    badLines.add(e.line);
    diagnostics.push(e.toDiagnostic());
  }
  if (diagnostics.length > 0) {
    diagnostics.sort((a, b) => a.line - b.line || a.col - b.col);
    throw new AsmError(diagnostics);
  }
  return { bytes: out.bytes, kind, labels: out.labels, relocs: out.relocs };
}
