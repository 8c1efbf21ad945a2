/**
 * Module parameters as kernel/params.c parses them. A scenario gives each parameter a default, and its
 * YAML type is the parameter's type, as `module_param(name, type, perm)` declares it: a number is an
 * `int`, a boolean a `bool`, a string a `charp`. A value that does not parse fails the load (or the sysfs
 * write) with -EINVAL; one that does is kept as the kernel would print it back (param_get_*()).
 */
import { KernelVersion } from './kernel-version';

export type ParamType = 'int' | 'bool' | 'charp';

export function paramTypeOf(defaultValue: number | boolean | string): ParamType {
  return typeof defaultValue === 'number' ? 'int' : typeof defaultValue === 'boolean' ? 'bool' : 'charp';
}

/**
 * A default as the parameter's sysfs file shows it: a YAML boolean is `Y`/`N` (param_get_bool()), not the
 * YAML spelling `true`/`false` (which strtobool() refused before 5.19); null where the default does not fit its
 * type (an int beyond 32 bits), which the C initializer of the module_param() variable could not hold.
 */
export function paramDefaultText(defaultValue: number | boolean | string): string | null {
  if (typeof defaultValue === 'boolean') return defaultValue ? 'Y' : 'N';
  return parseParam(paramTypeOf(defaultValue), String(defaultValue));
}

/**
 * A parameter's value read as C reads the variable into a `bool` (`patch.replace = replace;` in the
 * selftests' livepatch modules): an int is true when nonzero, a bool when `Y`; null for anything else
 * (a charp's text has no truth value a scenario could mean).
 */
export function paramTruth(value: string): boolean | null {
  const n = parseInt32(value);
  if (n !== null) return n !== '0';
  if (value === 'Y' || value === 'N') return value === 'Y';
  return null;
}

/**
 * The value as the parameter's sysfs file shows it, or null where the kernel's parser says -EINVAL. A
 * bool is param_set_bool()'s kstrtobool() (strtobool() in 5.1, the same function), as the machine's
 * release has it: t/T and f/F only from 5.19 (src/kernel/kernel-version.ts).
 */
export function parseParam(type: ParamType, text: string, version: KernelVersion = KernelVersion.DEFAULT): string | null {
  // sysfs writes and modprobe arguments may end in a newline (echo adds one); the parsers allow it.
  const v = text.endsWith('\n') ? text.slice(0, -1) : text;
  if (type === 'charp') return v;
  if (type === 'bool') {
    const b = version.kstrtobool(v);
    return b === null ? null : b ? 'Y' : 'N';
  }
  return parseInt32(v);
}

/** kstrtoint(s, 0): optional sign, then decimal, 0x hex or 0 octal; the whole string; fits in an int. */
function parseInt32(s: string): string | null {
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(s);
  if (!m) return null;
  const digits = m[2];
  const magnitude = /^0[xX]/.test(digits)
    ? BigInt(digits)
    : digits.length > 1 && digits.startsWith('0')
      ? BigInt(`0o${digits.slice(1)}`)
      : BigInt(digits);
  const n = m[1] === '-' ? -magnitude : magnitude;
  if (n < -(2n ** 31n) || n > 2n ** 31n - 1n) return null;
  return n.toString();
}
