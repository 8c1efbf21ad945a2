/**
 * Parses one `sh:` command of a scenario into a ShellCommand (SPEC section 4). Only the shape is checked
 * here; whether a module, file or patch exists is for the validator (modules) and the runner (files).
 */
import type { ShellCommand } from './scenario-types';
import { ShellParseError, ShellToken, tokenizeShell } from './shell-tokens';

export { ShellParseError } from './shell-tokens';

export const SHELL_COMMANDS = ['modprobe', 'insmod', 'rmmod', 'lsmod', 'echo', 'cat', 'ls', 'grep', 'sysctl'] as const;

/** grep options the runner implements: -i -v -c -q -E -F -w -x. */
export const GREP_FLAGS = ['i', 'v', 'c', 'q', 'E', 'F', 'w', 'x'] as const;

const KMSG = '/dev/kmsg';

type Word = Extract<ShellToken, { kind: 'word' }>;

/** Where "missing operand" errors point: just past the last word. */
const after = (words: Word[], fallback: number): number => (words.length > 0 ? words[words.length - 1].end : fallback);

/** As modprobe/rmmod do, '-' and '_' are the same in a module name. */
const normaliseModule = (name: string): string => name.replace(/-/g, '_');

function rejectOptions(tool: string, words: Word[]): void {
  for (const w of words) {
    if (w.text.startsWith('-') && w.text.length > 1) throw new ShellParseError(w.col, `${tool}: unsupported option '${w.text}'`);
  }
}

function exactlyOne(tool: string, what: string, words: Word[], head: Word): Word {
  rejectOptions(tool, words);
  const [first, extra] = words;
  if (!first) throw new ShellParseError(head.end, `${tool}: missing ${what}`);
  if (extra) throw new ShellParseError(extra.col, `${tool}: unexpected argument '${extra.text}' (one ${what} only)`);
  return first;
}

/**
 * The file insmod opens, as its errors name it: the path as typed; a bare NAME (klpsim's shorthand, with
 * no module files on disk) stands for NAME.ko.
 */
const insmodFile = (arg: string): string => (arg.includes('/') || arg.endsWith('.ko') ? arg : `${arg}.ko`);

function parseLoad(tool: 'modprobe' | 'insmod', args: Word[], head: Word): ShellCommand {
  const [name, ...rest] = args;
  if (!name) throw new ShellParseError(head.end, `${tool}: missing module name`);
  rejectOptions(tool, [name]);
  // insmod takes a file; the module is named after it (…/NAME.ko).
  const base = tool === 'insmod' ? (name.text.split('/').pop() as string).replace(/\.ko$/, '') : name.text;
  if (base === '') throw new ShellParseError(name.col, `${tool}: missing module name`);
  const params: Record<string, string | null> = {};
  for (const w of rest) {
    // A bare PARAM is kept apart from PARAM= (an empty value): parse_args() hands the first to the
    // parameter's setter as NULL, which a bool takes as "set" and the other types refuse.
    const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:=(.*))?$/s.exec(w.text);
    if (!m) throw new ShellParseError(w.col, `${tool}: expected PARAM or PARAM=VALUE, got '${w.text}'`);
    params[m[1]] = m[2] ?? null;
  }
  return {
    cmd: tool,
    module: normaliseModule(base),
    params,
    moduleCol: name.col,
    ...(tool === 'insmod' ? { file: insmodFile(name.text) } : {}),
  };
}

function parseGrep(args: Word[], head: Word): ShellCommand {
  const flags: string[] = [];
  let i = 0;
  for (; i < args.length; i++) {
    const w = args[i];
    if (w.text === '--') {
      i++;
      break;
    }
    if (!w.text.startsWith('-') || w.text.length < 2) break;
    for (const f of w.text.slice(1)) {
      if (!(GREP_FLAGS as readonly string[]).includes(f)) {
        throw new ShellParseError(w.col, `grep: unsupported option '-${f}' (supported: ${GREP_FLAGS.map((g) => '-' + g).join(' ')})`);
      }
      flags.push(f);
    }
  }
  const [pattern, file, extra] = args.slice(i);
  if (!pattern) throw new ShellParseError(after(args, head.end), 'grep: missing pattern');
  if (!file) throw new ShellParseError(pattern.end, 'grep: missing file operand');
  if (extra) throw new ShellParseError(extra.col, `grep: unexpected argument '${extra.text}' (one file only)`);
  return { cmd: 'grep', pattern: pattern.text, file: file.text, flags };
}

