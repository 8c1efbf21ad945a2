/**
 * The timeline: one lane per CPU, one for the livepatch core, one per task, over simulated time.
 * A lane is a DOM row (its label says what runs there now) with a canvas: tens of thousands of slices are
 * cheap to draw on a canvas and would be slow as elements.
 *
 * Slices are coloured by the newest patch whose versions the task runs (grey: the original code), so a
 * transition shows as tasks changing colour one by one; transitions are shaded across all lanes.
 * Marks: call redirects (a tick in the colour of the version the call reached), task switches (a
 * diamond), text pokes, RCU grace periods, frees, and faults and violations (red, full height).
 *
 * By default the view follows the whole run; the wheel zooms around the pointer, dragging pans, a
 * double click (or "fit") goes back to following.
 */
import { dmesgTime, duration, esc, paintChips, PROBLEM_COLOR, worldColor } from './format.js';
import type { Lane, Mark, SimModel } from './model.js';

interface Row {
  el: HTMLDivElement;
  label: HTMLDivElement;
  canvas: HTMLCanvasElement;
  lane: Lane;
  labelHtml: string;
}

const LABEL_MIN_PX = 56;

export class Timeline {
  private readonly rows = new Map<string, Row>();
  private readonly axis: HTMLCanvasElement;
  private readonly cpuGroup: HTMLDivElement;
  private readonly klpGroup: HTMLDivElement;
  private readonly taskGroup: HTMLDivElement;
  /** null: follow the whole run. */
  private view: { from: number; to: number } | null = null;
  private dragging: { x: number; from: number; to: number } | null = null;

  constructor(
    root: HTMLElement,
    private readonly hover: HTMLElement,
    private readonly model: SimModel,
  ) {
    const axisRow = div('lane axis');
    axisRow.append(div('lane-label', 'simulated time'));
    this.axis = document.createElement('canvas');
    axisRow.append(this.axis);
    this.cpuGroup = div('lane-group');
    this.cpuGroup.dataset.group = 'cpus';
    this.klpGroup = div('lane-group');
    this.taskGroup = div('lane-group');
    this.taskGroup.dataset.group = 'tasks';
    root.append(axisRow, this.cpuGroup, this.klpGroup, this.taskGroup);
    root.addEventListener('wheel', (e) => this.onWheel(e), { passive: false });
    root.addEventListener('mousedown', (e) => this.onDown(e));
    window.addEventListener('mousemove', (e) => this.onMove(e));
    window.addEventListener('mouseup', () => (this.dragging = null));
    root.addEventListener('dblclick', () => this.fit());
  }

  fit(): void {
    this.view = null;
    this.model.rev++;
  }

  /** Follows the run, or holds the window the user zoomed to. */
  private window(): { from: number; to: number } {
    if (this.view) return this.view;
    return { from: 0, to: Math.max(this.model.now, 1_000_000) };
  }

  render(): void {
    this.syncRows();
    const w = this.window();
    this.drawAxis(w.from, w.to);
    for (const row of this.rows.values()) {
      this.updateLabel(row);
      this.drawLane(row, w.from, w.to);
    }
  }

  private syncRows(): void {
    const m = this.model;
    for (const lane of m.cpuLanes) this.row(lane, this.cpuGroup);
    this.row(m.klpLane, this.klpGroup);
    for (const pid of [...m.taskLanes.keys()].sort((a, b) => a - b)) this.row(m.taskLanes.get(pid) as Lane, this.taskGroup);
  }

  private row(lane: Lane, group: HTMLDivElement): Row {
    let r = this.rows.get(lane.id);
    if (r) return r;
    const el = div('lane');
    el.dataset.kind = lane.kind;
    el.dataset.lane = lane.id;
    const label = div('lane-label');
    const canvas = document.createElement('canvas');
    el.append(label, canvas);
    // Task lanes come in pid order; a late task (a `cat`) slots in after the existing ones.
    group.append(el);
    r = { el, label, canvas, lane, labelHtml: '' };
    this.rows.set(lane.id, r);
    return r;
  }

