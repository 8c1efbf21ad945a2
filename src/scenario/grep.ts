/**
 * GNU grep on a file's text: basic regular expressions by default (in a BRE, `\( \) \{ \} \| \+ \?` are
 * operators and the bare characters are literals), -E extended, -F fixed strings; -i -v -c -q -w -x.
 */
export interface GrepResult {
  stdout: string;
  stderr: string;
  exit: number;
}

/** Translates a POSIX BRE (with GNU extensions) into a JavaScript regular expression source. */
export function breToJs(bre: string): string {
  let out = '';
  for (let i = 0; i < bre.length; i++) {
    const c = bre[i];
    if (c === '\\' && i + 1 < bre.length) {
      const n = bre[++i];
      if ('(){}|+?'.includes(n)) out += n;
      else if (n === '<' || n === '>') out += '\\b';
      else out += '\\' + n;
    } else if ('(){}|+?'.includes(c)) out += '\\' + c;
    else if (c === '*' && (out === '' || out.endsWith('^'))) out += '\\*';
    else out += c;
  }
  return out;
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function grepLines(text: string, pattern: string, flags: string[]): GrepResult {
  let src = flags.includes('F') ? escapeRe(pattern) : flags.includes('E') ? pattern : breToJs(pattern);
  if (flags.includes('w')) src = `(?<![\\w])(?:${src})(?![\\w])`;
  if (flags.includes('x')) src = `^(?:${src})$`;
  let re: RegExp;
  try {
    re = new RegExp(src, flags.includes('i') ? 'i' : '');
  } catch {
    return { stdout: '', stderr: `grep: Invalid regular expression\n`, exit: 2 };
  }
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const invert = flags.includes('v');
  const hits = lines.filter((l) => re.test(l) !== invert);
  const exit = hits.length > 0 ? 0 : 1;
  if (flags.includes('q')) return { stdout: '', stderr: '', exit };
  if (flags.includes('c')) return { stdout: `${hits.length}\n`, stderr: '', exit };
  return { stdout: hits.map((l) => `${l}\n`).join(''), stderr: '', exit };
}
