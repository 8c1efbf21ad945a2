/**
 * Turns zod issues into diagnostics worded for YAML authors ("mapping", "sequence", "missing required key")
 * and placed on the offending node: a wrong value at the value, an unknown key at the key, a missing key
 * at the mapping that lacks it.
 */
import type { z } from 'zod';
import type { ScenarioDiagnostic } from './scenario-error';
import type { Path, PathSegment, SourcePositions } from './positions';

type Issue = z.core.$ZodIssue;

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function valueAt(root: unknown, path: Path): unknown {
  let v = root;
  for (const seg of path) {
    if (Array.isArray(v) && typeof seg === 'number') v = v[seg];
    else if (isPlainObject(v)) v = v[String(seg)];
    else return undefined;
  }
  return v;
}

// Every number in a scenario is an integer (z.number().int() reports a non-number as expected 'number').
const TYPE_NAMES: Record<string, string> = {
  object: 'a mapping',
  array: 'a sequence',
  string: 'a string',
  number: 'an integer',
  int: 'an integer',
  boolean: 'a boolean',
  null: 'null',
};

function describeValue(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'a sequence';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `the string '${v.length > 40 ? v.slice(0, 40) + '…' : v}'`;
  if (typeof v === 'number') return Number.isInteger(v) ? `the number ${v}` : String(v);
  if (typeof v === 'boolean') return String(v);
  return typeof v; // nothing else comes out of a YAML document
}

const expectedName = (expected: string): string => TYPE_NAMES[expected] ?? expected;

function joinAlternatives(names: string[]): string {
  const unique = [...new Set(names)];
  if (unique.length <= 1) return unique[0] ?? 'something else';
  return `${unique.slice(0, -1).join(', ')} or ${unique[unique.length - 1]}`;
}

export class IssueMapper {
  readonly diagnostics: ScenarioDiagnostic[] = [];

  constructor(
    private readonly positions: SourcePositions,
    private readonly root: unknown,
  ) {}

  add(issues: readonly Issue[], base: Path = []): void {
    for (const issue of issues) this.one(issue, base);
  }

  private report(pos: ScenarioDiagnostic['pos'], message: string): void {
    this.diagnostics.push({ pos, message });
  }

  private one(issue: Issue, base: Path): void {
    const path: PathSegment[] = [...base, ...(issue.path as PathSegment[])];
    const value = valueAt(this.root, path);
    switch (issue.code) {
      case 'invalid_type': {
        const parentPath = path.slice(0, -1);
        const key = path[path.length - 1];
        if (value === undefined && typeof key === 'string' && isPlainObject(valueAt(this.root, parentPath))) {
          this.report(this.positions.nodePos(parentPath), `missing required key '${key}'`);
        } else {
          this.report(this.positions.nodePos(path), `expected ${expectedName(issue.expected)}, got ${describeValue(value)}`);
        }
        return;
      }
      case 'unrecognized_keys':
        for (const key of issue.keys) this.report(this.positions.keyPos([...path, key]), `unknown key '${key}'`);
        return;
      case 'invalid_key': {
        const inner = issue.issues[0];
        this.report(
          this.positions.keyPos(path),
          `invalid name '${String(path[path.length - 1])}': ${inner ? inner.message : issue.message}`,
        );
        return;
      }
      case 'invalid_value': {
        const allowed = issue.values.map((v) => `'${String(v)}'`);
        // A schema's own wording (a long list of allowed values reads better summarised), else zod's list.
        const custom = !issue.message.startsWith('Invalid');
        this.report(
          this.positions.nodePos(path),
          `${custom ? issue.message : `expected ${joinAlternatives(allowed)}`}, got ${describeValue(value)}`,
        );
        return;
      }
      case 'too_small': {
        const min = Number(issue.minimum);
        const pos = this.positions.nodePos(path);
        if (issue.origin === 'string') this.report(pos, 'must not be empty');
        else if (issue.origin === 'array') this.report(pos, `needs at least ${min} item${min === 1 ? '' : 's'}`);
        else this.report(pos, `must be ${issue.inclusive === false ? 'greater than' : 'at least'} ${min}, got ${describeValue(value)}`);
        return;
      }
      case 'too_big': {
        const max = Number(issue.maximum);
        const pos = this.positions.nodePos(path);
        if (issue.origin === 'array') this.report(pos, `has more than ${max} item${max === 1 ? '' : 's'}`);
        else if (issue.origin === 'string') this.report(pos, `is longer than ${max} characters`);
        else this.report(pos, `must be ${issue.inclusive === false ? 'less than' : 'at most'} ${max}, got ${describeValue(value)}`);
        return;
      }
      case 'invalid_union':
        this.union(issue.errors, path, value);
        return;
      default:
        this.report(this.positions.nodePos(path), issue.message);
    }
  }

  /**
   * Picks the alternative the author meant. A branch is out if the value's type does not fit it (an issue
   * at the union's own path) or if it needs a key the mapping lacks; of the rest, the one with the fewest
   * problems wins and its issues are reported. If none is left, a mapping alternative that knows some of
   * the keys written (`{ sympos: 1 }` for `{ sympos?, code }`) is the one meant, and what it misses is
   * said; failing that, what was expected.
   */
  private union(branches: readonly (readonly Issue[])[], path: PathSegment[], value: unknown): void {
    const isMissingKey = (i: Issue): boolean =>
      i.path.length === 1 && isPlainObject(value) && value[String(i.path[0])] === undefined && i.code !== 'unrecognized_keys';
    const typeMismatch = (i: Issue): boolean => i.path.length === 0 && (i.code === 'invalid_type' || i.code === 'invalid_union');
    const pick = (bs: readonly (readonly Issue[])[]): readonly Issue[] => bs.reduce((a, b) => (b.length < a.length ? b : a));
    const candidates = branches.filter((b) => !b.some((i) => typeMismatch(i) || isMissingKey(i)));
    if (candidates.length > 0) {
      this.add(pick(candidates), path);
      return;
    }
    const knowsAKey = (b: readonly Issue[]): boolean =>
      isPlainObject(value) &&
      !b.some(typeMismatch) &&
      Object.keys(value).some((k) => !b.some((i) => i.code === 'unrecognized_keys' && i.path.length === 0 && i.keys.includes(k)));
    const meant = branches.filter(knowsAKey);
    if (meant.length > 0) {
      this.add(pick(meant), path);
      return;
    }
    const pos = this.positions.nodePos(path);
    if (isPlainObject(value)) {
      // Keyed alternatives: each branch misses the key that names it.
      const wanted = branches.flatMap((b) => b.filter(isMissingKey).map((i) => String(i.path[0])));
      const keys = [...new Set(wanted)];
      const present = Object.keys(value);
      const strange = present.filter((k) => !keys.includes(k));
      if (keys.length > 0 && present.length > 0 && strange.length > 0) {
        for (const k of strange)
          this.report(this.positions.keyPos([...path, k]), `unknown key '${k}' (expected one of: ${keys.join(', ')})`);
        return;
      }
      if (keys.length > 0) {
        this.report(pos, `expected one of the keys: ${keys.join(', ')}`);
        return;
      }
    }
    const expected = branches.flatMap((b) =>
      b
        .filter((i) => i.path.length === 0 && i.code === 'invalid_type')
        .map((i) => expectedName((i as z.core.$ZodIssueInvalidType).expected)),
    );
    this.report(pos, `expected ${joinAlternatives(expected)}, got ${describeValue(value)}`);
  }
}
