/**
 * The event stream's cost (SPEC section 6): events per second through `events$` on a deterministic run
 * of the flagship scenario with 1 and with 3 subscribers (events counted / wall time of the whole run, so
 * it is the rate the simulation produces them at, emulation included), the same events pushed through a
 * bare RxJS Subject (what the stream itself costs), and how much `watch` slows the run down — the
 * flagship with and without the watch renderer attached, drawing into a discarded string at 10 Hz.
 *
 * Deterministic mode so that every run does exactly the same work: the ratios compare like with like.
 */
import { packageRoot } from '../util/package-root';
import { resolve } from 'node:path';
import { Subject } from 'rxjs';
import type { SimEvent } from '../kernel/events';
import { Simulation } from '../scenario/simulation';
import { WatchRenderer } from '../cli/watch';

const FLAGSHIP = resolve(packageRoot(), 'scenarios/atomic-replace-nops.yaml');

export interface EventRate {
  subscribers: number;
  events: number;
  wallMs: number;
  eventsPerSec: number;
}

export interface EventsBench {
  /** Through a simulation's events$ (deterministic flagship run). */
  stream: EventRate[];
  /** The same events through a bare Subject, repeated for the measurement time. */
  rawSubject: EventRate[];
  watch: { plainMs: number; watchMs: number; frames: number; slowdown: number };
}

interface RunOutcome {
  count: number;
  events: SimEvent[];
  wallMs: number;
  frames: number;
}

/** One flagship run; `subscribers` trivial subscribers (each touches the event, as a consumer would). */
async function flagship(subscribers: number, withWatch: boolean, keep = false): Promise<RunOutcome> {
  const sim = await Simulation.fromFile(FLAGSHIP, { deterministic: true });
  const kept: SimEvent[] = [];
  let sink = 0;
  for (let i = 0; i < subscribers; i++) {
    sim.events$.subscribe((ev) => {
      sink += ev.seq;
      if (keep && i === 0) kept.push(ev);
    });
  }
  let buffer = '';
  const watch = withWatch
    ? new WatchRenderer(sim, {
        title: 'bench',
        // A discarded buffer: the cost measured is the snapshot and the rendering, not a terminal's.
        write: (frame) => {
          buffer = frame;
        },
        intervalMs: 100,
      })
    : null;
  watch?.start();
  const t0 = performance.now();
  const r = await sim.run();
  const wallMs = performance.now() - t0;
  watch?.stop();
  if (r.exitCode !== 0 || sink < 0 || buffer.length < 0) throw new Error(`bench: flagship run failed (exit ${r.exitCode})`);
  return { count: r.events, events: kept, wallMs, frames: watch?.frames ?? 0 };
}

function rawSubject(events: SimEvent[], subscribers: number, ms: number): EventRate {
  const s = new Subject<SimEvent>();
  let sink = 0;
  for (let i = 0; i < subscribers; i++) s.subscribe((ev) => (sink += ev.seq));
  let n = 0;
  const t0 = performance.now();
  let now = t0;
  while (now - t0 < ms) {
    for (const ev of events) s.next(ev);
    n += events.length;
    now = performance.now();
  }
  if (sink < 0) throw new Error('unreachable');
  const wallMs = now - t0;
  return { subscribers, events: n, wallMs, eventsPerSec: (n / wallMs) * 1000 };
}

const rate = (subscribers: number, r: RunOutcome): EventRate => ({
  subscribers,
  events: r.count,
  wallMs: r.wallMs,
  eventsPerSec: (r.count / r.wallMs) * 1000,
});

export async function measureEvents(ms: number): Promise<EventsBench> {
  // A first run warms the JIT and the module caches up, and gives the events for the raw Subject.
  const warm = await flagship(1, false, true);
  // Plain and watched runs alternate and the faster of each pair counts, so that a burst of noise on
  // the machine does not land on one side only.
  const plain: RunOutcome[] = [];
  const watched: RunOutcome[] = [];
  for (let i = 0; i < 2; i++) {
    plain.push(await flagship(1, false));
    watched.push(await flagship(1, true));
  }
  const best = (rs: RunOutcome[]): RunOutcome => rs.reduce((a, b) => (b.wallMs < a.wallMs ? b : a));
  const three = await flagship(3, false);
  const p = best(plain);
  const w = best(watched);
  const raw = [1, 3].map((k) => rawSubject(warm.events, k, Math.min(ms, 1000)));
  return {
    stream: [rate(1, p), rate(3, three)],
    rawSubject: raw,
    watch: { plainMs: p.wallMs, watchMs: w.wallMs, frames: w.frames, slowdown: w.wallMs / p.wallMs },
  };
}
