/**
 * The contract of `Simulation.events$` (docs/streams.md): `seq` goes 0, 1, 2 … with no gap or repeat,
 * every event reaches every subscriber — a slow synchronous one and an asynchronous one that buffers
 * with concatMap included — `complete` comes after the last event and nothing after it, and no CPU
 * worker thread outlives `run()`.
 */
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { concatMap, lastValueFrom, toArray } from 'rxjs';
import type { SimEvent } from '../../src/kernel/events';
import { Simulation } from '../../src/scenario/simulation';

const BASIC = resolve(__dirname, '../../scenarios/test-livepatch-basic.yaml');

interface Recorder {
  seqs: number[];
  /** What happened, in order: 'e' per event, 'c' for complete, 'x' for an error. */
  trail: string[];
}

function record(sim: Simulation): Recorder {
  const r: Recorder = { seqs: [], trail: [] };
  sim.events$.subscribe({
    next: (ev) => {
      r.seqs.push(ev.seq);
      r.trail.push('e');
    },
    complete: () => r.trail.push('c'),
    error: () => r.trail.push('x'),
  });
  return r;
}

function expectComplete(r: Recorder, total: number): void {
  expect(r.seqs.length).toBe(total);
  // Exactly 0..N-1, in order: compare as a whole only when it fails, so the failure shows where.
  const firstBad = r.seqs.findIndex((s, i) => s !== i);
  expect(firstBad).toBe(-1);
  // One completion, after the last event, and nothing after it.
  expect(r.trail.filter((x) => x !== 'e')).toEqual(['c']);
  expect(r.trail[r.trail.length - 1]).toBe('c');
}

const busyWait = (ms: number): void => {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    /* a subscriber doing slow synchronous work */
  }
};

describe.each([
  ['deterministic', true],
  ['worker', false],
])('events$ in %s mode', (_mode, deterministic) => {
  it('numbers every event 0..N-1 in order and completes after the last one', async () => {
    const sim = await Simulation.fromFile(BASIC, { deterministic });
    const r = record(sim);
    const result = await sim.run();
    expect(result.exitCode).toBe(0);
    expect(result.events).toBeGreaterThan(1000);
    expectComplete(r, result.events);
    // Subscribing after completion gets the completion at once and no event (a Subject does not replay).
    const late: SimEvent[] = [];
    let lateComplete = false;
    sim.events$.subscribe({ next: (e) => late.push(e), complete: () => (lateComplete = true) });
    expect(late).toEqual([]);
    expect(lateComplete).toBe(true);
  });

  it('a slow synchronous subscriber and a concatMap-buffered async one see the same sequence as a fast one', async () => {
    const sim = await Simulation.fromFile(BASIC, { deterministic });
    const fast = record(sim);
    const slow: number[] = [];
    let slowBusyMs = 0;
    sim.events$.subscribe((ev) => {
      if (slow.length < 300) {
        const t = performance.now();
        busyWait(1);
        slowBusyMs += performance.now() - t;
      }
      slow.push(ev.seq);
    });
    // An async consumer: each of the first few hundred events takes a real timer tick to handle, while
    // the run goes on pushing events; concatMap buffers them and handles every one, in order. The inner
    // is an async function, so it always completes asynchronously (see docs/streams.md for why an inner
    // that completes synchronously would overflow the stack draining a backlog this size).
    let handled = 0;
    const asyncSeqs = lastValueFrom(
      sim.events$.pipe(
        concatMap(async (ev) => {
          if (handled++ < 200) await new Promise<void>((res) => setTimeout(res, handled % 3));
          return ev.seq;
        }),
        toArray(),
      ),
    );
    const t0 = performance.now();
    const result = await sim.run();
    const wall = performance.now() - t0;
    expect(result.exitCode).toBe(0);
    // The slow subscriber ran inside the run (synchronously, on the coordinator's thread): it slowed the
    // simulation down instead of losing anything. (In worker mode it also changes the interleaving, so
    // the number of events differs from a fast run's; what matters is that all subscribers agree.)
    expect(wall).toBeGreaterThanOrEqual(slowBusyMs);
    expectComplete(fast, result.events);
    expect(slow).toEqual(fast.seqs);
    expect(await asyncSeqs).toEqual(fast.seqs);
  });
});

describe('worker threads', () => {
  it('every CPU thread is terminated when run() returns', async () => {
    const created = new Set<Worker>();
    const terminated = new Set<Worker>();
    // WorkerCpus attaches an 'error' listener to each worker it creates: that sees every one of them.
    const origOn = Worker.prototype.on;
    const on = jest.spyOn(Worker.prototype, 'on').mockImplementation(function (this: Worker, ...args: Parameters<Worker['on']>) {
      created.add(this);
      return origOn.apply(this, args);
    });
    const origTerminate = Worker.prototype.terminate;
    const term = jest.spyOn(Worker.prototype, 'terminate').mockImplementation(function (this: Worker) {
      terminated.add(this);
      return origTerminate.call(this);
    });
    try {
      // One thread per CPU group (M:N): three CPUs on three threads, whatever the host's cores.
      const sim = await Simulation.fromFile(BASIC, { deterministic: false, cpus: 3, cpuThreads: 3 });
      expect(created.size).toBe(3);
      expect([...created].every((w) => w.threadId > 0)).toBe(true);
      const result = await sim.run();
      expect(result.exitCode).toBe(0);
      expect(terminated).toEqual(created);
      // threadId becomes -1 once the thread has actually exited.
      expect([...created].map((w) => w.threadId)).toEqual([-1, -1, -1]);
    } finally {
      on.mockRestore();
      term.mockRestore();
    }
  });
});
