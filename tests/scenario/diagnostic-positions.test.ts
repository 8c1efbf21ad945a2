/**
 * Positions the fuzz test (tests/fuzz) found wrong: every diagnostic must point inside the file, at the
 * token it is about.
 */
import { readFileSync } from 'fs';
import { resolve } from 'path';
import { errorsOf } from './helpers';

/** [line, col, line's length] of each `FILE:LINE:COL:` diagnostic. */
function placed(text: string): [number, number, number][] {
  const lines = text.split('\n');
  return errorsOf(text).map((l) => {
    const m = /^test\.yaml:(\d+):(\d+): /.exec(l);
    if (!m) throw new Error(`not FILE:LINE:COL: ${l}`);
    return [Number(m[1]), Number(m[2]), lines[Number(m[1]) - 1]?.length ?? -1];
  });
}

describe('diagnostic positions', () => {
  it('YAML errors inside tokens yaml recovers from are on the line they are on', () => {
    // The shipped basic selftest cut just below its `kernel:` line (so it starts indented): yaml's own line
    // counter skips the lines of the tokens it recovers from, and its errors pointed at columns past the end
    // of line 31.
    const lines = readFileSync(resolve(__dirname, '../../scenarios/test-livepatch-basic.yaml'), 'utf8').split('\n');
    const text = lines.slice(lines.indexOf('kernel:') + 1).join('\n');
    const positions = placed(text);
    expect(positions.length).toBeGreaterThan(10);
    for (const [line, col, len] of positions) {
      expect(len).toBeGreaterThanOrEqual(0);
      expect(col).toBeLessThanOrEqual(len + 1);
      expect(line).toBeGreaterThan(0);
    }
  });

  it('maps a line of code in a multi-line single-quoted scalar to its line in the file', () => {
    // The value is 'push rbp\ncall nowhere\nret': each empty line of the file is one newline of the value.
    const text = "name: x\nkernel:\n  functions:\n    f: 'push rbp\n\n      call nowhere\n\n      ret'\n";
    expect(errorsOf(text)).toEqual(["test.yaml:6:12: in function f: unknown symbol 'nowhere'"]);
  });

  it('maps code in a multi-line plain scalar to its line in the file', () => {
    // Plain scalars fold as quoted ones do: the value is 'nop\ncall nowhere'.
    const text = 'name: x\nkernel:\n  functions:\n    f: nop\n\n      call nowhere\n';
    expect(errorsOf(text)).toEqual(["test.yaml:6:12: in function f: unknown symbol 'nowhere'"]);
  });

  it('places code of a folded block scalar whose lines fold at its header', () => {
    // `>-` joins the first two lines into 'push rbp mov rbp, rsp': value lines are no longer file lines, and
    // an error in the value's line 1 was placed at its column on the file's line 5, past that line's end.
    const text = 'name: x\nkernel:\n  functions:\n    f: >-\n      push rbp\n      mov rbp, rsp\n        call nowhere\n      ret\n';
    expect(errorsOf(text)).toEqual(["test.yaml:4:8: in function f: register 'rbp' can't be used in an expression"]);
  });

  it('follows escaped line breaks in a multi-line double-quoted scalar', () => {
    const text = 'name: x\nkernel:\n  functions:\n    f: "push rbp\n\n      call \\\n      nowhere\n\n      ret"\n';
    expect(errorsOf(text)).toEqual(["test.yaml:7:7: in function f: unknown symbol 'nowhere'"]);
  });
});
