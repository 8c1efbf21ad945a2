/**
 * complete() / complete_all() / wait_for_completion() as kernel/sched/completion.c counts them: `done` in
 * the struct, one taken per waiter woken, UINT_MAX after complete_all() and never decremented.
 */
import type { TaskHandle } from '../../src/coordinator/machine';
import type { KernelMemory } from '../../src/mem/kernel-memory';
import { Completions } from '../../src/scenario/c-completions';

const X = 16;

function setup(): { c: Completions; done: () => number; woken: number[]; dead: Set<number> } {
  const dv = new DataView(new ArrayBuffer(64));
  const woken: number[] = [];
  const dead = new Set<number>();
  const c = new Completions(
    { dv } as unknown as KernelMemory,
    (h) => woken.push(h.pid),
    (h) => dead.has(h.pid),
  );
  return { c, done: () => dv.getUint32(X, true), woken, dead };
}

const task = (pid: number): TaskHandle => ({ pid }) as unknown as TaskHandle;

describe('completions', () => {
  it('a complete() before the wait is kept in done and taken by the next waiter', () => {
    const { c, done, woken } = setup();
    c.complete(X, false);
    c.complete(X, false);
    expect(done()).toBe(2);
    expect(c.wait(task(1), X)).toBe(true);
    expect(done()).toBe(1);
    expect(woken).toEqual([]);
  });

  it('complete() wakes one waiter, oldest first; complete_all() every one and stays done', () => {
    const { c, done, woken } = setup();
    expect(c.wait(task(1), X)).toBe(false);
    expect(c.wait(task(2), X)).toBe(false);
    expect(c.wait(task(3), X)).toBe(false);
    c.complete(X, false);
    expect(woken).toEqual([1]);
    expect(done()).toBe(0);
    c.complete(X, true);
    expect(woken).toEqual([1, 2, 3]);
    expect(done()).toBe(0xffffffff);
    expect(c.wait(task(4), X)).toBe(true);
    expect(done()).toBe(0xffffffff);
  });

  it('a waiter that ended meanwhile takes nothing', () => {
    const { c, done, woken, dead } = setup();
    c.wait(task(1), X);
    c.wait(task(2), X);
    dead.add(1);
    c.complete(X, false);
    expect(woken).toEqual([2]);
    expect(done()).toBe(0);
  });
});
