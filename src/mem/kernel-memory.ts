/**
 * Typed views over the machine's SharedArrayBuffers, identical on every thread.
 *
 * Sharing: `mem` (kmem) is shared by all CPU workers and the coordinator; `perms` (one byte per page) is
 * written only by the coordinator's loader (module load/unload) before the code it describes is reachable,
 * and read by every CPU on each access. Ordering for plain data is given by the Atomics operations on the
 * synchronisation words that publish it (documented where each word is defined).
 */
import { PAGE_SHIFT, PAGE_SIZE, PERM_R, PERM_W, PERM_X } from '../x86/cpu-types';
import { computeLayout, Layout, MachineConfig, SERVICES_BASE, SERVICES_SIZE } from './layout';

export interface KernelMemoryBuffers {
  config: MachineConfig;
  kmem: SharedArrayBuffer;
  perms: SharedArrayBuffer;
}

export class KernelMemory {
  readonly layout: Layout;
  readonly u8: Uint8Array;
  readonly i32: Int32Array;
  readonly i64: BigInt64Array;
  /** Plain float64 words (no Atomics exist for them): fields ordered by a lock or an Atomics publish. */
  readonly f64: Float64Array;
  readonly dv: DataView;
  readonly perms: Uint8Array;

  constructor(readonly buffers: KernelMemoryBuffers) {
    this.layout = computeLayout(buffers.config);
    this.u8 = new Uint8Array(buffers.kmem);
    this.i32 = new Int32Array(buffers.kmem);
    this.i64 = new BigInt64Array(buffers.kmem);
    this.f64 = new Float64Array(buffers.kmem);
    this.dv = new DataView(buffers.kmem);
    this.perms = new Uint8Array(buffers.perms);
  }

  /** Allocates and initialises a fresh machine's memory (coordinator side, once). */
  static create(config: MachineConfig): KernelMemory {
    const layout = computeLayout(config);
    const kmem = new SharedArrayBuffer(layout.size);
    const perms = new SharedArrayBuffer(layout.size >>> PAGE_SHIFT);
    const km = new KernelMemory({ config, kmem, perms });
    // The services window is executable and filled with `ret`: the CPU stops before executing there
    // (EntryKind.Native), so the bytes only matter to a disassembler.
    km.u8.fill(0xc3, SERVICES_BASE, SERVICES_BASE + SERVICES_SIZE);
    km.setPerms(SERVICES_BASE, SERVICES_SIZE, PERM_R | PERM_X);
    km.setPerms(layout.dataBase, layout.dataEnd - layout.dataBase, PERM_R | PERM_W);
    km.setPerms(layout.shadowBase, layout.shadowEnd - layout.shadowBase, PERM_R | PERM_W);
    // Task structs are read-only to emulated code: C reads current->pid and current->comm there (as the
    // kernel's task_struct is ordinary memory); a write still faults, so code cannot corrupt the
    // scheduler's words.
    km.setPerms(layout.tasksBase, layout.tasksEnd - layout.tasksBase, PERM_R);
    return km;
  }

  setPerms(addr: number, len: number, perm: number): void {
    const first = addr >>> PAGE_SHIFT;
    const last = (addr + len - 1) >>> PAGE_SHIFT;
    this.perms.fill(perm, first, last + 1);
  }

  permsAt(addr: number): number {
    return this.perms[addr >>> PAGE_SHIFT];
  }

  readU64(addr: number): number {
    // Addresses and counters in this machine stay far below 2^53: a Number is exact.
    return this.dv.getUint32(addr, true) + this.dv.getUint32(addr + 4, true) * 0x1_0000_0000;
  }

  writeU64(addr: number, v: number): void {
    this.dv.setUint32(addr, v >>> 0, true);
    this.dv.setUint32(addr + 4, Math.floor(v / 0x1_0000_0000) >>> 0, true);
  }

  readCString(addr: number, max = 4096): string {
    let end = addr;
    const limit = Math.min(this.u8.length, addr + max);
    while (end < limit && this.u8[end] !== 0) end++;
    return Buffer.from(this.u8.subarray(addr, end)).toString('utf8');
  }

  writeBytes(addr: number, bytes: ArrayLike<number>): void {
    this.u8.set(bytes, addr);
  }
}

export const PAGE = PAGE_SIZE;
export { PERM_R, PERM_W, PERM_X };