  private updateLabel(r: Row): void {
    const m = this.model;
    const lane = r.lane;
    let now = '';
    let world: string | null = null;
    if (lane.kind === 'cpu') {
      const seg = m.running(Number(lane.id.slice(3)));
      now = seg ? seg.label : 'idle';
      world = seg ? seg.world : null;
    } else if (lane.kind === 'task') {
      const task = m.tasks.get(Number(lane.id.slice(4)));
      if (task) {
        now =
          task.state === 'running' && task.cpu !== null ? `on cpu${task.cpu}` : task.func ? `${task.state} in ${task.func}` : task.state;
        world = task.state === 'dead' ? null : m.worldOf(task);
      }
    } else {
      const tr = m.transition;
      now = tr ? `${tr.patch}: ${tr.target}` : 'no transition';
      world = tr ? tr.patch : null;
    }
    const chip = world === null ? '' : `<i class="chip" data-world="${esc(world)}"></i>`;
    const html = `<b>${esc(lane.title)}</b> ${chip}<span class="now">${esc(now)}</span>`;
    if (r.labelHtml !== html) {
      r.labelHtml = html;
      r.label.innerHTML = html;
      paintChips(r.label, m.worlds);
    }
    r.label.title = world === null ? now : `${now} — runs ${world === 'original' ? 'the original code' : `${world}'s versions`}`;
  }

