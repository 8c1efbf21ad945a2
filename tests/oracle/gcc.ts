/**
 * gcc and binutils for the x86 cross-checks: the kernel's code-generation flags (as Kbuild passes them for
 * x86-64, issue 14), compiling a C source to an object, and objdump's listing of an object split into rows.
 */
import { spawnSync } from 'node:child_process';
import { KBUILD_CFLAGS } from '../../src/c/kernel-cflags';

/**
 * Kbuild's x86-64 code generation, exactly as klpsim compiles C (src/c/kernel-cflags.ts), less its -O2:
 * the cross-checks compile each program at several optimisation levels (VARIANTS), and gcc takes the last
 * -O it is given.
 */
export const KERNEL_FLAGS: readonly string[] = KBUILD_CFLAGS.filter((f) => !/^-O/.test(f));

/** The optimisation variants the corpus is compiled with (the kernel's -O2, with frame pointers, and others gcc users pick). */
export const VARIANTS: string[][] = [['-O2'], ['-O2', '-fno-omit-frame-pointer'], ['-O1'], ['-Os']];

const TOOLS = ['gcc', 'objdump', 'ld', 'objcopy', 'nm'];

/** Why the gcc cross-checks can't run here, or undefined when gcc and binutils are installed. */
export function gccUnavailable(): string | undefined {
  const missing = TOOLS.filter((t) => spawnSync('which', [t], { encoding: 'utf8' }).status !== 0);
  if (missing.length > 0) return `gcc/binutils not on PATH (missing: ${missing.join(', ')}; apt-get install gcc binutils)`;
  const probe = spawnSync('gcc', ['-dumpmachine'], { encoding: 'utf8' });
  if (probe.status !== 0 || !/^x86_64/.test(probe.stdout)) return 'gcc does not target x86_64';
  return undefined;
}

export function run(cmd: string, args: string[], input?: string): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input, maxBuffer: 256 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** Compile C file `src` to object `out` with the kernel flags plus `variant`. */
export function compileKernel(src: string, out: string, variant: string[], include?: string): void {
  run('gcc', [...variant, ...KERNEL_FLAGS, ...(include !== undefined ? ['-I', include] : []), '-c', src, '-o', out]);
}

export interface DumpRow {
  section: string;
  addr: number;
  bytes: number[];
  /** objdump's text, whitespace as printed */
  text: string;
}

/** `objdump -d -M intel` of an object, one row per instruction (continuation lines of long ones merged). */
export function objdumpRows(obj: string): DumpRow[] {
  const dump = run('objdump', ['-d', '-M', 'intel', '--insn-width=16', obj]);
  const rows: DumpRow[] = [];
  let section = '';
  for (const line of dump.split('\n')) {
    const s = /^Disassembly of section (\S+):/.exec(line);
    if (s) {
      section = s[1];
      continue;
    }
    const m = /^\s*([0-9a-f]+):\t([0-9a-f ]+?)\s*(?:\t(.*))?$/.exec(line);
    if (!m) continue;
    const bytes = m[2]
      .trim()
      .split(/\s+/)
      .map((x) => parseInt(x, 16));
    rows.push({ section, addr: parseInt(m[1], 16), bytes, text: (m[3] ?? '').trim() });
  }
  return rows;
}

const DROP_PREFIXES = new Set(['cs', 'ds', 'es', 'ss', 'data16', 'rex', 'rex.W', 'rex.X', 'rex.B', 'rex.R', 'notrack', 'bnd']);

/**
 * objdump's text in the form src/x86/disasm.ts prints: comments and symbolic branch targets dropped,
 * redundant prefixes dropped, an encoded zero displacement and the `,1` of the short shift forms spelled
 * the way the record keeps them.
 */
export function normaliseObjdump(text: string): string {
  let t = text.replace(/\s+#.*$/, '').trim();
  t = t.replace(/^(\S+)\s+([0-9a-f]+) <[^>]*>$/, '$1 0x$2');
  // words are separated by objdump's padding after the mnemonic and single spaces in "QWORD PTR [rax]"
  const words = t.split(/\s+/);
  while (words.length > 1 && DROP_PREFIXES.has(words[0])) words.shift();
  if (words[0] === 'repz' || words[0] === 'repnz') words[0] = 'rep';
  t = words.join(' ');
  t = t.replace(/\+0x0\]/g, ']');
  t = t.replace(/^((?:rol|ror|rcl|rcr|shl|shr|sal|sar) .*),1$/, '$1,0x1');
  return t;
}
