/** Module parameters parse as kernel/params.c's int, bool and charp setters do. */
import { paramTypeOf, parseParam } from '../../src/kernel/module-params';
import { KernelVersion } from '../../src/kernel/kernel-version';

describe('module parameters', () => {
  it('takes the type from the default: number int, boolean bool, string charp', () => {
    expect([paramTypeOf(0), paramTypeOf(true), paramTypeOf('x')]).toEqual(['int', 'bool', 'charp']);
  });

  it('int: kstrtoint base 0, the whole string, an int32, shown in decimal', () => {
    const ok: [string, string][] = [
      ['5', '5'],
      ['-3', '-3'],
      ['+7', '7'],
      ['0x10', '16'],
      ['010', '8'],
      ['0', '0'],
      ['12\n', '12'],
      ['2147483647', '2147483647'],
      ['-2147483648', '-2147483648'],
    ];
    for (const [text, shown] of ok) expect(parseParam('int', text)).toBe(shown);
    for (const bad of ['abc', '', '08', '1.5', '5x', ' 5', '2147483648', '0x', '--1']) expect(parseParam('int', bad)).toBeNull();
  });

  it('bool: strtobool by the first characters, shown as Y or N; true/false only from 5.19', () => {
    for (const v of [KernelVersion.of('5.1'), KernelVersion.of('6.12')]) {
      for (const t of ['1', 'y', 'Y', 'yes', 'on', 'ON']) expect(parseParam('bool', t, v)).toBe('Y');
      for (const t of ['0', 'n', 'N', 'no', 'off', 'Off']) expect(parseParam('bool', t, v)).toBe('N');
      for (const bad of ['', 'o', 'ox', '2']) expect(parseParam('bool', bad, v)).toBeNull();
    }
    expect(parseParam('bool', 'true', KernelVersion.of('5.1'))).toBeNull();
    expect(parseParam('bool', 'true', KernelVersion.of('6.12'))).toBe('Y');
    expect(parseParam('bool', 'false\n', KernelVersion.of('6.12'))).toBe('N');
  });

  it('charp: any text, without the newline echo adds', () => {
    expect(parseParam('charp', 'hello world\n')).toBe('hello world');
    expect(parseParam('charp', '')).toBe('');
  });
});
