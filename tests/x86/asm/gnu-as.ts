/**
 * Runs GNU as once over many small test cases and splits the result back per case, so the cross-check
 * costs one process launch however many forms it compares.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface GnuReloc {
  /** Offset relative to the start of the case. */
  offset: number;
  type: string;
  symbol: string;
  addend: number;
}

export interface GnuCase {
  bytes: Uint8Array;
  relocs: GnuReloc[];
}

const TOOLS = ['as', 'objcopy', 'nm', 'objdump'];

/** Why the cross-check can't run here, or undefined when binutils is available. */
export function gnuAsUnavailable(): string | undefined {
  const missing = TOOLS.filter((t) => spawnSync('which', [t], { encoding: 'utf8' }).status !== 0);
  if (missing.length > 0) return `GNU binutils not on PATH (missing: ${missing.join(', ')})`;
  const probe = spawnSync('as', ['--version'], { encoding: 'utf8' });
  if (probe.status !== 0 || !/GNU assembler/.test(probe.stdout)) return '`as` on PATH is not GNU as';
  return undefined;
}

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

const MARK = '__xcase_';

/** Assembles every case (Intel syntax, no prefixes) in one `as` run; result i belongs to cases[i]. */
export function gnuAssemble(cases: readonly string[]): GnuCase[] {
  const dir = mkdtempSync(join(tmpdir(), 'klpsim-gas-'));
  try {
    const src = ['.intel_syntax noprefix', '.text'];
    cases.forEach((c, i) => src.push(`${MARK}${i}:`, c));
    const s = join(dir, 'cases.s');
    const o = join(dir, 'cases.o');
    const bin = join(dir, 'cases.bin');
    writeFileSync(s, src.join('\n') + '\n');
    run('as', ['--64', '-msyntax=intel', '-mnaked-reg', '-o', o, s]);
    run('objcopy', ['-O', 'binary', '-j', '.text', o, bin]);
    const text = new Uint8Array(readFileSync(bin));

    const starts = new Array<number>(cases.length).fill(-1);
    for (const line of run('nm', [o]).split('\n')) {
      const m = /^([0-9a-f]+) \w (\S+)$/.exec(line.trim());
      if (m && m[2]?.startsWith(MARK)) starts[Number(m[2].slice(MARK.length))] = parseInt(m[1], 16);
    }
    if (starts.some((x) => x < 0)) throw new Error('case marker missing from the symbol table');
    const ends = starts.map((_, i) => (i + 1 < starts.length ? starts[i + 1] : text.length));

    const relocs: GnuReloc[] = [];
    for (const line of run('objdump', ['-r', '-j', '.text', o]).split('\n')) {
      const m = /^([0-9a-f]{8,16})\s+(R_X86_64_\w+)\s+(\S+)$/.exec(line.trim());
      if (!m) continue;
      const v = /^(.*?)(?:([+-])0x([0-9a-f]+))?$/.exec(m[3]) as RegExpExecArray;
      const addend = v[3] ? parseInt(v[3], 16) * (v[2] === '-' ? -1 : 1) : 0;
      relocs.push({ offset: parseInt(m[1], 16), type: m[2], symbol: v[1], addend });
    }
    return starts.map((start, i) => ({
      bytes: text.slice(start, ends[i]),
      relocs: relocs.filter((r) => r.offset >= start && r.offset < ends[i]).map((r) => ({ ...r, offset: r.offset - start })),
    }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
