/**
 * The differential oracle (issue 14 item 4): a generated program (generator.ts) is compiled (a) natively and
 * run, printing run()'s result, and (b) with the kernel's flags into a freestanding object, linked by `ld` at a
 * fixed address into a flat image, loaded into an emulated machine at the x86 layer and run there twice —
 * on the interpreter alone (jitHot 0) and with every block compiled at its first execution (jitHot 1). The
 * three results must be equal.
 *
 * The image is read with nm/objcopy, never with an ELF reader of klpsim's own: the real loader is built
 * elsewhere (src/kernel, branch c-elf), and the oracle checks the CPU, not the loader.
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { EntryKind, Exit, PERM_R, PERM_W, PERM_X, X86Host } from '../../src/x86/cpu-types';
import { X86Cpu } from '../../src/x86/interpreter';
import { Reg } from '../../src/x86/registers';
import { KERNEL_FLAGS, VARIANTS } from './gcc';
import { generateProgram, Program } from './generator';

const execFileP = promisify(execFile);

export const TEXT = 0x100000;
const HALT = 0x1000;
const STACK_BOTTOM = 0x200000;
const STACK_TOP = 0x280000;
const MEM = 0x400000;
/** a program that has not returned after this many instructions is reported as hanging */
const MAX_INSNS = 200_000_000;

const LINKER_SCRIPT = `SECTIONS {
  . = ${TEXT};
  .text : { *(.text .text.*) }
  . = ALIGN(4096);
  __rodata_start = .;
  .rodata : { *(.rodata .rodata.*) }
  . = ALIGN(4096);
  __data_start = .;
  .data : { *(.data .data.*) }
  .bss : { *(.bss .bss.*) *(COMMON) }
  __end = .;
  /DISCARD/ : { *(__mcount_loc) *(.comment) *(.note*) *(.eh_frame) }
}
`;

export interface Image {
  bytes: Uint8Array;
  entry: number;
  rodata: number;
  data: number;
  end: number;
}

export interface Built {
  program: Program;
  variant: string[];
  native: bigint;
  image: Image;
}

/** The optimisation variant a seed is compiled with (mostly the kernel's -O2). */
export function variantOf(seed: number): string[] {
  return VARIANTS[[0, 0, 0, 1, 1, 2, 3, 0][seed % 8]];
}

async function sh(cmd: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await execFileP(cmd, args, { maxBuffer: 64 << 20, encoding: 'utf8' });
    return stdout;
  } catch (e) {
    const x = e as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')}: ${x.stderr ?? x.message}`, { cause: e });
  }
}

/** Compile, link and run natively the program of `seed` in directory `dir`. */
export async function build(seed: number, dir: string): Promise<Built> {
  const program = generateProgram(seed);
  const variant = variantOf(seed);
  const base = join(dir, `p${seed}`);
  writeFileSync(`${base}.c`, program.kernel);
  writeFileSync(`${base}-native.c`, program.native);
  writeFileSync(join(dir, 'image.ld'), LINKER_SCRIPT);
  const native = (async (): Promise<bigint> => {
    // -O0: the ground truth does not share gcc's optimisers with the program under test
    await sh('gcc', ['-O0', '-w', `${base}-native.c`, '-o', `${base}-native`]);
    return BigInt((await sh(`${base}-native`, [])).trim());
  })();
  const image = (async (): Promise<Image> => {
    await sh('gcc', [...variant, ...KERNEL_FLAGS, '-w', '-c', `${base}.c`, '-o', `${base}.o`]);
    await sh('ld', ['-T', join(dir, 'image.ld'), '-e', 'run', '-o', `${base}.elf`, `${base}.o`]);
    await sh('objcopy', ['-O', 'binary', `${base}.elf`, `${base}.bin`]);
    const syms = new Map<string, number>();
    for (const line of (await sh('nm', [`${base}.elf`])).split('\n')) {
      const m = /^([0-9a-f]+) \w (\S+)$/.exec(line);
      if (m) syms.set(m[2], parseInt(m[1], 16));
    }
    const need = (s: string): number => {
      const v = syms.get(s);
      if (v === undefined) throw new Error(`seed ${seed}: no symbol ${s} in the image`);
      return v;
    };
    return {
      bytes: new Uint8Array(readFileSync(`${base}.bin`)),
      entry: need('run'),
      rodata: need('__rodata_start'),
      data: need('__data_start'),
      end: need('__end'),
    };
  })();
  return { program, variant, native: await native, image: await image };
}