  private size(c: HTMLCanvasElement): { w: number; h: number; dpr: number } {
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.floor(c.clientWidth * dpr));
    const h = Math.max(1, Math.floor(c.clientHeight * dpr));
    if (c.width !== w) c.width = w;
    if (c.height !== h) c.height = h;
    return { w, h, dpr };
  }

  private drawAxis(from: number, to: number): void {
    const { w, h, dpr } = this.size(this.axis);
    const ctx = this.axis.getContext('2d') as CanvasRenderingContext2D;
    ctx.clearRect(0, 0, w, h);
    const span = to - from;
    const step = niceStep(span / Math.max(1, w / (110 * dpr)));
    ctx.fillStyle = '#666';
    ctx.strokeStyle = '#bbb';
    ctx.font = `${10 * dpr}px system-ui, sans-serif`;
    ctx.textBaseline = 'middle';
    for (let t = Math.ceil(from / step) * step; t <= to; t += step) {
      const x = ((t - from) / span) * w;
      ctx.beginPath();
      ctx.moveTo(x + 0.5, h - 4 * dpr);
      ctx.lineTo(x + 0.5, h);
      ctx.stroke();
      ctx.fillText(axisLabel(t, step), x + 3 * dpr, h / 2);
    }
  }

  private drawLane(r: Row, from: number, to: number): void {
    const m = this.model;
    const { w, h, dpr } = this.size(r.canvas);
    const ctx = r.canvas.getContext('2d') as CanvasRenderingContext2D;
    ctx.clearRect(0, 0, w, h);
    const span = to - from;
    const X = (t: number): number => ((t - from) / span) * w;

    // Transitions, shaded across every lane.
    ctx.fillStyle = 'rgba(240, 180, 40, 0.14)';
    for (const tr of m.transitions) {
      const end = tr.end ?? m.now;
      if (end < from || tr.start > to) continue;
      ctx.fillRect(X(tr.start), 0, Math.max(1, X(end) - X(tr.start)), h);
    }

    // Slices, merged where they share a pixel and a colour. A slice shorter than a pixel (a reader's 100 ns
    // pass every millisecond) is drawn half height: the lane shows activity and its colour without
    // looking as busy as a CPU that really runs all the time.
    const wide: { x0: number; x1: number; label: string }[] = [];
    for (const thin of [true, false]) {
      const top = thin ? h * 0.3 : 3 * dpr;
      const height = thin ? h * 0.4 : h - 6 * dpr;
      let runColor = '';
      let runX0 = 0;
      let runX1 = -1;
      const flush = (): void => {
        if (runX1 < 0) return;
        ctx.fillStyle = runColor;
        ctx.fillRect(runX0, top, Math.max(1, runX1 - runX0), height);
      };
      for (const seg of r.lane.segments) {
        const end = seg.to < 0 ? m.now : seg.to;
        if (end < from || seg.from > to) continue;
        const x0 = Math.max(0, X(seg.from));
        const exact = X(end) - x0;
        if (exact < 1 !== thin) continue;
        const x1 = Math.min(w, Math.max(x0 + 1, X(end)));
        const color = worldColor(seg.world, m.worlds);
        if (color === runColor && x0 <= runX1 + 1) runX1 = Math.max(runX1, x1);
        else {
          flush();
          runColor = color;
          runX0 = x0;
          runX1 = x1;
        }
        if (x1 - x0 >= LABEL_MIN_PX * dpr) wide.push({ x0, x1, label: seg.label });
      }
      flush();
    }
    ctx.font = `${10 * dpr}px system-ui, sans-serif`;
    ctx.textBaseline = 'middle';
    ctx.fillStyle = '#fff';
    for (const s of wide) {
      ctx.save();
      ctx.beginPath();
      ctx.rect(s.x0, 0, s.x1 - s.x0 - 2 * dpr, h);
      ctx.clip();
      ctx.fillText(s.label, s.x0 + 3 * dpr, h / 2);
      ctx.restore();
    }

    // Marks.
    let lastX = -10;
    let lastKind = '';
    for (const mk of r.lane.marks) {
      if (mk.t < from || mk.t > to) continue;
      const x = Math.round(X(mk.t));
      const problem = mk.kind === 'fault' || mk.kind === 'violation';
      if (!problem && x === lastX && mk.kind === lastKind) continue;
      lastX = x;
      lastKind = mk.kind;
      drawMark(ctx, mk, x, h, dpr, worldColor(mk.world, m.worlds));
    }

    // The present, while following a run.
    if (!this.view) {
      ctx.fillStyle = '#333';
      ctx.fillRect(Math.min(w - dpr, X(m.now)), 0, dpr, h);
    }
  }

  // --- interaction -------------------------------------------------------------------------------------

  private timeAt(e: MouseEvent, c: HTMLElement): number | null {
    const rect = c.getBoundingClientRect();
    if (rect.width <= 0) return null;
    const w = this.window();
    return w.from + ((e.clientX - rect.left) / rect.width) * (w.to - w.from);
  }

  private onWheel(e: WheelEvent): void {
    const canvas = e.target instanceof HTMLCanvasElement ? e.target : null;
    if (!canvas) return;
    e.preventDefault();
    const t = this.timeAt(e, canvas);
    if (t === null) return;
    const w = this.window();
    const f = Math.pow(1.2, e.deltaY / 100);
    const span = Math.max(1000, (w.to - w.from) * f);
    const ratio = (t - w.from) / (w.to - w.from);
    this.view = { from: Math.max(0, t - ratio * span), to: Math.max(0, t - ratio * span) + span };
    this.model.rev++;
  }

  private onDown(e: MouseEvent): void {
    if (!(e.target instanceof HTMLCanvasElement)) return;
    const w = this.window();
    this.dragging = { x: e.clientX, from: w.from, to: w.to };
  }

  private onMove(e: MouseEvent): void {
    if (this.dragging) {
      const c = this.axis.getBoundingClientRect();
      const d = this.dragging;
      const dt = ((e.clientX - d.x) / Math.max(1, c.width)) * (d.to - d.from);
      const from = Math.max(0, d.from - dt);
      this.view = { from, to: from + (d.to - d.from) };
      this.model.rev++;
      return;
    }
    if (!(e.target instanceof HTMLCanvasElement)) return;
    const row = [...this.rows.values()].find((r) => r.canvas === e.target);
    if (!row) return;
    const t = this.timeAt(e, row.canvas);
    if (t === null) return;
    this.hover.textContent = this.describe(row.lane, t, row.canvas);
  }

  /** What is under the pointer: the slice, and the marks within a few pixels. */
  private describe(lane: Lane, t: number, c: HTMLCanvasElement): string {
    const w = this.window();
    const tolerance = (4 / Math.max(1, c.getBoundingClientRect().width)) * (w.to - w.from);
    const seg = lane.segments.find((s) => s.from <= t && (s.to < 0 ? this.model.now : s.to) >= t);
    const marks = lane.marks.filter((mk) => Math.abs(mk.t - t) <= tolerance).slice(0, 3);
    const parts = [`${lane.title} ${dmesgTime(t)}`];
    if (seg)
      parts.push(
        `${seg.label} (${duration((seg.to < 0 ? this.model.now : seg.to) - seg.from)}), ${seg.world === 'original' ? 'original code' : `${seg.world}'s versions`}`,
      );
    for (const mk of marks) parts.push(mk.text);
    return parts.join(' · ');
  }
}

