import { LineError } from './errors';
import { SymRef } from './expr';
import { BranchItem, fitsSigned, Item, leBytes } from './items';
import { AsmReloc } from './reloc';

export interface LayoutInput {
  items: Item[];
  /** label name -> index of its LabelItem in `items` (already free of duplicates). */
  labelItems: Map<string, number>;
  /** Bytes placed before the first item (the ftrace site), which offsets count. */
  prefix: readonly number[];
  /** Default .align padding byte. */
  alignFill: number;
}

export interface LayoutOutput {
  bytes: Uint8Array;
  labels: Map<string, number>;
  relocs: AsmReloc[];
  errors: LineError[];
}

const LONG_SIZE = { jmp: 5, call: 5, jcc: 6 } as const;

/** GNU as treats .L names as assembler-local: one that isn't defined is an error, not an external symbol. */
function isLocalOnlyName(name: string): boolean {
  return name.startsWith('.L');
}

/**
 * Assigns offsets and produces the bytes. jmp/jcc to a label of the block start as rel8 and grow to
 * rel32 only when the displacement doesn't fit; growth is monotonic, so this reaches the same fixed
 * point as GNU as's relaxation.
 */
export function layout(input: LayoutInput): LayoutOutput {
  const { items, labelItems, prefix } = input;
  const isLocal = (name: string): boolean => labelItems.has(name);
  const long = items.map((it) => it.t === 'branch' && (it.op === 'call' || !isLocal(it.target.name)));
  const offsets = new Array<number>(items.length).fill(0);

  const sizeAt = (i: number, off: number): number => {
    const it = items[i];
    switch (it.t) {
      case 'bytes':
        return it.bytes.length;
      case 'branch':
        return long[i] ? LONG_SIZE[it.op] : 2;
      case 'align':
        return (it.alignment - (off % it.alignment)) % it.alignment;
      case 'label':
        return 0;
    }
  };
  const place = (): number => {
    let off = prefix.length;
    for (let i = 0; i < items.length; i++) {
      offsets[i] = off;
      off += sizeAt(i, off);
    }
    return off;
  };
  const labelOffset = (name: string): number => offsets[labelItems.get(name) as number];

  let total = place();
  for (let changed = true; changed;) {
    changed = false;
    items.forEach((it, i) => {
      if (it.t !== 'branch' || long[i]) return;
      const disp = BigInt(labelOffset(it.target.name)) + it.addend - BigInt(offsets[i] + 2);
      if (!fitsSigned(disp, 8)) {
        long[i] = true;
        changed = true;
      }
    });
    if (changed) total = place();
  }

  const out = new Uint8Array(total);
  out.set(prefix, 0);
  const relocs: AsmReloc[] = [];
  const errors: LineError[] = [];

  /** Writes a symbol-dependent field, or records a relocation for it. */
  const fix = (at: number, size: 4 | 8, pcrel: boolean, sym: SymRef, addend: bigint): void => {
    if (isLocal(sym.name)) {
      if (!pcrel) {
        errors.push(
          new LineError(sym.line, sym.col, `absolute address of label '${sym.name}' is not known until load time; use [rip + ${sym.name}]`),
        );
        return;
      }
      const value = BigInt(labelOffset(sym.name)) + addend - BigInt(at);
      if (!fitsSigned(value, 32)) {
        errors.push(new LineError(sym.line, sym.col, `displacement to '${sym.name}' is out of range`));
        return;
      }
      out.set(leBytes(value, 4), at);
      return;
    }
    if (isLocalOnlyName(sym.name)) {
      errors.push(new LineError(sym.line, sym.col, `undefined local label '${sym.name}'`));
      return;
    }
    const kind = pcrel ? 'rel32' : size === 8 ? 'abs64' : 'abs32';
    relocs.push({ offset: at, kind, symbol: sym.name, addend: Number(addend), line: sym.line, col: sym.col });
  };

  const branch = (it: BranchItem, i: number, off: number): void => {
    if (!long[i]) {
      const disp = BigInt(labelOffset(it.target.name)) + it.addend - BigInt(off + 2);
      out.set([it.op === 'jmp' ? 0xeb : 0x70 + it.cc, Number(BigInt.asUintN(8, disp))], off);
      return;
    }
    const opcode = it.op === 'jmp' ? [0xe9] : it.op === 'call' ? [0xe8] : [0x0f, 0x80 + it.cc];
    out.set(opcode, off);
    fix(off + opcode.length, 4, true, it.target, it.addend - 4n);
  };

  items.forEach((it, i) => {
    const off = offsets[i];
    switch (it.t) {
      case 'bytes':
        out.set(it.bytes, off);
        for (const f of it.fixups) fix(off + f.at, f.size, f.pcrel, f.sym, f.addend);
        break;
      case 'branch':
        branch(it, i, off);
        break;
      case 'align':
        out.fill(it.fill ?? input.alignFill, off, off + sizeAt(i, off));
        break;
      case 'label':
        break;
    }
  });

  const labels = new Map<string, number>();
  for (const [name, idx] of labelItems) labels.set(name, offsets[idx]);
  return { bytes: out, labels, relocs, errors };
}
