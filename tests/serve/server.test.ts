/**
 * The HTTP side of `klpsim serve`, on a replayed stream: the page's files, the event stream (history,
 * batches, resuming from Last-Event-ID), the downloads, the control endpoint's refusals, and the checks
 * that keep other sites out.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServeSession } from '../../src/serve/session';
import { loadWebAssets, WebAssetsError } from '../../src/serve/web-assets';
import { FAKE_ASSETS, http, itemsOf, postControl, readSse, statusesOf } from './serve-helpers';

const N = 2500;
const dir = mkdtempSync(join(tmpdir(), 'klpsim-server-'));
const lines = Array.from({ length: N }, (_, seq) =>
  JSON.stringify({
    t: seq * 1000,
    cpu: seq % 2,
    type: seq % 3 === 0 ? 'log' : 'task.state',
    seq,
    ...(seq % 3 === 0 ? { text: `line ${seq}` } : { pid: 1 + (seq % 4), comm: `t${seq % 4}`, state: seq % 2 ? 'running' : 'sleeping' }),
  }),
);
const recording = join(dir, 'run.ndjson');
writeFileSync(recording, lines.join('\n') + '\n');

let session: ServeSession;
let base: string;

beforeAll(async () => {
  session = await ServeSession.replay({ replay: recording, host: '127.0.0.1', port: 0, assets: FAKE_ASSETS, hub: { maxBatch: 1000 } });
  base = session.url;
});

afterAll(async () => {
  await session.close();
});

describe('klpsim serve over HTTP', () => {
  it('serves the page, its stylesheet and scripts, with a CSP that allows nothing from elsewhere', async () => {
    const page = await http(base);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toContain("default-src 'self'");
    expect(page.body).toContain('<title>klpsim</title>');
    expect((await http(`${base}index.html`)).body).toBe(page.body);
    expect((await http(`${base}style.css`)).headers['content-type']).toBe('text/css; charset=utf-8');
    expect((await http(`${base}js/main.js`)).headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect((await http(`${base}js/../../package.json`)).status).toBe(404);
    expect((await http(`${base}nothing`)).status).toBe(404);
    expect((await http(base, { method: 'POST' })).status).toBe(405);
  });

  it('/events: the status, then the whole history in batches of at most maxBatch, each with its cursor as id', async () => {
    const msgs = await readSse(`${base}events`, (m) => itemsOf(m).length >= N);
    expect(msgs[0].event).toBe('status');
    const st = statusesOf<{ mode: string; cpus: number; items: number; canPause: boolean; finished: { exitCode: number | null } }>(msgs)[0];
    expect(st).toMatchObject({ mode: 'replay', cpus: 2, items: N, canPause: false, finished: { exitCode: null } });
    const batches = msgs.filter((m) => m.event === 'items');
    expect(batches.map((b) => b.id)).toEqual(['1000', '2000', '2500']);
    expect(itemsOf(msgs).map((e) => e.seq)).toEqual(Array.from({ length: N }, (_, i) => i));
  });

  it('/events resumes after Last-Event-ID (or ?from=), without gaps or repeats', async () => {
    const resumed = itemsOf(await readSse(`${base}events`, (m) => itemsOf(m).length >= N - 2000, { headers: { 'Last-Event-ID': '2000' } }));
    expect(resumed.map((e) => e.seq)).toEqual(Array.from({ length: N - 2000 }, (_, i) => 2000 + i));
    const from = itemsOf(await readSse(`${base}events?from=2400`, (m) => itemsOf(m).length >= 100));
    expect(from[0].seq).toBe(2400);
    expect(from).toHaveLength(100);
  });

  it('/status, /trace.json (the Chrome trace of the stream) and /events.ndjson (the stream itself)', async () => {
    const st = JSON.parse((await http(`${base}status`)).body) as { title: string; items: number; session: string };
    expect(st).toMatchObject({ title: 'run.ndjson', items: N });
    // A page that reconnects to another server process sees another session and starts over.
    expect(st.session).toMatch(/^[0-9a-f-]{36}$/);
    const other = await ServeSession.replay({ replay: recording, host: '127.0.0.1', port: 0, assets: FAKE_ASSETS });
    try {
      expect((JSON.parse((await http(`${other.url}status`)).body) as { session: string }).session).not.toBe(st.session);
    } finally {
      await other.close();
    }
    const trace = await http(`${base}trace.json`);
    expect(trace.headers['content-disposition']).toBe('attachment; filename="run.trace.json"');
    const parsed = JSON.parse(trace.body) as { traceEvents: { ph: string; name: string }[]; displayTimeUnit: string };
    expect(parsed.displayTimeUnit).toBe('ns');
    expect(parsed.traceEvents.filter((e) => e.name === 'thread_name').length).toBeGreaterThan(2);
    const nd = await http(`${base}events.ndjson`);
    expect(nd.headers['content-type']).toBe('application/x-ndjson');
    expect(nd.body).toBe(lines.join('\n') + '\n');
  });

  it('/control: a replay has nothing to pause (409); malformed requests are 400; only POST', async () => {
    const r = await postControl(base, 'pause');
    expect(r.status).toBe(409);
    expect(JSON.parse(r.body).error).toContain('replay');
    expect((await postControl(base, 'rewind')).status).toBe(400);
    expect((await http(`${base}control`, { method: 'POST', body: '{nope' })).status).toBe(400);
    expect((await http(`${base}control`)).status).toBe(405);
  });

  it('refuses other host names (DNS rebinding) and cross-site POSTs', async () => {
    const port = new URL(base).port;
    expect((await http(base, { headers: { Host: `evil.example:${port}` } })).status).toBe(403);
    expect((await http(base, { headers: { Host: `localhost:${port}` } })).status).toBe(200);
    expect((await http(base, { headers: { Host: `127.0.0.1:1` } })).status).toBe(403);
    const cross = await http(`${base}control`, {
      method: 'POST',
      headers: { Origin: 'https://evil.example', 'Content-Type': 'application/json' },
      body: '{"action":"pause"}',
    });
    expect(cross.status).toBe(403);
    const same = await http(`${base}control`, {
      method: 'POST',
      headers: { Origin: base.replace(/\/$/, ''), 'Content-Type': 'application/json' },
      body: '{"action":"pause"}',
    });
    expect(same.status).toBe(409);
  });
});

describe('the page files', () => {
  it('come from web/ and the compiled scripts; missing scripts say to build', () => {
    const pageDir = join(__dirname, '../../web');
    const empty = mkdtempSync(join(tmpdir(), 'klpsim-noscripts-'));
    expect(() => loadWebAssets({ pageDir, scriptsDir: empty })).toThrow(WebAssetsError);
    expect(() => loadWebAssets({ pageDir, scriptsDir: empty })).toThrow(/npm run build/);
    writeFileSync(join(empty, 'main.js'), 'export {};');
    writeFileSync(join(empty, 'notes.txt'), 'not served');
    const assets = loadWebAssets({ pageDir, scriptsDir: empty });
    expect([...assets.keys()].sort()).toEqual(['/', '/js/main.js', '/style.css']);
    const html = assets.get('/')?.body.toString() ?? '';
    // Offline: every script and stylesheet the page names is one of ours.
    for (const m of html.matchAll(/(?:src|href)="([^"]+)"/g)) expect(m[1]).toMatch(/^(\/|data:)/);
    expect(html).toContain('src="/js/main.js"');
  });
});
