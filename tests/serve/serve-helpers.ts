/** HTTP and server-sent-events helpers for the `klpsim serve` tests (node:http only, bounded waits). */
import { request } from 'node:http';
import type { WebAsset } from '../../src/serve/web-assets';

export const FAKE_ASSETS = new Map<string, WebAsset>([
  ['/', { body: Buffer.from('<!doctype html><title>klpsim</title>'), contentType: 'text/html; charset=utf-8' }],
  ['/style.css', { body: Buffer.from('body {}'), contentType: 'text/css; charset=utf-8' }],
  ['/js/main.js', { body: Buffer.from('export {};'), contentType: 'text/javascript; charset=utf-8' }],
]);

export interface HttpReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request; `headers` may override Host and Origin (fetch would not let us). */
export function http(url: string, o: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: o.method ?? 'GET', headers: o.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`no answer from ${url} in 10 s`)));
    req.on('error', reject);
    req.end(o.body);
  });
}

export const postControl = (base: string, action: string): Promise<HttpReply> =>
  http(`${base}control`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ action }) });

export interface SseMessage {
  event: string;
  id?: string;
  data: string;
}

/**
 * Reads /events until `done(messages)` holds, then disconnects. `headers` can carry Last-Event-ID.
 * Rejects after `ms` with what it got so far.
 */
export function readSse(
  url: string,
  done: (msgs: SseMessage[]) => boolean,
  o: { headers?: Record<string, string>; ms?: number } = {},
): Promise<SseMessage[]> {
  return new Promise((resolve, reject) => {
    const msgs: SseMessage[] = [];
    let buf = '';
    const req = request(url, { headers: o.headers }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let end: number;
        while ((end = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          const m: SseMessage = { event: 'message', data: '' };
          let hasData = false;
          for (const line of block.split('\n')) {
            const i = line.indexOf(':');
            if (i === 0) continue; // a comment
            const field = i < 0 ? line : line.slice(0, i);
            const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
            if (field === 'event') m.event = value;
            else if (field === 'id') m.id = value;
            else if (field === 'data') {
              m.data += (hasData ? '\n' : '') + value;
              hasData = true;
            }
          }
          if (hasData) msgs.push(m);
        }
        if (done(msgs)) {
          clearTimeout(timer);
          req.destroy();
          resolve(msgs);
        }
      });
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(
        new Error(`SSE: condition not met in ${o.ms ?? 15_000} ms; got ${msgs.length} messages: ${msgs.map((m) => m.event).join(' ')}`),
      );
    }, o.ms ?? 15_000);
    req.on('error', (e) => {
      if (!req.destroyed) reject(e);
    });
    req.end();
  });
}

/** The stream items carried by `items` messages, in order. */
export function itemsOf<T = { type: string; seq?: number }>(msgs: SseMessage[]): T[] {
  return msgs.filter((m) => m.event === 'items').flatMap((m) => JSON.parse(m.data) as T[]);
}

export function statusesOf<T = { held: boolean; step: { index: number } | null; finished: unknown }>(msgs: SseMessage[]): T[] {
  return msgs.filter((m) => m.event === 'status').map((m) => JSON.parse(m.data) as T);
}
