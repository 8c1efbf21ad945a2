/**
 * One browser's server-sent-events connection. It holds a cursor into the shared history and is pumped
 * by the hub: each pump sends what the browser has not seen yet as a few large `items` messages (at most
 * `maxBatch` items each), never one message per event. When the socket's buffer is full it stops and
 * waits for `drain`, so a browser that cannot keep up makes the server send bigger batches later rather
 * than queue copies of the stream in memory.
 *
 * Each `items` message carries `id: N`, the cursor after it: EventSource sends it back as Last-Event-ID
 * when it reconnects, and the stream resumes there without gaps or repeats.
 */
import type { ServerResponse } from 'node:http';
import type { StreamHistory } from './history';
import type { ServeStatus } from './protocol';

export class SseClient {
  private blocked = false;
  private closed = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly history: StreamHistory,
    private cursor: number,
    private readonly maxBatch: number,
  ) {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Content-Type-Options': 'nosniff',
    });
    // Tell EventSource how soon to reconnect if the connection drops (ms).
    res.write('retry: 1000\n\n');
    res.on('drain', () => {
      this.blocked = false;
      this.pump();
    });
    res.on('close', () => {
      this.closed = true;
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Where this browser is in the history (tests, and the hub's bookkeeping). */
  get position(): number {
    return this.cursor;
  }

  /** Sends the items this browser has not seen, until the socket says stop. */
  pump(): void {
    while (!this.closed && !this.blocked && this.cursor < this.history.length) {
      const end = Math.min(this.history.length, this.cursor + this.maxBatch);
      const ok = this.res.write(`id: ${end}\nevent: items\ndata: ${this.history.batch(this.cursor, end)}\n\n`);
      this.cursor = end;
      if (!ok) this.blocked = true;
    }
  }

  status(s: ServeStatus): void {
    if (!this.closed) this.res.write(`event: status\ndata: ${JSON.stringify(s)}\n\n`);
  }

  /** A comment line: keeps idle connections (and proxies) from timing out. */
  ping(): void {
    if (!this.closed) this.res.write(': ping\n\n');
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.res.end();
  }
}
