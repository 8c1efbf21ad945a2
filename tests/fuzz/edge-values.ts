/** The values a fuzzer reaches for first: number edges, odd text, YAML's own spellings of numbers and nulls. */
import type { Rand } from './rand';

/** Numbers as a user might type them, and the ones that break naive parsers (as source text). */
export const EDGE_NUMBERS = [
  '-1', '0', '1', '-0', '2', '63', '64', '65', '255', '256', '257', '4096', '4097', '2147483647', '2147483648', '-2147483648', '-2147483649',
  '4294967295', '4294967296', '9007199254740991', '9007199254740992', '9007199254740993', '18446744073709551615',
  '99999999999999999999999', '1e300', '-1e300', '1e-300', '1.5', '0.1', '1e3', '0x10', '0x7fffffffffffffff', '0o777', '010', '1_000',
  '.nan', '.NaN', '.inf', '-.inf', 'NaN', 'Infinity', '-Infinity', '+1', '1.', '9000000000000',
];

/** Characters that mean something to YAML, the shell or a terminal, and unicode a parser may trip over. */
export const ODD_CHARS = [
  ':', '{', '}', '[', ']', ',', '&', '*', '!', '|', '>', "'", '"', '#', '%', '@', '`', '-', '?', '\t', '\n', '\r', '\\', '$', '\0',
  '\u00e9', '\u0301', '\u200b', '\u202e', '\ufeff', '\ufffd', '\u{1f600}', '\ud800', '\u2028', '\u0085', '\x1b', '\x7f', ' ',
];

/** Whole strings of unicode edge cases. */
export const ODD_STRINGS = ['', ' ', '\u{1f600}\u{1f600}', 'e\u0301', '\u202eevil', '\ufeffbom', 'nul\0byte', 'tab\there', '\ud800lone', 'ζ-模块', '\u2028sep', '\x1b[2J'];

/** Text a YAML scalar can hold, from harmless to hostile. */
export function oddText(r: Rand): string {
  return r.weighted<() => string>([
    [3, () => r.chars('abcdefghijklmnopqrstuvwxyz_0123456789', r.int(1, 12))],
    [2, () => r.pick(ODD_STRINGS)],
    [2, () => r.chars(ODD_CHARS.join(''), r.int(1, 6))],
    [1, () => r.pick(EDGE_NUMBERS)],
    [1, () => '${' + r.chars('abcdefgh_', r.int(0, 6)) + (r.chance(0.8) ? '}' : '')],
    [1, () => 'x'.repeat(r.pick([100, 1000, 10_000]))],
  ])();
}
