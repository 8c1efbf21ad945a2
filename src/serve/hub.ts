/**
 * The fan-out between the simulation and the browsers: items go into the history at once, and the
 * browsers are pumped at most every `flushMs` — a fast simulation produces tens of thousands of events a
 * second, and a page redrawn for each would fall behind. A flush is triggered both by arriving items
 * (throttled) and by a timer: in --deterministic mode the coordinator runs long stretches between
 * yields, so a timer alone would stall there; in quiet periods no item arrives, so items alone would
 * leave the last ones unsent.
 */
import type { ServerResponse } from 'node:http';
import { StreamHistory } from './history';
import type { ServeItem, ServeStatus } from './protocol';
import { SseClient } from './sse-client';

export interface HubOptions {
  /** Minimum time between two flushes, ms. */
  flushMs?: number;
  /** Most items in one message. */
  maxBatch?: number;
  /** Comment lines on idle connections, ms. */
  pingMs?: number;
}

export class StreamHub {
  readonly history = new StreamHistory();
  private readonly clients = new Set<SseClient>();
  private readonly flushMs: number;
  private readonly maxBatch: number;
  private lastFlush = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly ping: NodeJS.Timeout;

  constructor(
    private readonly status: () => ServeStatus,
    o: HubOptions = {},
  ) {
    this.flushMs = o.flushMs ?? 100;
    this.maxBatch = o.maxBatch ?? 5000;
    this.ping = setInterval(() => this.clients.forEach((c) => c.ping()), o.pingMs ?? 15_000);
    // The server's sockets keep the process alive while it serves, never the hub's timers.
    this.ping.unref();
  }

  get clientCount(): number {
    return this.clients.size;
  }

  add(item: ServeItem): void {
    this.history.add(item);
    if (performance.now() - this.lastFlush >= this.flushMs) this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.flushMs);
      this.timer.unref();
    }
  }

  /** Sends every client what it has not seen. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.lastFlush = performance.now();
    for (const c of this.clients) {
      if (c.isClosed) this.clients.delete(c);
      else c.pump();
    }
  }

  /** A new browser: the status, then the history from `from` (its Last-Event-ID), then the live tail. */
  attach(res: ServerResponse, from: number): SseClient {
    const c = new SseClient(res, this.history, Math.max(0, Math.min(from, this.history.length)), this.maxBatch);
    this.clients.add(c);
    res.on('close', () => this.clients.delete(c));
    c.status(this.status());
    c.pump();
    return c;
  }

  /** The status changed (paused, held, next step, finished): every browser hears it now. */
  statusChanged(): void {
    this.flush();
    const s = this.status();
    for (const c of this.clients) c.status(s);
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    clearInterval(this.ping);
    for (const c of this.clients) c.close();
    this.clients.clear();
  }
}
