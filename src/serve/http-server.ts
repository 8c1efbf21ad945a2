/**
 * The HTTP side of `klpsim serve`, on node:http alone:
 *   GET  /                 the page (and /style.css, /js/*.js)
 *   GET  /events           server-sent events: `status` messages, and `items` batches of the stream
 *                          (history first, from Last-Event-ID or ?from=N, then live)
 *   GET  /status           the status as JSON
 *   POST /control          {"action": "pause" | "resume" | "step"}: 200 with the new status, 409 if not possible now
 *   GET  /trace.json       the Chrome trace of the stream so far (what `run --trace` writes)
 *   GET  /events.ndjson    the events so far as ndjson (what `run --format ndjson` prints; `serve --replay` reads it)
 *
 * It serves loopback by default. On a loopback address, requests must name a loopback host (so a web
 * page on another site cannot reach it through DNS rebinding) and a POST from a browser must come from the
 * page itself (its Origin), so another site cannot pause a run.
 */
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { StreamHub } from './hub';
import type { ControlAction, ServeStatus } from './protocol';
import type { WebAsset } from './web-assets';

export interface ControlResult {
  ok: boolean;
  message?: string;
}

export interface ServeBackend {
  hub: StreamHub;
  status(): ServeStatus;
  control(action: ControlAction): ControlResult;
  /** Base of the download file names (`<name>.trace.json`). */
  downloadName: string;
}

const ACTIONS: readonly ControlAction[] = ['pause', 'resume', 'step'];
const MAX_BODY = 1024;
const SECURITY_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  // Everything the page uses comes from this server: no CDN, no inline script.
  'Content-Security-Policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'",
};

export function createServeServer(backend: ServeBackend, assets: Map<string, WebAsset>, host: string): Server {
  const server = createServer((req, res) => {
    handle(server, backend, assets, host, req, res).catch((e: unknown) => {
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', `internal error: ${(e as Error).message}\n`);
      else res.destroy();
    });
  });
  return server;
}

async function handle(
  server: Server,
  b: ServeBackend,
  assets: Map<string, WebAsset>,
  host: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const port = (server.address() as AddressInfo | null)?.port ?? 0;
  if (!hostAllowed(req.headers.host, host, port)) return send(res, 403, 'text/plain; charset=utf-8', 'forbidden host\n');
  const url = new URL(req.url ?? '/', 'http://localhost');
  const path = url.pathname === '/index.html' ? '/' : url.pathname;
  const method = req.method ?? 'GET';
  const asset = assets.get(path);
  if (asset) {
    if (method !== 'GET' && method !== 'HEAD') return notAllowed(res, 'GET');
    res.writeHead(200, {
      'Content-Type': asset.contentType,
      'Content-Length': asset.body.length,
      'Cache-Control': 'no-store',
      ...SECURITY_HEADERS,
    });
    res.end(method === 'HEAD' ? undefined : asset.body);
    return;
  }
  switch (path) {
    case '/events': {
      if (method !== 'GET') return notAllowed(res, 'GET');
      const from = Number(req.headers['last-event-id'] ?? url.searchParams.get('from') ?? 0);
      b.hub.attach(res, Number.isInteger(from) && from >= 0 ? from : 0);
      return;
    }
    case '/status':
      if (method !== 'GET') return notAllowed(res, 'GET');
      return sendJson(res, 200, b.status());
    case '/control': {
      if (method !== 'POST') return notAllowed(res, 'POST');
      const origin = req.headers.origin;
      if (origin !== undefined && !originAllowed(origin, host, port)) return sendJson(res, 403, { error: 'cross-origin request refused' });
      let action: unknown;
      try {
        action = (JSON.parse(await readBody(req)) as { action?: unknown }).action;
      } catch (e) {
        return sendJson(res, 400, { error: `expected {"action": "pause" | "resume" | "step"}: ${(e as Error).message}` });
      }
      if (!ACTIONS.includes(action as ControlAction))
        return sendJson(res, 400, { error: `unknown action ${JSON.stringify(action)}: pause, resume or step` });
      const r = b.control(action as ControlAction);
      return sendJson(res, r.ok ? 200 : 409, r.ok ? b.status() : { error: r.message ?? 'not possible now', status: b.status() });
    }
    case '/trace.json':
      if (method !== 'GET') return notAllowed(res, 'GET');
      res.writeHead(200, {
        'Content-Type': 'application/json',
        'Content-Disposition': `attachment; filename="${b.downloadName}.trace.json"`,
        'Cache-Control': 'no-store',
        ...SECURITY_HEADERS,
      });
      res.end(b.hub.history.traceJson());
      return;
    case '/events.ndjson':
      if (method !== 'GET') return notAllowed(res, 'GET');
      res.writeHead(200, {
        'Content-Type': 'application/x-ndjson',
        'Content-Disposition': `attachment; filename="${b.downloadName}.ndjson"`,
        'Cache-Control': 'no-store',
        ...SECURITY_HEADERS,
      });
      for (const chunk of b.hub.history.ndjson()) {
        if (!res.write(chunk)) await new Promise<void>((r) => res.once('drain', r));
      }
      res.end();
      return;
    default:
      return send(res, 404, 'text/plain; charset=utf-8', `not found: ${path}\n`);
  }
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || host.startsWith('127.');
}

/** Bound to loopback: only loopback names are accepted (DNS rebinding). Bound elsewhere: the user chose to expose it. */
function hostAllowed(header: string | undefined, boundHost: string, port: number): boolean {
  if (!isLoopback(boundHost)) return true;
  if (header === undefined) return true; // HTTP/1.0 clients; a browser always sends Host
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(header);
  if (!m) return false;
  return isLoopback(m[1].toLowerCase()) && (m[2] === undefined || Number(m[2]) === port);
}

function originAllowed(origin: string, boundHost: string, port: number): boolean {
  try {
    return hostAllowed(new URL(origin).host, boundHost, port);
  } catch {
    return false;
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
      if (body.length > MAX_BODY) {
        reject(new Error('body too large'));
        req.destroy();
      }
    });
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, code: number, type: string, body: string): void {
  res.writeHead(code, { 'Content-Type': type, 'Cache-Control': 'no-store', ...SECURITY_HEADERS });
  res.end(body);
}

function sendJson(res: ServerResponse, code: number, v: unknown): void {
  send(res, code, 'application/json', JSON.stringify(v));
}

function notAllowed(res: ServerResponse, allow: string): void {
  res.setHeader('Allow', allow);
  send(res, 405, 'text/plain; charset=utf-8', `method not allowed (${allow})\n`);
}
