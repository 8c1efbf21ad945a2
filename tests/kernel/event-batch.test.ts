/**
 * The CPU threads' packed event batches (src/kernel/event-batch.ts): what the coordinator reads back is
 * what lockstep emits — the same events, in the same order, with the same fields in the same order (the
 * ndjson output prints them as they are) — and a string crosses a port once.
 */
import { EventBatchReader, EventBatchWriter } from '../../src/kernel/event-batch';
import type { RawEvent } from '../../src/kernel/events';

const state = (t: number, cpu: number, pid: number, comm: string, st: string, func?: string): RawEvent =>
  func === undefined ? { t, cpu, type: 'task.state', pid, comm, state: st } : { t, cpu, type: 'task.state', pid, comm, state: st, func };

describe('packed event batches', () => {
  it('task.state records and other events come back in order, field for field and key for key', () => {
    const w = new EventBatchWriter(16);
    const r = new EventBatchReader();
    const log: RawEvent = { t: 5, cpu: 1, type: 'log', text: 'hello' };
    const want: RawEvent[] = [
      state(1, 1, 42, 'kworker/1:0', 'running'),
      log,
      state(2_147_483_653, 1, 42, 'kworker/1:0', 'sleeping', 'msleep'),
      state(7, 1, 43, 'busy', 'running', 'busy_loop'),
    ];
    w.pushTaskState(1, 1, 42, 'kworker/1:0', 'running', undefined);
    w.push(log);
    w.pushTaskState(2_147_483_653, 1, 42, 'kworker/1:0', 'sleeping', 'msleep');
    w.pushTaskState(7, 1, 43, 'busy', 'running', 'busy_loop');
    const batch = w.take();
    // A copy of the used records only: the writer's own buffer is never transferred (event-batch.ts).
    expect(batch.records.length).toBe(4 * 6);
    const got = r.read(batch);
    expect(got).toEqual(want);
    expect(got.map((e) => JSON.stringify(e))).toEqual(want.map((e) => JSON.stringify(e)));
    expect(got[1]).toBe(log);
  });

  it('a string is sent in the first batch that uses it, and the reader keeps it for the next', () => {
    const w = new EventBatchWriter(16);
    const r = new EventBatchReader();
    w.pushTaskState(1, 0, 10, 't/0', 'running', undefined);
    const first = w.take();
    expect(first.strings).toEqual(['running', 't/0']);
    w.pushTaskState(2, 0, 10, 't/0', 'running', undefined);
    w.pushTaskState(3, 0, 11, 't/1', 'running', undefined);
    const second = w.take();
    expect(second.strings).toEqual(['t/1']);
    r.read(first);
    expect(r.read(second)).toEqual([state(2, 0, 10, 't/0', 'running'), state(3, 0, 11, 't/1', 'running')]);
  });

  it('a batch is full at its capacity, and take() starts an empty one', () => {
    const w = new EventBatchWriter(2);
    w.pushTaskState(1, 0, 1, 'a', 'running', undefined);
    expect(w.full()).toBe(false);
    w.push({ t: 1, cpu: 0, type: 'log', text: 'x' });
    expect(w.full()).toBe(true);
    const batch = w.take();
    expect(batch.count).toBe(2);
    expect(w.length).toBe(0);
    expect(w.full()).toBe(false);
  });
});
