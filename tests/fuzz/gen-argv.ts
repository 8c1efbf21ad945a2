/**
 * Command lines for `klpsim`: every command and option main.ts defines, with values from valid to
 * hostile, unknown and repeated options, `--opt=value` and missing values. File operands are
 * placeholders (`@valid`, `@missing`, …) that the harness turns into real paths (fuzz-files.ts).
 */
import { EDGE_NUMBERS, oddText } from './edge-values';
import type { Rand } from './rand';

/** What each placeholder stands for, as the failure report explains it. */
export const FILE_MEANINGS = {
  '@valid': 'a valid one-CPU scenario',
  '@bad-yaml': 'a scenario with YAML syntax errors',
  '@bad-schema': 'a scenario with schema errors',
  '@empty': 'an empty file',
  '@missing': 'a path in a directory that does not exist',
  '@dir': 'a directory',
  '@devnull': '/dev/null',
  '@devzero': '/dev/zero',
  '@ndjson': 'a recording with a bad line',
  '@out': 'a new file in a writable directory',
  '@out-missing-dir': 'a new file in a directory that does not exist',
  '@out-dir': 'an existing directory',
} as const;
export type FilePlaceholder = keyof typeof FILE_MEANINGS;
export const FILE_PLACEHOLDERS = Object.keys(FILE_MEANINGS) as FilePlaceholder[];

type Kind = 'int' | 'format' | 'file' | 'out' | 'host' | 'duration' | 'fault' | 'ops' | 'flag';

/** The options of each command as main.ts declares them. */
const COMMANDS: Record<string, Record<string, Kind>> = {
  run: {
    '--cpus': 'int',
    '--seed': 'int',
    '--format': 'format',
    '--trace': 'out',
    '--no-nop-removal': 'flag',
    '--deterministic': 'flag',
    '--verbose': 'flag',
  },
  watch: { '--cpus': 'int', '--seed': 'int', '--no-nop-removal': 'flag', '--deterministic': 'flag', '--verbose': 'flag' },
  serve: {
    '--replay': 'file',
    '--port': 'int',
    '--host': 'host',
    '--cpus': 'int',
    '--seed': 'int',
    '--no-nop-removal': 'flag',
    '--deterministic': 'flag',
    '--paused': 'flag',
    '--verbose': 'flag',
  },
  check: {},
  demo: { '--cpus': 'int', '--seed': 'int', '--pokes': 'int', '--format': 'format', '--deterministic': 'flag' },
  stress: {
    '--cpus': 'int',
    '--tasks': 'int',
    '--ops': 'int',
    '--duration': 'duration',
    '--seed': 'int',
    '--jobs': 'int',
    '--runs': 'int',
    '--inject': 'fault',
    '--deterministic': 'flag',
    '--no-nop-removal': 'flag',
    '--shrink': 'flag',
    '--replay-ops': 'ops',
    '--json': 'flag',
  },
  bench: { '--json': 'flag', '--ms': 'int' },
};

/** Commands that take a file operand. */
const TAKES_FILE = new Set(['run', 'watch', 'serve', 'check']);

function optionValue(r: Rand, kind: Kind): string {
  const hostile = (): string => r.pick([...EDGE_NUMBERS, '', ' ', '-', '--', oddText(r)]);
  switch (kind) {
    case 'int':
      return r.chance(0.5)
        ? String(r.int(0, 8))
        : r.pick([
            '-1',
            '100000',
            '1e3',
            '0x10',
            ' 4',
            '4abc',
            '4.0',
            '',
            '99999999999999999999999',
            '9007199254740993',
            'Infinity',
            hostile(),
          ]);
    case 'format':
      return r.chance(0.6) ? r.pick(['pretty', 'dmesg', 'ndjson']) : r.pick(['json', 'PRETTY', '', hostile()]);
    case 'file':
      return r.pick(FILE_PLACEHOLDERS);
    case 'out':
      return r.pick(['@out', '@out-missing-dir', '@out-dir', '@devnull', '']);
    case 'host':
      return r.pick(['127.0.0.1', 'localhost', '::1', '0.0.0.0', '', 'no such host', '999.1.1.1', hostile()]);
    case 'duration':
      return r.pick(['1s', '500ms', '2m', '0', '0s', '-1s', '1h', 's', '1e9s', '99999999999999999999m', hostile()]);
    case 'fault':
      return r.pick(['skip-rcu-sync', 'skip-text-poke-bp', 'early-free', 'skip-stack-check', 'early-transition-clear', 'nope', '']);
    case 'ops':
      return r.pick([
        'modprobe stress_lp0',
        'modprobe stress_lp1; wait; modprobe stress_lp4 replace=1',
        'wait',
        ';;;',
        'bogus op',
        'modprobe nosuch',
        '',
        hostile(),
      ]);
    case 'flag':
      return '';
  }
}

export function commandLine(r: Rand): string[] {
  const cmd = r.weighted<() => string>([
    [20, () => r.pick(Object.keys(COMMANDS))],
    [1, () => r.pick(['help', '--help', '-h', '--version', '-V', '', '--', 'RUN', 'rum', oddText(r)])],
  ])();
  const opts = COMMANDS[cmd] ?? {};
  const names = Object.keys(opts);
  const argv: string[] = cmd === '' && r.chance(0.5) ? [] : [cmd];
  const n = r.int(0, 4);
  for (let i = 0; i < n; i++) {
    if (names.length === 0 || r.chance(0.1)) {
      argv.push(r.pick(['--nope', '-x', '--cpus', '--help', '-h', '--', '---', '--cpus=', '-', oddText(r)]));
      continue;
    }
    const o = r.pick(names);
    const kind = opts[o];
    if (kind === 'flag') {
      argv.push(r.chance(0.9) ? o : `${o}=${r.pick(['1', 'false', ''])}`);
      continue;
    }
    const v = optionValue(r, kind);
    if (r.chance(0.15)) argv.push(`${o}=${v}`);
    else if (r.chance(0.05)) argv.push(o);
    else argv.push(o, v);
  }
  if (TAKES_FILE.has(cmd)) {
    const file = r.chance(0.9) ? r.pick(FILE_PLACEHOLDERS) : r.pick(['', '-', oddText(r)]);
    const at = r.chance(0.8) ? argv.length : r.int(1, argv.length);
    if (!(cmd === 'serve' && argv.includes('--replay') && r.chance(0.7))) argv.splice(at, 0, file);
    if (r.chance(0.05)) argv.push(r.pick(FILE_PLACEHOLDERS));
  }
  return argv;
}
