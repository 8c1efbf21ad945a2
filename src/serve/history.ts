/**
 * Everything the stream has carried, kept for the whole session: a browser that joins late (or
 * reconnects) is sent the history from its cursor and then the live tail, so every page shows the same
 * state. Items are stored once, as their JSON text, and each client only holds a cursor into this array:
 * a slow browser costs no extra copies, it just reads further behind.
 *
 * The Chrome trace is built as events arrive (the same builder as `klpsim run --trace`), so the download
 * link gives at any moment what `--trace` would have written had the run ended there.
 */
import type { SimEvent } from '../kernel/events';
import { TraceBuilder } from '../scenario/chrome-trace';
import type { ServeItem } from './protocol';

export class StreamHistory {
  private readonly json: string[] = [];
  /** Indices of the server's own notes, which are not simulation events (kept out of the ndjson download). */
  private readonly notes = new Set<number>();
  private readonly trace = new TraceBuilder();
  private simEvents = 0;

  get length(): number {
    return this.json.length;
  }

  get events(): number {
    return this.simEvents;
  }

  add(item: ServeItem): void {
    if (isNote(item)) this.notes.add(this.json.length);
    else {
      this.trace.add(item);
      this.simEvents++;
    }
    this.json.push(JSON.stringify(item));
  }

  /** Items [from, to) as one JSON array, ready to send. */
  batch(from: number, to: number): string {
    return `[${this.json.slice(from, to).join(',')}]`;
  }

  /** The simulation events as ndjson, in chunks (what `klpsim run --format ndjson` prints, and `serve --replay` reads). */
  *ndjson(chunk = 4096): Generator<string> {
    let lines: string[] = [];
    for (let i = 0; i < this.json.length; i++) {
      if (this.notes.has(i)) continue;
      lines.push(this.json[i]);
      if (lines.length >= chunk) {
        yield lines.join('\n') + '\n';
        lines = [];
      }
    }
    if (lines.length > 0) yield lines.join('\n') + '\n';
  }

  traceJson(): string {
    return JSON.stringify(this.trace.build());
  }
}

function isNote(item: ServeItem): item is Exclude<ServeItem, SimEvent> {
  return item.type.startsWith('serve.');
}
