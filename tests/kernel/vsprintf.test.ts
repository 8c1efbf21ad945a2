import { vsprintf } from '../../src/kernel/vsprintf';

function fmt(f: string, ...args: (bigint | string)[]): string {
  const strings = new Map<bigint, string>();
  const raw = args.map((a, i) => {
    if (typeof a === 'string') {
      const addr = BigInt(0x1000 + i);
      strings.set(addr, a);
      return addr;
    }
    return BigInt.asUintN(64, a);
  });
  let i = 0;
  return vsprintf(f, { next: () => raw[i++], str: (addr) => strings.get(addr) ?? '?' });
}

describe('vsprintf', () => {
  it('formats the kernel subset with C varargs semantics', () => {
    expect(fmt('%s: %d %u %x %%', 'mod', -1n, 0xffffffffn, 255n)).toBe('mod: -1 4294967295 ff %');
    expect(fmt('%d', 0xffffffffn)).toBe('-1');
    expect(fmt('%ld %lu %lx', -2n, -1n, 0xdeadbeefcafen)).toBe('-2 18446744073709551615 deadbeefcafe');
    expect(fmt('[%5d|%-4s|%08lx]', 42n, 'ab', 0x1234n)).toBe('[   42|ab  |00001234]');
    expect(fmt('%s', 0n)).toBe('(null)');
  });
});
