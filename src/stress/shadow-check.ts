/**
 * The stress run's `shadow` check, on with the shadow-variable workload (shadow-workload.ts): no shadow
 * variable is lost, duplicated or read after it was freed.
 *   - From the events: a <obj, id> attached (shadow.alloc) while it is attached already is a duplicate;
 *     one freed (shadow.free) that is not attached was lost or freed twice. Each workload id belongs to
 *     one task pinned to one CPU, so its events come in the order that CPU made them, even on worker
 *     threads.
 *   - From the log: the workload's own reads (its `stress_sv: …` lines: a variable not found right after
 *     it was attached, found after it was freed, or holding another value than its constructor stored).
 * A reader meeting a poisoned record inside klp_shadow_get() is shadow.ts's `use-after-free` violation,
 * counted under that check.
 */
import type { Machine } from '../coordinator/machine';
import type { SimEvent } from '../kernel/events';
import { SHADOW_LOG_PREFIX } from './shadow-workload';

export class ShadowCheck {
  /** shadow.alloc / shadow.free events checked (the workload's own reads are not counted: they print only when one fails). */
  runs = 0;
  private readonly attached = new Set<string>();

  constructor(private readonly m: Machine) {}

  onEvent(ev: SimEvent): void {
    if (ev.type === 'shadow.alloc') {
      this.runs++;
      const key = `<${ev.obj}, ${ev.id}>`;
      if (this.attached.has(key)) this.m.violation('shadow', `shadow variable ${key} attached twice (shadow.alloc while attached)`);
      this.attached.add(key);
    } else if (ev.type === 'shadow.free') {
      this.runs++;
      const key = `<${ev.obj}, ${ev.id}>`;
      if (!this.attached.delete(key)) this.m.violation('shadow', `shadow variable ${key} freed while not attached (lost or freed twice)`);
    } else if (ev.type === 'log') {
      const text = String(ev.text);
      if (text.startsWith(SHADOW_LOG_PREFIX)) this.m.violation('shadow', text.replace(/\n$/, ''));
    }
  }
}
