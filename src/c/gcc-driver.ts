/**
 * Runs the system's gcc on one translation unit and returns the relocatable object it writes, or gcc's
 * diagnostics parsed to file:line:col. The source goes in on stdin behind a `#line 1 "NAME"`, so gcc
 * reports positions inside it under NAME (the caller maps them back to the scenario file); headers keep
 * their own paths. Every run is bounded: gcc is killed after GCC_TIMEOUT_MS.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** gcc compiles a kernel module in well under a second; a minute means something is wrong (a huge input, a hung gcc). */
export const GCC_TIMEOUT_MS = 60_000;
/** The most output gcc may write before it is stopped (a flood of errors is cut, not buffered without bound). */
const MAX_OUTPUT = 4 << 20;

export interface GccDiagnostic {
  file: string;
  line: number;
  col: number;
  severity: 'error' | 'fatal error' | 'warning' | 'note';
  message: string;
}

export type GccResult = { ok: true; object: Uint8Array; deps: string[] } | { ok: false; diagnostics: GccDiagnostic[]; output: string };

export class GccMissingError extends Error {
  constructor(readonly gcc: string) {
    super(`${gcc} not found`);
    this.name = 'GccMissingError';
  }
}

/** The gcc to run: $KLPSIM_CC (a cross gcc, a wrapper), else `gcc` from PATH. */
export const gccCommand = (): string => process.env.KLPSIM_CC || 'gcc';

let versionMemo: { cmd: string; path: string | undefined; version: string | null } | undefined;

/** gcc's version line (part of the cache key), or null when there is no gcc to run. */
export function gccVersion(): string | null {
  const cmd = gccCommand();
  if (versionMemo && versionMemo.cmd === cmd && versionMemo.path === process.env.PATH) return versionMemo.version;
  // env given explicitly: PATH is looked up in the environment the child gets, as for the compile itself.
  const r = spawnSync(cmd, ['--version'], { encoding: 'utf8', timeout: GCC_TIMEOUT_MS, killSignal: 'SIGKILL', env: { ...process.env } });
  const version = r.error || r.status !== 0 ? null : (r.stdout.split('\n')[0] ?? '').trim() + ` (${cmd})`;
  versionMemo = { cmd, path: process.env.PATH, version };
  return version;
}

const DIAG = /^(.*?):(\d+):(\d+): (error|fatal error|warning|note): (.*)$/;
const DIAG_NO_COL = /^(.*?):(\d+): (error|fatal error|warning|note): (.*)$/;

export function parseGccDiagnostics(stderr: string): GccDiagnostic[] {
  const out: GccDiagnostic[] = [];
  for (const line of stderr.split('\n')) {
    const m = DIAG.exec(line);
    if (m) {
      out.push({ file: m[1], line: Number(m[2]), col: Number(m[3]), severity: m[4] as GccDiagnostic['severity'], message: m[5] });
      continue;
    }
    const n = DIAG_NO_COL.exec(line);
    if (n) out.push({ file: n[1], line: Number(n[2]), col: 1, severity: n[3] as GccDiagnostic['severity'], message: n[4] });
  }
  return out;
}

/** Make's dependency rule (`-MD`) to the list of files it names: the unit's headers. */
function parseDeps(text: string): string[] {
  const body = text.replace(/\\\n/g, ' ').replace(/^[^:]*:/, '');
  return body
    .split(/(?<!\\)\s+/)
    .map((p) => p.replace(/\\ /g, ' '))
    .filter((p) => p !== '' && p !== '-');
}

export interface GccInput {
  /** The C text. */
  source: string;
  /** The name gcc reports positions in `source` under. */
  name: string;
  flags: readonly string[];
  /** -I directories (klpsim's include/), then -iquote ones (a `sources:` file's directory, for "x.h"). */
  include: readonly string[];
  quote?: readonly string[];
}

export function runGcc(input: GccInput): GccResult {
  const cmd = gccCommand();
  const dir = mkdtempSync(join(tmpdir(), 'klpsim-cc-'));
  try {
    const out = join(dir, 'out.o');
    const depFile = join(dir, 'out.d');
    const args = [
      ...input.flags,
      ...input.include.flatMap((d) => ['-I', d]),
      ...(input.quote ?? []).flatMap((d) => ['-iquote', d]),
      '-MD',
      '-MF',
      depFile,
      '-c',
      '-x',
      'c',
      '-',
      '-o',
      out,
    ];
    const r = spawnSync(cmd, args, {
      input: `#line 1 "${input.name.replace(/["\\]/g, '\\$&')}"\n${input.source}`,
      encoding: 'utf8',
      timeout: GCC_TIMEOUT_MS,
      killSignal: 'SIGKILL',
      maxBuffer: MAX_OUTPUT,
      env: { ...process.env, LC_ALL: 'C' },
    });
    if (r.error) {
      if ((r.error as NodeJS.ErrnoException).code === 'ENOENT') throw new GccMissingError(cmd);
      const why =
        (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT'
          ? `did not finish in ${GCC_TIMEOUT_MS / 1000} s and was killed`
          : r.error.message;
      return {
        ok: false,
        diagnostics: [{ file: input.name, line: 1, col: 1, severity: 'error', message: `${cmd} ${why}` }],
        output: r.stderr ?? '',
      };
    }
    if (r.status !== 0) {
      const diagnostics = parseGccDiagnostics(r.stderr);
      if (!diagnostics.some((d) => d.severity === 'error' || d.severity === 'fatal error'))
        diagnostics.push({
          file: input.name,
          line: 1,
          col: 1,
          severity: 'error',
          message: `${cmd} failed (exit ${r.status ?? r.signal}): ${r.stderr.trim().split('\n').slice(-1)[0] ?? ''}`,
        });
      return { ok: false, diagnostics, output: r.stderr };
    }
    const deps = parseDeps(readFileSync(depFile, 'utf8'));
    return { ok: true, object: new Uint8Array(readFileSync(out)), deps };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
