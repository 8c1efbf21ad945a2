/**
 * Compiles C once per content: an object is keyed by the source text, the flags and gcc's version, and
 * stored with the headers it was built from (gcc -MD) and their hashes; a hit is used only when every one
 * of those headers still hashes the same (ccache's "direct mode"). One entry is one file, written to a
 * temporary name and renamed into place, so two processes compiling the same unit at once both end with
 * a complete entry, never a torn one.
 *
 * The cache lives in $XDG_CACHE_HOME/klpsim, else node_modules/.cache/klpsim in klpsim's package, else the
 * system's temporary directory. Objects shipped in the package (`precompiled/`, keyed without the gcc
 * version: see precompiled.ts) are used only when there is no gcc.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { packageRoot } from '../util/package-root';
import { GccDiagnostic, GccMissingError, gccVersion, runGcc } from './gcc-driver';

const FORMAT = 1;

export interface CompileRequest {
  source: string;
  /** The name gcc reports positions in `source` under. */
  name: string;
  /** kernelCflags(): what decides the object. */
  flags: readonly string[];
  /** klpsim's include/ (and any other -I directories). */
  include: readonly string[];
  /** -iquote directories: a `sources:` file's own directory. */
  quote?: readonly string[];
}

export type CompileOutcome =
  { ok: true; object: Uint8Array; from: 'gcc' | 'cache' | 'precompiled' } | { ok: false; diagnostics: GccDiagnostic[] };

interface Entry {
  format: number;
  /** Headers gcc read, relative to klpsim's package when inside it, and each one's sha256. */
  deps: [string, string][];
  object: string;
}

const sha256 = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** The key of a unit without the compiler: what a shipped object is found by. */
export function sourceKey(req: CompileRequest): string {
  return sha256(JSON.stringify({ format: FORMAT, flags: req.flags, source: req.source }));
}

const cacheKey = (req: CompileRequest, gcc: string): string => sha256(JSON.stringify({ key: sourceKey(req), gcc }));

export function cacheDir(): string {
  if (process.env.XDG_CACHE_HOME) return join(process.env.XDG_CACHE_HOME, 'klpsim');
  try {
    const nm = join(packageRoot(), 'node_modules');
    if (existsSync(nm)) return join(nm, '.cache', 'klpsim');
  } catch {
    // Not inside the package (bundled): the temporary directory will do.
  }
  return join(tmpdir(), `klpsim-cache-${process.getuid?.() ?? 0}`);
}

function storedPath(file: string): string {
  const abs = resolve(file);
  try {
    const rel = relative(packageRoot(), abs);
    if (!rel.startsWith('..') && !isAbsolute(rel)) return rel;
  } catch {
    // Outside any package: kept absolute.
  }
  return abs;
}

function hashFile(stored: string): string | null {
  try {
    return sha256(readFileSync(isAbsolute(stored) ? stored : join(packageRoot(), stored)));
  } catch {
    return null;
  }
}

/** The entry's object if the entry exists, is readable and its headers are unchanged. */
export function readEntry(path: string): Uint8Array | null {
  let entry: Entry;
  try {
    entry = JSON.parse(readFileSync(path, 'utf8')) as Entry;
  } catch {
    return null;
  }
  if (entry.format !== FORMAT || !Array.isArray(entry.deps) || typeof entry.object !== 'string') return null;
  for (const [file, hash] of entry.deps) if (hashFile(file) !== hash) return null;
  return new Uint8Array(Buffer.from(entry.object, 'base64'));
}

/** Writes an entry atomically; a cache that cannot be written only costs the next run a compile. */
export function writeEntry(path: string, object: Uint8Array, deps: readonly string[]): void {
  const entry: Entry = {
    format: FORMAT,
    deps: deps.map((d) => {
      const stored = storedPath(d);
      return [stored, hashFile(stored) ?? ''];
    }),
    object: Buffer.from(object).toString('base64'),
  };
  try {
    mkdirSync(join(path, '..'), { recursive: true });
    const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    writeFileSync(tmp, JSON.stringify(entry));
    renameSync(tmp, path);
  } catch {
    // Read-only or full: compile next time.
  }
}

/** Where the package ships precompiled objects (for `npm start` without gcc). */
export const precompiledDir = (): string => join(packageRoot(), 'precompiled');
export const precompiledPath = (req: CompileRequest, dir: string = precompiledDir()): string => join(dir, `${sourceKey(req)}.json`);

/** Who wants to know every unit compiled (scripts/precompile.ts, the shipped-objects test). */
const observers = new Set<(req: CompileRequest) => void>();

/** Runs `fn`, returning with its result every unit compileCached() was asked for meanwhile. */
export function recordCompiles<T>(fn: () => T): { result: T; requests: CompileRequest[] } {
  const requests: CompileRequest[] = [];
  const obs = (req: CompileRequest): void => void requests.push(req);
  observers.add(obs);
  try {
    return { result: fn(), requests };
  } finally {
    observers.delete(obs);
  }
}

/**
 * Compiles `req` (or finds it compiled). Without gcc, a shipped object of the same source, flags and
 * headers is used; without one either, GccMissingError.
 */
export function compileCached(req: CompileRequest, shippedDir: string = precompiledDir()): CompileOutcome {
  for (const o of observers) o(req);
  const gcc = gccVersion();
  if (gcc === null) {
    const shipped = readEntry(precompiledPath(req, shippedDir));
    if (shipped) return { ok: true, object: shipped, from: 'precompiled' };
    throw new GccMissingError(process.env.KLPSIM_CC || 'gcc');
  }
  const path = join(cacheDir(), `${cacheKey(req, gcc)}.json`);
  const hit = readEntry(path);
  if (hit) return { ok: true, object: hit, from: 'cache' };
  const r = runGcc(req);
  if (!r.ok) return { ok: false, diagnostics: r.diagnostics };
  writeEntry(path, r.object, r.deps);
  return { ok: true, object: r.object, from: 'gcc' };
}