export interface Emulated {
  /** run()'s result, or undefined when the CPU did not return to the caller */
  value: bigint | undefined;
  instructions: number;
  /** why it did not return: the exit and the fault's message */
  error?: string;
}

/** Load the image into a fresh machine and call run() with the given jitHot (0: interpreter only). */
export function emulate(image: Image, jitHot: number): Emulated {
  const mem = new Uint8Array(new SharedArrayBuffer(MEM));
  const perms = new Uint8Array(MEM >>> 12);
  mem.set(image.bytes, TEXT);
  mem[HALT] = 0xf4;
  perms[HALT >>> 12] = PERM_R | PERM_X;
  for (let a = TEXT; a < image.rodata; a += 4096) perms[a >>> 12] = PERM_R | PERM_X;
  for (let a = image.rodata; a < image.data; a += 4096) perms[a >>> 12] = PERM_R;
  for (let a = image.data; a < image.end; a += 4096) perms[a >>> 12] = PERM_R | PERM_W;
  for (let a = STACK_BOTTOM; a < STACK_TOP; a += 4096) perms[a >>> 12] = PERM_R | PERM_W;
  const host: X86Host = { entryKind: (): EntryKind => EntryKind.Normal };
  const cpu = new X86Cpu(mem, perms, host);
  cpu.jitHot = jitHot;
  cpu.setRegNum(Reg.RSP, STACK_TOP);
  cpu.push64(HALT);
  cpu.rip = image.entry;
  for (;;) {
    const exit = cpu.run(1_000_000);
    if (exit === Exit.Budget) {
      if (cpu.retired > MAX_INSNS)
        return { value: undefined, instructions: cpu.retired, error: `still running after ${cpu.retired} instructions` };
      continue;
    }
    if (exit === Exit.Halt && cpu.rip === HALT + 1 && cpu.getRegNum(Reg.RSP) === STACK_TOP)
      return { value: cpu.getReg(Reg.RAX), instructions: cpu.retired };
    const f = cpu.fault;
    const what = f !== null ? `${f.vector} at 0x${f.rip.toString(16)}: ${f.message}` : `exit ${exit} at 0x${cpu.rip.toString(16)}`;
    return { value: undefined, instructions: cpu.retired, error: what };
  }
}

export interface Verdict {
  seed: number;
  ok: boolean;
  native: bigint;
  interp: Emulated;
  jit: Emulated;
  variant: string[];
}

/** Build and run one seed on both paths. */
export async function check(seed: number, dir: string): Promise<Verdict> {
  const b = await build(seed, dir);
  const interp = emulate(b.image, 0);
  const jit = emulate(b.image, 1);
  const ok = interp.value === b.native && jit.value === b.native;
  return { seed, ok, native: b.native, interp, jit, variant: b.variant };
}

/** A failing verdict as a report a developer can act on: the seed, the values, how to replay it. */
export function describeFailure(v: Verdict): string {
  const show = (e: Emulated): string => (e.value !== undefined ? `0x${e.value.toString(16)}` : `no result (${e.error ?? '?'})`);
  return [
    `oracle seed ${v.seed} (${v.variant.join(' ')}): native 0x${v.native.toString(16)}, interpreter ${show(v.interp)}, block compiler ${show(v.jit)}`,
    `  replay: npx tsx tests/oracle/run.ts --seed ${v.seed} --show`,
  ].join('\n');
}