function drawMark(ctx: CanvasRenderingContext2D, mk: Mark, x: number, h: number, dpr: number, color: string): void {
  switch (mk.kind) {
    case 'fault':
    case 'violation':
      ctx.fillStyle = PROBLEM_COLOR;
      ctx.fillRect(x - dpr, 0, 3 * dpr, h);
      break;
    case 'redirect':
      ctx.fillStyle = color;
      ctx.fillRect(x, 0, Math.max(1, dpr), h * 0.35);
      ctx.fillStyle = '#222';
      ctx.fillRect(x, 0, Math.max(1, dpr), 2 * dpr);
      break;
    case 'switch': {
      const s = 4 * dpr;
      ctx.fillStyle = color;
      ctx.strokeStyle = '#222';
      ctx.beginPath();
      ctx.moveTo(x, h / 2 - s);
      ctx.lineTo(x + s, h / 2);
      ctx.lineTo(x, h / 2 + s);
      ctx.lineTo(x - s, h / 2);
      ctx.closePath();
      ctx.fill();
      ctx.stroke();
      break;
    }
    case 'poke':
      ctx.fillStyle = '#7a3db8';
      ctx.fillRect(x, h * 0.55, Math.max(1, dpr), h * 0.45);
      break;
    case 'gp':
      ctx.fillStyle = '#2a9d4b';
      ctx.fillRect(x, 0, Math.max(1, dpr), h * 0.45);
      break;
    case 'ftrace':
      ctx.fillStyle = '#444';
      ctx.fillRect(x, h * 0.3, Math.max(1, dpr), h * 0.4);
      break;
    case 'free':
      ctx.fillStyle = '#000';
      ctx.fillRect(x - dpr, h * 0.7, 2 * dpr, h * 0.3);
      break;
  }
}

/** 1, 2 or 5 times a power of ten, at least `raw`. */
function niceStep(raw: number): number {
  const p = Math.pow(10, Math.floor(Math.log10(Math.max(1, raw))));
  for (const k of [1, 2, 5, 10]) if (k * p >= raw) return k * p;
  return 10 * p;
}

function axisLabel(t: number, step: number): string {
  if (step >= 1e9) return `${t / 1e9} s`;
  if (step >= 1e6) return `${(t / 1e6).toLocaleString('en')} ms`;
  if (step >= 1e3) return `${(t / 1e3).toLocaleString('en')} µs`;
  return `${t} ns`;
}

function div(cls: string, text?: string): HTMLDivElement {
  const d = document.createElement('div');
  d.className = cls;
  if (text !== undefined) d.textContent = text;
  return d;
}
