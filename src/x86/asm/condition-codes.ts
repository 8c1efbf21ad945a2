/** x86 condition-code suffixes (after j/set/cmov) and their 4-bit encodings, aliases included. */
const CONDITION_CODES: ReadonlyMap<string, number> = new Map([
  ['o', 0],
  ['no', 1],
  ['b', 2],
  ['c', 2],
  ['nae', 2],
  ['ae', 3],
  ['nb', 3],
  ['nc', 3],
  ['e', 4],
  ['z', 4],
  ['ne', 5],
  ['nz', 5],
  ['be', 6],
  ['na', 6],
  ['a', 7],
  ['nbe', 7],
  ['s', 8],
  ['ns', 9],
  ['p', 10],
  ['pe', 10],
  ['np', 11],
  ['po', 11],
  ['l', 12],
  ['nge', 12],
  ['ge', 13],
  ['nl', 13],
  ['le', 14],
  ['ng', 14],
  ['g', 15],
  ['nle', 15],
]);

export function conditionCode(suffix: string): number | undefined {
  return CONDITION_CODES.get(suffix);
}
