/**
 * Where the individual fields of a built scenario object were written, so a check made after building
 * (an unknown function in `call:`, a bad `${param}` inside a printk text) points at the field itself
 * rather than at the start of the action. Kept beside the public types, not in them: the runner does
 * not need it.
 */
import type { Locator } from './positions';
import type { Pos } from './scenario-types';

export class FieldLocations {
  private readonly map = new WeakMap<object, Record<string, Locator>>();

  set(obj: object, field: string, loc: Locator): void {
    const fields = this.map.get(obj) ?? {};
    fields[field] = loc;
    this.map.set(obj, fields);
  }

  /** The field's locator, or one that always answers `fallback` (by default the object's own position). */
  get(obj: object, field: string, fallback?: Pos): Locator {
    const loc = this.map.get(obj)?.[field];
    if (loc) return loc;
    const p = fallback ?? (obj as { pos?: Pos }).pos ?? { file: '', line: 1, col: 1 };
    return () => p;
  }

  pos(obj: object, field: string, fallback?: Pos): Pos {
    return this.get(obj, field, fallback)(1, 1);
  }
}
