/**
 * The page of `klpsim serve`: follows the server's event stream (EventSource on /events: the history,
 * then live batches), folds it into the model, and redraws at most a few times a second — the stream can
 * bring tens of thousands of events a second, and the views only need to keep up with a human.
 */
import type { ControlAction, ServeItem, ServeStatus } from '../../src/serve/protocol';
import { dmesgTime, esc } from './format.js';
import { SimModel } from './model.js';
import { Timeline } from './timeline.js';
import { renderLegend, renderLog, renderPatches, renderProblems, renderRcu, renderSites, renderTransition } from './views.js';

/** Shortest time between two redraws while the stream is busy, ms. */
const REDRAW_MS = 150;

const byId = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`page: #${id} is missing`);
  return el as T;
};

const model = new SimModel();
const timeline = new Timeline(byId('timeline'), byId('tl-hover'), model);
let status: ServeStatus | null = null;
let drawnRev = -1;
let drawnAt = 0;
let logFilter = '';
let logDirty = true;

function connect(): void {
  const es = new EventSource('/events');
  es.addEventListener('items', (e) => {
    const items = JSON.parse((e as MessageEvent<string>).data) as ServeItem[];
    for (const item of items) {
      try {
        model.apply(item);
      } catch (err) {
        // One odd item (a recording from another version) must not stop the rest.
        console.error('cannot apply', item, err);
      }
    }
    logDirty = true;
  });
  es.addEventListener('status', (e) => {
    const next = JSON.parse((e as MessageEvent<string>).data) as ServeStatus;
    // Reconnected to another `klpsim serve` (restarted on the same port): its stream is not ours to resume.
    if (status && next.session !== status.session) {
      location.reload();
      return;
    }
    status = next;
    model.ensureCpus(status.cpus);
    model.rev++;
    renderStatus();
  });
  es.addEventListener('open', () => setConnection('connected'));
  // EventSource reconnects by itself and resumes from the last batch it got (Last-Event-ID).
  es.addEventListener('error', () => setConnection(es.readyState === EventSource.CLOSED ? 'disconnected' : 'reconnecting…'));
}

function setConnection(text: string): void {
  const el = byId('conn');
  el.textContent = text;
  el.dataset.state = text.startsWith('connected') ? 'ok' : 'down';
}

function runState(s: ServeStatus): { state: string; text: string } {
  if (s.mode === 'replay') return { state: 'replay', text: 'replay' };
  if (s.finished) return { state: 'finished', text: `finished, exit ${s.finished.exitCode}` };
  if (s.held) return { state: 'held', text: 'paused' };
  if (s.paused) return { state: 'pausing', text: 'pausing after this step…' };
  return { state: 'running', text: 'running' };
}

function renderStatus(): void {
  const s = status;
  if (!s) return;
  document.title = `klpsim: ${s.title}`;
  byId('title').textContent = s.title;
  byId('mode').textContent =
    s.mode === 'replay' ? `replay of ${s.source}` : `${s.source}${s.deterministic ? ' · --deterministic' : ''} · ${s.cpus} CPUs`;
  const rs = runState(s);
  const state = byId('run-state');
  state.dataset.state = rs.state;
  state.textContent = rs.text;
  byId<HTMLButtonElement>('btn-pause').disabled = !s.canPause || s.paused;
  byId<HTMLButtonElement>('btn-resume').disabled = !s.canPause || !s.paused;
  byId<HTMLButtonElement>('btn-step').disabled = !s.canPause || !s.held;
  byId('pause-note').textContent = s.pauseNote ?? '';
  const step = byId('step-line');
  if (s.step) {
    const where = `step ${s.step.index + 1}/${s.step.total} (line ${s.step.line}): ${s.step.text}`;
    step.innerHTML = `${s.held ? 'held before' : 'running'} <code>${esc(where)}</code>`;
    step.dataset.step = String(s.step.index);
  } else if (s.finished) {
    const f = s.finished;
    const parts = [
      f.exitCode === null ? 'recorded run' : `the run finished with exit ${f.exitCode}`,
      f.violations > 0 ? `${f.violations} fault/violation event(s)` : '',
      ...f.failures,
    ].filter(Boolean);
    step.innerHTML = parts.map((p, i) => (i === 0 ? esc(p) : `<div class="failure">${esc(p)}</div>`)).join('');
    delete step.dataset.step;
  }
}

/** Asks the server; the new status comes back on the event stream (the one source of truth, in order). */
async function control(action: ControlAction): Promise<void> {
  const msg = byId('control-msg');
  msg.textContent = '';
  try {
    const r = await fetch('/control', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ action }),
    });
    if (!r.ok) msg.textContent = ((await r.json()) as { error?: string }).error ?? `${action}: HTTP ${r.status}`;
  } catch (e) {
    msg.textContent = `${action} failed: ${(e as Error).message}`;
  }
}

function draw(): void {
  byId('clock').textContent = dmesgTime(model.now);
  const loading = status && status.items > model.items ? ` · loading ${model.items}/${status.items}` : '';
  byId('counts').textContent = `${model.events.toLocaleString('en')} events${loading}`;
  timeline.render();
  renderLegend(byId('legend'), model);
  renderPatches(byId('patches'), model);
  renderSites(byId('sites'), model);
  renderTransition(byId('transition'), model);
  renderRcu(byId('rcu'), model);
  renderProblems(byId('problems'), model);
  if (logDirty) {
    const r = renderLog(byId('log'), model, logFilter);
    byId('log-count').textContent = r.bad
      ? 'bad regular expression'
      : `${r.shown} of ${r.total} lines${r.shown < r.total && logFilter === '' ? ' (the latest)' : ''}`;
    logDirty = false;
  }
}

function frame(now: number): void {
  // Schedule the next frame first: a view that throws must not stop the page from following the stream.
  requestAnimationFrame(frame);
  if (model.rev === drawnRev || now - drawnAt < REDRAW_MS) return;
  drawnRev = model.rev;
  drawnAt = now;
  try {
    draw();
  } catch (e) {
    byId('control-msg').textContent = `page error: ${(e as Error).message}`;
    console.error(e);
  }
}

byId('btn-pause').addEventListener('click', () => void control('pause'));
byId('btn-resume').addEventListener('click', () => void control('resume'));
byId('btn-step').addEventListener('click', () => void control('step'));
byId('btn-fit').addEventListener('click', () => timeline.fit());
byId<HTMLInputElement>('log-filter').addEventListener('input', (e) => {
  logFilter = (e.target as HTMLInputElement).value;
  logDirty = true;
  model.rev++;
});
window.addEventListener('resize', () => model.rev++);
setConnection('connecting…');
connect();
requestAnimationFrame(frame);
