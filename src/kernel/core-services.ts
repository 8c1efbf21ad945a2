/**
 * Kernel services a CPU serves by itself for C code (include/linux/{sched,slab,string,kthread}.h):
 * `get_current()` (the `current` macro), kmalloc()/kfree(), the string and memory functions gcc and
 * modules call, and kthread_should_stop(). Each reads its arguments from the System V argument registers
 * and returns in rax, as the C function would.
 *
 * kmalloc() hands out memory from the top KMALLOC_SIZE bytes of the data region, below which the loader
 * places objects' data: a shared cursor (Atomics.compareExchange, so CPUs allocate concurrently) moves
 * down; each object has a 16-byte header holding its size. kfree() poisons the object (POISON_FREE,
 * 0x6b, as slub_debug does) and never reuses it, so a use after free reads poison.
 */
import type { KernelMemory } from '../mem/kernel-memory';
import { PERM_R, PERM_W } from '../mem/kernel-memory';
import { TASK_STRUCT_SIZE } from '../mem/layout';
import { GlobalField, GlobalView } from '../mem/percpu';

export const CORE_SERVICE_NAMES = [
  'get_current',
  'kthread_should_stop',
  'kmalloc',
  'kfree',
  'memcpy',
  'memmove',
  'memset',
  'memcmp',
  'strlen',
  'strnlen',
  'strcmp',
  'strncmp',
  'strcpy',
  'strchr',
  'strscpy',
] as const;

export type CoreService = (typeof CORE_SERVICE_NAMES)[number];

export const isCoreService = (name: string): name is CoreService => (CORE_SERVICE_NAMES as readonly string[]).includes(name);

/** The top of the data region kmalloc() serves from. */
export const KMALLOC_SIZE = 1 << 20;
const KMALLOC_HEADER = 16;
const KMALLOC_ALIGN = 16;
/** KMALLOC_MAX_SIZE for this heap: a larger request is NULL, as an order too high for the page allocator. */
export const KMALLOC_MAX = 128 << 10;
const POISON_FREE = 0x6b;
const GFP_ZERO = 0x100;
const E2BIG = 7;

/** What a service needs of the CPU that serves it. */
export interface CoreServiceCpu {
  km: KernelMemory;
  global: GlobalView;
  arg(i: number): bigint;
  /** The current task's slot, and whether kthread_stop() asked it to stop. */
  currentSlot(): number;
  shouldStop(): boolean;
}

