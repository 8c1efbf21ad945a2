import { KernelMemory } from '../../src/mem/kernel-memory';
import { DEFAULT_MACHINE } from '../../src/mem/layout';
import { POISON, Slab, linkIndex } from '../../src/kernel/slab';

describe('klp slab', () => {
  const km = KernelMemory.create({ ...DEFAULT_MACHINE, maxTasks: 4 });
  const slab = new Slab(km);
  const MAGIC = 0x1234;

  it('hands out live, zeroed records and checks links', () => {
    const l = slab.alloc(MAGIC);
    expect(slab.check(l, MAGIC)).toBeNull();
    expect(slab.get(l, 5)).toBe(0);
    expect(slab.check(l, 0x999)).toMatch(/has type/);
  });

  it('poisons freed records: a link to one is reported, and stays reported after reuse', () => {
    const l = slab.alloc(MAGIC);
    slab.set(l, 3, 42);
    slab.release(l);
    expect(slab.get(l, 3)).toBe(POISON);
    expect(slab.check(l, MAGIC)).toMatch(/was freed \(poisoned\)/);
    // Fresh records come first: the freed one is not reused while others are left.
    const l2 = slab.alloc(MAGIC);
    expect(linkIndex(l2)).not.toBe(linkIndex(l));
  });

  it('a reused record has a new generation, so an old link to it is still caught', () => {
    const small = new Slab(km);
    const a = small.alloc(MAGIC);
    small.release(a);
    (small as unknown as { next: number }).next = small.capacity; // pretend every fresh record is used
    const b = small.alloc(MAGIC);
    expect(linkIndex(b)).toBe(linkIndex(a));
    expect(small.check(b, MAGIC)).toBeNull();
    expect(small.check(a, MAGIC)).toMatch(/freed and reused/);
  });
});
