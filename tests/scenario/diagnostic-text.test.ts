/**
 * A diagnostic is one line, whatever it quotes from the file: a value holding a line break split its
 * `FILE:LINE:COL: message` line in two (the second without a position), and control characters (ESC)
 * went to the terminal as they were. Found by the fuzz test (tests/fuzz).
 */
import { errorsOf } from './helpers';

describe('diagnostic text', () => {
  it('escapes line breaks and control characters in quoted values', () => {
    expect(errorsOf('name: x\ncpus: "4\\n5"\n')).toEqual(["test.yaml:2:7: expected an integer, got the string '4\\n5'"]);
    expect(errorsOf('name: x\ncpus: "\\e[2J\\t"\n')).toEqual(["test.yaml:2:7: expected an integer, got the string '\\u001b[2J\\t'"]);
  });

  it('shows invisible and direction-changing characters', () => {
    expect(errorsOf('name: x\ncpus: "a\\u202eb"\n')).toEqual(["test.yaml:2:7: expected an integer, got the string 'a\\u202eb'"]);
  });
});
