/**
 * Kprobe events (kernel/trace/trace_kprobe.c): tracefs's `kprobe_events` and `events/GROUP/NAME/enable`.
 *
 * - `p[:[GRP/]EVENT] SYMBOL[+0]` defines an event (group `kprobes`; without a name, `p_SYMBOL_0`); its kprobe
 *   is registered disabled (KPROBE_FLAG_DISABLED) and armed when the event is enabled, so a conflict with
 *   a live patch shows at `echo 1 > enable`. `-:[GRP/]EVENT` removes one. A truncating write (`>`) removes
 *   every event first, and fails at open with -EBUSY while one is enabled (dyn_events_release_all()).
 * - Errors: a malformed line is -EINVAL, an unknown symbol -ENOENT, an existing name -EEXIST, removing an
 *   enabled event -EBUSY, an unknown one -ENOENT. (The kernel explains each in tracefs's error_log, which
 *   klpsim does not have.) Only `p` (kprobe) events on function entries; no fetch arguments.
 * - A hit of an enabled event while tracing_on is 1 puts `NAME: (FUNC+0x0/0xSIZE)` in the trace.
 */
import type { Kprobe, Kprobes } from './kprobes';

const EINVAL = -22;
const EEXIST = -17;
const EBUSY = -16;
const ENOENT = -2;

export interface KprobeEvent {
  group: string;
  name: string;
  symbol: string;
  probe: Kprobe;
}

export class KprobeEvents {
  private readonly events: KprobeEvent[] = [];

  constructor(private readonly kprobes: Kprobes) {}

  all(): readonly KprobeEvent[] {
    return this.events;
  }

  find(group: string, name: string): KprobeEvent | undefined {
    return this.events.find((e) => e.group === group && e.name === name);
  }

  enabled(e: KprobeEvent): boolean {
    return !e.probe.disabled;
  }

  /** The event of a kprobe slot (the trace's `NAME:`). */
  nameOfSlot(slot: number): string {
    return this.events.find((e) => e.probe.slot === slot)?.name ?? '<kprobe>';
  }

  read(): string {
    return this.events.map((e) => `p:${e.group}/${e.name} ${e.symbol}\n`).join('');
  }

  /** open(O_TRUNC): every event goes, unless one is enabled (-EBUSY). */
  async truncate(): Promise<number> {
    if (this.events.some((e) => this.enabled(e))) return EBUSY;
    for (const e of this.events.splice(0)) await this.kprobes.unregister(e.probe);
    return 0;
  }

  /** A write of one or more definitions: 0 or the first error (lines before it stay applied). */
  async write(text: string): Promise<number> {
    for (const line of text.split('\n').map((l) => l.replace(/#.*$/, '').trim())) {
      if (line === '') continue;
      const ret = await this.command(line);
      if (ret) return ret;
    }
    return 0;
  }

  private async command(line: string): Promise<number> {
    const del = /^-:(?:([A-Za-z_][\w]*)\/)?([A-Za-z_][\w]*)$/.exec(line);
    if (del) {
      const e = this.find(del[1] ?? 'kprobes', del[2]);
      if (!e) return ENOENT;
      if (this.enabled(e)) return EBUSY;
      this.events.splice(this.events.indexOf(e), 1);
      await this.kprobes.unregister(e.probe);
      return 0;
    }
    const m = /^p(?::(?:([A-Za-z_][\w]*)\/)?([A-Za-z_][\w]*))?\s+([A-Za-z_.][\w.]*)(?:\+0)?$/.exec(line);
    if (!m) return EINVAL;
    const symbol = m[3];
    const group = m[1] ?? 'kprobes';
    const name = m[2] ?? `p_${symbol.replace(/\./g, '_')}_0`;
    if (this.find(group, name)) return EEXIST;
    const ret = await this.kprobes.register({ symbol, kp: 0, pre: 0, post: 0, event: name });
    if (ret) return ret;
    const probe = this.kprobes.byEvent(name);
    if (!probe) return EINVAL;
    this.events.push({ group, name, symbol, probe });
    return 0;
  }

  /** events/GROUP/NAME/enable. */
  setEnabled(e: KprobeEvent, on: boolean): Promise<number> {
    return this.kprobes.setEnabled(e.probe, on);
  }
}
