/**
 * The hub's batching: items are kept at once and sent to browsers at most every flushMs, in messages of
 * at most maxBatch items; a browser whose socket is full gets nothing more until it drains.
 */
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { StreamHub } from '../../src/serve/hub';
import type { ServeItem, ServeStatus } from '../../src/serve/protocol';

class FakeResponse extends EventEmitter {
  chunks: string[] = [];
  accept = true;
  writeHead(): this {
    return this;
  }
  write(s: string): boolean {
    this.chunks.push(s);
    return this.accept;
  }
  end(): void {
    this.emit('close');
  }
  itemMessages(): number[] {
    return this.chunks
      .filter((c) => c.includes('event: items'))
      .map((c) => (JSON.parse(c.slice(c.indexOf('data: ') + 6)) as unknown[]).length);
  }
}

const STATUS = { mode: 'live', items: 0 } as unknown as ServeStatus;
const item = (seq: number): ServeItem => ({ t: seq, seq, cpu: 0, type: 'log', text: `l${seq}` });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('StreamHub', () => {
  it('sends a burst in a few batches, not one message per event', async () => {
    const hub = new StreamHub(() => STATUS, { flushMs: 50, maxBatch: 400 });
    const res = new FakeResponse();
    hub.attach(res as unknown as ServerResponse, 0);
    for (let i = 0; i < 1000; i++) hub.add(item(i));
    // The first item went out at once (nothing was sent for flushMs); the rest waits for the timer.
    expect(res.itemMessages()).toEqual([1]);
    await sleep(120);
    expect(res.itemMessages()).toEqual([1, 400, 400, 199]);
    expect(hub.history.length).toBe(1000);
    hub.close();
  });

  it('a late browser gets the history first; a full socket waits for drain', async () => {
    const hub = new StreamHub(() => STATUS, { flushMs: 10, maxBatch: 100 });
    for (let i = 0; i < 250; i++) hub.add(item(i));
    const slow = new FakeResponse();
    slow.accept = false;
    const c = hub.attach(slow as unknown as ServerResponse, 0);
    expect(slow.itemMessages()).toEqual([100]);
    for (let i = 250; i < 300; i++) hub.add(item(i));
    hub.flush();
    expect(slow.itemMessages()).toEqual([100]);
    expect(c.position).toBe(100);
    slow.accept = true;
    slow.emit('drain');
    expect(slow.itemMessages()).toEqual([100, 100, 100]);
    expect(c.position).toBe(300);
    expect(hub.clientCount).toBe(1);
    slow.emit('close');
    expect(hub.clientCount).toBe(0);
    hub.close();
  });
});