/** Serves `name`; returns rax, or null where the access would fault (the caller oopses the task). */
export function serveCoreService(name: CoreService, cpu: CoreServiceCpu): bigint | null {
  const { km } = cpu;
  const a = (i: number): number => Number(BigInt.asUintN(64, cpu.arg(i)));
  const n32 = (i: number): number => Number(BigInt.asUintN(32, cpu.arg(i)));
  const ok = (addr: number, len: number, perm: number): boolean => accessible(km, addr, len, perm);
  switch (name) {
    case 'get_current':
      return BigInt(km.layout.tasksBase + cpu.currentSlot() * TASK_STRUCT_SIZE);
    case 'kthread_should_stop':
      return cpu.shouldStop() ? 1n : 0n;
    case 'kmalloc':
      return BigInt(kmalloc(km, cpu.global, a(0), n32(1)));
    case 'kfree': {
      const p = a(0);
      // kfree(NULL) and kfree(ZERO_SIZE_PTR) do nothing.
      if (p <= 16) return 0n;
      if (!ok(p - KMALLOC_HEADER, KMALLOC_HEADER, PERM_R | PERM_W)) return null;
      const size = km.readU64(p - KMALLOC_HEADER);
      if (ok(p, size, PERM_W)) km.u8.fill(POISON_FREE, p, p + size);
      return 0n;
    }
    case 'memcpy':
    case 'memmove': {
      const [d, s, len] = [a(0), a(1), a(2)];
      if (!ok(s, len, PERM_R) || !ok(d, len, PERM_W)) return null;
      km.u8.copyWithin(d, s, s + len);
      return BigInt(d);
    }
    case 'memset': {
      const [d, c, len] = [a(0), n32(1) & 0xff, a(2)];
      if (!ok(d, len, PERM_W)) return null;
      km.u8.fill(c, d, d + len);
      return BigInt(d);
    }
    case 'memcmp': {
      const [x, y, len] = [a(0), a(1), a(2)];
      if (!ok(x, len, PERM_R) || !ok(y, len, PERM_R)) return null;
      for (let i = 0; i < len; i++) if (km.u8[x + i] !== km.u8[y + i]) return BigInt(km.u8[x + i] < km.u8[y + i] ? -1 : 1);
      return 0n;
    }
    case 'strlen':
    case 'strnlen': {
      const len = strLength(km, a(0), name === 'strnlen' ? a(1) : Number.MAX_SAFE_INTEGER);
      return len === null ? null : BigInt(len);
    }
    case 'strcmp':
    case 'strncmp': {
      const [x, y] = [a(0), a(1)];
      const max = name === 'strncmp' ? a(2) : Number.MAX_SAFE_INTEGER;
      for (let i = 0; i < max; i++) {
        if (!ok(x + i, 1, PERM_R) || !ok(y + i, 1, PERM_R)) return null;
        const [c1, c2] = [km.u8[x + i], km.u8[y + i]];
        if (c1 !== c2) return c1 < c2 ? -1n : 1n;
        if (c1 === 0) break;
      }
      return 0n;
    }
    case 'strcpy': {
      const [d, s] = [a(0), a(1)];
      const len = strLength(km, s, Number.MAX_SAFE_INTEGER);
      if (len === null || !ok(d, len + 1, PERM_W)) return null;
      km.u8.copyWithin(d, s, s + len + 1);
      return BigInt(d);
    }
    case 'strchr': {
      const [s, c] = [a(0), n32(1) & 0xff];
      for (let p = s; ; p++) {
        if (!ok(p, 1, PERM_R)) return null;
        if (km.u8[p] === c) return BigInt(p);
        if (km.u8[p] === 0) return 0n;
      }
    }
    case 'strscpy': {
      const [d, s, size] = [a(0), a(1), a(2)];
      if (size === 0) return BigInt(-E2BIG);
      const len = strLength(km, s, size);
      if (len === null) return null;
      const copy = Math.min(len, size - 1);
      if (!ok(d, copy + 1, PERM_W)) return null;
      km.u8.copyWithin(d, s, s + copy);
      km.u8[d + copy] = 0;
      return len >= size ? BigInt(-E2BIG) : BigInt(copy);
    }
  }
}

function accessible(km: KernelMemory, addr: number, len: number, perm: number): boolean {
  if (len === 0) return true;
  if (addr <= 0 || addr + len > km.u8.length) return false;
  for (let p = addr - (addr % 4096); p < addr + len; p += 4096) if ((km.permsAt(p) & perm) !== perm) return false;
  return true;
}

function strLength(km: KernelMemory, s: number, max: number): number | null {
  let n = 0;
  while (n < max) {
    if (!accessible(km, s + n, 1, PERM_R)) return null;
    if (km.u8[s + n] === 0) break;
    n++;
  }
  return n;
}

/** kmalloc() for the kernel's own code on the coordinator (a charp parameter's copy). */
export function kmallocHost(km: KernelMemory, size: number): number {
  return kmalloc(km, new GlobalView(km), size, 0);
}

/** kmalloc(size, flags): NULL when the heap is used up or the size is too large, as the kernel's. */
function kmalloc(km: KernelMemory, global: GlobalView, size: number, flags: number): number {
  // kmalloc(0) is ZERO_SIZE_PTR (16): not NULL, but faults when used.
  if (size === 0) return 16;
  if (size > KMALLOC_MAX) return 0;
  const top = km.layout.dataEnd;
  const bottom = top - KMALLOC_SIZE;
  const need = Math.ceil((size + KMALLOC_HEADER) / KMALLOC_ALIGN) * KMALLOC_ALIGN;
  const idx = global.index(GlobalField.KmallocUsed);
  for (;;) {
    const used = Atomics.load(km.i32, idx);
    const next = used + need;
    if (top - next < bottom) return 0;
    if (Atomics.compareExchange(km.i32, idx, used, next) !== used) continue;
    const obj = top - next + KMALLOC_HEADER;
    km.writeU64(obj - KMALLOC_HEADER, size);
    // Fresh heap memory is whatever was there: zeroed only on request, as the slab hands it out.
    if (flags & GFP_ZERO) km.u8.fill(0, obj, obj + size);
    return obj;
  }
}