/** procps sysctl: options first (-q, -n / --values), then one KEY or KEY=VALUE. */
function parseSysctl(args: Word[], head: Word): ShellCommand {
  let quiet = false;
  let valuesOnly = false;
  const rest: Word[] = [];
  for (const w of args) {
    if (w.text === '-q' || w.text === '--quiet') quiet = true;
    else if (w.text === '-n' || w.text === '--values') valuesOnly = true;
    else if (w.text === '-w' || w.text === '--write') continue;
    else if (w.text.startsWith('-') && w.text.length > 1)
      throw new ShellParseError(w.col, `sysctl: unsupported option '${w.text}' (supported: -q -n -w)`);
    else rest.push(w);
  }
  const [arg, extra] = rest;
  if (!arg) throw new ShellParseError(after(args, head.end), 'sysctl: missing KEY or KEY=VALUE');
  if (extra) throw new ShellParseError(extra.col, `sysctl: unexpected argument '${extra.text}' (one KEY or KEY=VALUE only)`);
  const eq = arg.text.indexOf('=');
  const key = eq < 0 ? arg.text : arg.text.slice(0, eq);
  if (key === '') throw new ShellParseError(arg.col, 'sysctl: missing KEY before =');
  return { cmd: 'sysctl', key, ...(eq < 0 ? {} : { value: arg.text.slice(eq + 1) }), quiet, valuesOnly, keyCol: arg.col };
}

/** A command without its redirection. */
function parseSimple(words: Word[]): ShellCommand {
  const [head, ...args] = words;
  if (!head) throw new ShellParseError(1, 'empty command');
  switch (head.text) {
    case 'modprobe':
    case 'insmod':
      return parseLoad(head.text, args, head);
    case 'rmmod': {
      const w = exactlyOne('rmmod', 'module name', args, head);
      return { cmd: 'rmmod', module: normaliseModule(w.text), moduleCol: w.col };
    }
    case 'lsmod':
      if (args[0]) throw new ShellParseError(args[0].col, `lsmod: unexpected argument '${args[0].text}'`);
      return { cmd: 'lsmod' };
    case 'echo': {
      // `-n` only drops the trailing newline, which neither sysfs nor the kernel log keeps: accepted and ignored.
      const values = args[0]?.text === '-n' ? args.slice(1) : args;
      return { cmd: 'echo', value: values.map((w) => w.text).join(' ') };
    }
    case 'cat':
      return { cmd: 'cat', file: exactlyOne('cat', 'file operand', args, head).text };
    case 'ls':
      return { cmd: 'ls', dir: exactlyOne('ls', 'directory operand', args, head).text };
    case 'grep':
      return parseGrep(args, head);
    case 'sysctl':
      return parseSysctl(args, head);
    default:
      throw new ShellParseError(head.col, `unknown command '${head.text}' (supported: ${SHELL_COMMANDS.join(', ')})`);
  }
}

/**
 * Parses a command line. `X > /dev/kmsg` becomes `{ cmd: 'kmsg', inner: X }`; `echo V > FILE` is the
 * only other redirection (a write to a sysfs attribute).
 */
export function parseShellCommand(cmd: string): ShellCommand {
  const tokens = tokenizeShell(cmd);
  const words: Word[] = [];
  let target: { file: string; col: number; append: boolean } | undefined;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.kind === 'word') {
      words.push(t);
      continue;
    }
    const file = tokens[i + 1];
    if (!file || file.kind !== 'word') throw new ShellParseError(t.end, `expected a file name after '${t.append ? '>>' : '>'}'`);
    if (target) throw new ShellParseError(t.col, 'only one redirection is supported');
    target = { file: file.text, col: file.col, append: t.append === true };
    i++;
  }
  const inner = parseSimple(words);
  if (!target) return inner;
  if (target.file === KMSG) return { cmd: 'kmsg', inner };
  if (inner.cmd === 'echo') return { ...inner, target: target.file, ...(target.append ? { append: true } : {}) };
  throw new ShellParseError(target.col, `only echo can write to a file; '${words[0].text} > ${KMSG}' sends output to the kernel log`);
}
