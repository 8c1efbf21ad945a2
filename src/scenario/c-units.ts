/**
 * C in a scenario file (SPEC section 9): a function body `{ c: "…" }`, a kernel's or module's
 * `sources: [file.c]` and inline `c: |`, and `object: path.o`. Each is compiled (compile-cache.ts) or
 * read, and checked as an ELF object, when the scenario is read, so `check` reports exactly what a run
 * would: gcc's errors at their place in the scenario file (an inline block at its YAML line; a `sources:`
 * file as itself), a bad object as `OBJECT: what is wrong` at its `object:` entry.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { CompileRequest, compileCached } from '../c/compile-cache';
import { GccMissingError } from '../c/gcc-driver';
import { kernelCflags } from '../c/kernel-cflags';
import { ElfError, readElfObject } from '../c/elf/elf-reader';
import type { ElfObject } from '../c/elf/elf-types';
import { SHN_UNDEF } from '../c/elf/elf-types';
import type { Unwinder } from '../kernel/stack-walk';
import { packageRoot } from '../util/package-root';
import type { Locator } from './positions';
import type { ScenarioDiagnostic } from './scenario-error';
import type { Pos } from './scenario-types';

/**
 * What a one-function C body is compiled with, before its own text: the headers a kernel function usually
 * needs (printing, /proc files, sleeping, the current task, strings, the module macros).
 */
export const C_PRELUDE_HEADERS: readonly string[] = [
  'linux/kernel.h',
  'linux/printk.h',
  'linux/module.h',
  'linux/seq_file.h',
  'linux/delay.h',
  'linux/sched.h',
  'linux/string.h',
];

export const GCC_MISSING = 'C functions need gcc (apt-get install gcc)';

/** The most an `object:` file may be: a module image, not a disk image. */
const MAX_OBJECT_BYTES = 64 << 20;

/** klpsim's own kernel headers, the only ones C sees (-nostdinc). */
export const includeDir = (): string => join(packageRoot(), 'include');

export interface CContext {
  file: string;
  unwinder: Unwinder;
  diagnostics: ScenarioDiagnostic[];
  /** Set once gcc is found missing: said once, at the first C in the file. */
  gccMissing?: boolean;
}

/** The name gcc reports positions in stdin-fed text under; mapped back to the scenario file. */
const INPUT_NAME = 'klpsim-scenario-input.c';

function compile(ctx: CContext, req: CompileRequest, map: (line: number, col: number) => Pos, at: Pos): Uint8Array | undefined {
  let r;
  try {
    r = compileCached(req);
  } catch (e) {
    if (!(e instanceof GccMissingError)) throw e;
    if (!ctx.gccMissing) ctx.diagnostics.push({ pos: at, message: GCC_MISSING });
    ctx.gccMissing = true;
    return undefined;
  }
  if (r.ok) return r.object;
  for (const d of r.diagnostics) {
    if (d.severity !== 'error' && d.severity !== 'fatal error') continue;
    const pos =
      d.file === req.name ? map(d.line, d.col) : { file: relative(process.cwd(), resolve(d.file)) || d.file, line: d.line, col: d.col };
    ctx.diagnostics.push({ pos, message: `${d.severity}: ${d.message}` });
  }
  return undefined;
}

function elfOf(ctx: CContext, bytes: Uint8Array, file: string, at: Pos): ElfObject | undefined {
  try {
    return readElfObject(bytes, file);
  } catch (e) {
    if (!(e instanceof ElfError)) throw e;
    ctx.diagnostics.push({ pos: at, message: `${file}: ${e.message}` });
    return undefined;
  }
}

const flags = (ctx: CContext, object: string) =>
  kernelCflags({ framePointer: ctx.unwinder === 'frame-pointer', modname: object, module: object !== 'vmlinux' });

/** A one-function body (`NAME: { c: "…" }`): must define NAME. */
export function compileFunctionBody(
  ctx: CContext,
  object: string,
  name: string,
  source: string,
  map: Locator,
  at: Pos,
): ElfObject | undefined {
  const prelude = C_PRELUDE_HEADERS.map((h) => `#include <${h}>`).join('\n');
  const req: CompileRequest = {
    source: `${prelude}\n#line 1 "${INPUT_NAME}"\n${source}\n`,
    name: INPUT_NAME,
    flags: flags(ctx, object),
    include: [includeDir()],
  };
  const bytes = compile(ctx, req, map, at);
  if (!bytes) return undefined;
  const elf = elfOf(ctx, bytes, `${name}.o`, at);
  if (elf && !elf.symbols.some((s) => s.name === name && s.type === 'func' && s.shndx !== SHN_UNDEF)) {
    ctx.diagnostics.push({ pos: at, message: `the C body of ${name} does not define a function '${name}'` });
    return undefined;
  }
  return elf;
}

/** An inline `c: |` block of a kernel or module. */
export function compileInline(ctx: CContext, object: string, source: string, map: Locator, at: Pos): ElfObject | undefined {
  const req: CompileRequest = { source, name: INPUT_NAME, flags: flags(ctx, object), include: [includeDir()] };
  const bytes = compile(ctx, req, map, at);
  return bytes ? elfOf(ctx, bytes, `${object}.o`, at) : undefined;
}

/** A `sources:` file, relative to the scenario file; its errors are its own positions. */
export function compileSourceFile(ctx: CContext, object: string, path: string, at: Pos): ElfObject | undefined {
  const file = join(dirname(ctx.file), path);
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (e) {
    ctx.diagnostics.push({ pos: at, message: `cannot read C source ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}` });
    return undefined;
  }
  const req: CompileRequest = { source, name: file, flags: flags(ctx, object), include: [includeDir()], quote: [dirname(resolve(file))] };
  const bytes = compile(ctx, req, (line, col) => ({ file, line, col }), at);
  return bytes ? elfOf(ctx, bytes, file.replace(/\.c$/, '.o'), at) : undefined;
}

/** An `object:` built elsewhere (a `.o` or `.ko`). */
export function readObjectFile(ctx: CContext, path: string, at: Pos): ElfObject | undefined {
  const file = join(dirname(ctx.file), path);
  if (!existsSync(file)) {
    ctx.diagnostics.push({ pos: at, message: `${file}: no such file` });
    return undefined;
  }
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    ctx.diagnostics.push({ pos: at, message: `${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? String(e)})` });
    return undefined;
  }
  if (bytes.length > MAX_OBJECT_BYTES) {
    ctx.diagnostics.push({ pos: at, message: `${file}: larger than ${MAX_OBJECT_BYTES >> 20} MiB` });
    return undefined;
  }
  return elfOf(ctx, new Uint8Array(bytes), file, at);
}
