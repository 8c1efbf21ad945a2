import { computeLayout, DEFAULT_MACHINE, stackOf, THREAD_SIZE } from '../../src/mem/layout';
import { KernelMemory } from '../../src/mem/kernel-memory';
import { Kallsyms, KsymKind } from '../../src/mem/kallsyms';
import { PAGE_SIZE, PERM_R, PERM_W, PERM_X } from '../../src/x86/cpu-types';

describe('kernel memory layout', () => {
  it('places regions in order, page aligned, without overlap', () => {
    const l = computeLayout(DEFAULT_MACHINE);
    const bounds = [
      l.textBase,
      l.textEnd,
      l.dataBase,
      l.dataEnd,
      l.ftraceBase,
      l.ftraceEnd,
      l.ksymsBase,
      l.ksymsEnd,
      l.tasksBase,
      l.tasksEnd,
      l.percpuBase,
      l.percpuEnd,
      l.stacksBase,
      l.stacksEnd,
    ];
    for (let i = 1; i < bounds.length; i++) expect(bounds[i]).toBeGreaterThanOrEqual(bounds[i - 1]);
    for (const b of bounds) expect(b % PAGE_SIZE).toBe(0);
    expect(l.size).toBeGreaterThanOrEqual(l.stacksEnd);
  });

  it('gives each task a THREAD_SIZE stack above an unmapped guard page', () => {
    const km = KernelMemory.create({ ...DEFAULT_MACHINE, maxTasks: 4 });
    const s0 = stackOf(km.layout, 0);
    const s1 = stackOf(km.layout, 1);
    expect(s0.top - s0.base).toBe(THREAD_SIZE);
    expect(s1.base - s0.top).toBe(PAGE_SIZE);
    expect(km.permsAt(s0.base - 1)).toBe(0);
    expect(km.permsAt(0)).toBe(0);
    expect(km.permsAt(km.layout.servicesBase)).toBe(PERM_R | PERM_X);
    expect(km.permsAt(km.layout.dataBase)).toBe(PERM_R | PERM_W);
  });
});

describe('kallsyms', () => {
  it('looks symbols up by name, object and sympos, and by address', () => {
    const km = KernelMemory.create({ ...DEFAULT_MACHINE, maxTasks: 4 });
    const ks = new Kallsyms(km);
    ks.add({ name: 'foo', addr: 0x100000, size: 0x20, kind: KsymKind.Func, object: 'vmlinux' });
    ks.add({ name: 'bar', addr: 0x100020, size: 0x10, kind: KsymKind.Func, object: 'vmlinux' });
    ks.add({ name: 'foo', addr: 0x101000, size: 0x20, kind: KsymKind.Func, object: 'mod' });
    expect(ks.lookup('bar')?.addr).toBe(0x100020);
    expect(ks.lookup('foo')).toBeUndefined(); // ambiguous without sympos or object
    expect(ks.lookup('foo', 'mod')?.addr).toBe(0x101000);
    expect(ks.lookup('foo', undefined, 2)?.addr).toBe(0x101000);
    expect(ks.format(0x100025)).toBe('bar+0x5/0x10');
    expect(ks.format(0x101001)).toBe('foo+0x1/0x20 [mod]');
    ks.removeObject('mod');
    expect(ks.lookup('foo')?.addr).toBe(0x100000);
    expect(ks.symbolAt(0x101001)).toBeUndefined();
  });
});
