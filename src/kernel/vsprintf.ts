/**
 * The printk / seq_printf format subset of SPEC section 3: %s %d %i %u %x %ld %li %lu %lx %llx %c %p %%,
 * with optional flags/width ("%-8s", "%08lx") as the kernel's vsprintf accepts them.
 * Arguments arrive as raw 64-bit register values; the conversion decides signedness and width, exactly
 * as C varargs do (so "%d" of 0xffffffff prints -1).
 */
export interface VsprintfArgs {
  /** The next integer argument as a raw unsigned 64-bit value. */
  next(): bigint;
  /** Reads a NUL-terminated string at a kernel address. */
  str(addr: bigint): string;
}

const SPEC = /%([-0+ #]*)(\d+)?(?:\.(\d+))?(hh|h|ll|l|z)?([sdiuxXcp%])/g;

export function vsprintf(fmt: string, args: VsprintfArgs): string {
  return fmt.replace(SPEC, (_m, flags: string, width: string | undefined, _prec, len: string | undefined, conv: string) => {
    if (conv === '%') return '%';
    let body: string;
    const raw = conv === '%' ? 0n : args.next();
    const is64 = len === 'l' || len === 'll' || len === 'z';
    const bits = is64 ? 64 : 32;
    const unsigned = BigInt.asUintN(bits, raw);
    switch (conv) {
      case 's':
        body = raw === 0n ? '(null)' : args.str(raw);
        break;
      case 'd':
      case 'i':
        body = BigInt.asIntN(bits, raw).toString();
        break;
      case 'u':
        body = unsigned.toString();
        break;
      case 'x':
        body = unsigned.toString(16);
        break;
      case 'X':
        body = unsigned.toString(16).toUpperCase();
        break;
      case 'c':
        body = String.fromCharCode(Number(raw & 0xffn));
        break;
      case 'p':
        body = BigInt.asUintN(64, raw).toString(16).padStart(16, '0');
        break;
      default:
        body = '';
    }
    const w = width ? Number(width) : 0;
    if (body.length >= w) return body;
    if (flags.includes('-')) return body.padEnd(w);
    if (flags.includes('0') && conv !== 's') {
      const neg = body.startsWith('-');
      return (neg ? '-' : '') + body.slice(neg ? 1 : 0).padStart(w - (neg ? 1 : 0), '0');
    }
    return body.padStart(w);
  });
}
