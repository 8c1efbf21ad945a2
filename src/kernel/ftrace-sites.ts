/**
 * The CPU side of ftrace sites and of code patching: executing the 5-byte site at each function's entry
 * (`nop` or `call ftrace_caller`), poke_int3_handler() for an int3 met while text_poke_bp() changes a site,
 * and the checks that make skipping that protocol visible.
 *
 * Like the decoded-instruction cache, a CPU keeps the decoded bytes of each site it has executed until a
 * sync-core IPI (flush()). Both checks compare what the CPU executes with what memory holds:
 * - torn fetch: the bytes read are neither the NOP nor `call ftrace_caller` (a fetch raced with a writer
 *   that did not use int3 first);
 * - stale fetch: the CPU runs a cached copy that differs from memory although no poke is in progress at
 *   that address (a writer changed the bytes and never sent the IPI that drops copies).
 * Memory read here: site bytes (plain loads, one by one, as a fetch is not atomic) and the poke descriptor
 * (Atomics.load of PokeActive first, so its address and bytes are those the poker published).
 */
import type { Kallsyms } from '../mem/kallsyms';
import type { KernelMemory } from '../mem/kernel-memory';
import { GlobalField, GlobalView, POKE_BYTES_OFFSET } from '../mem/percpu';
import type { X86Cpu } from '../x86/interpreter';
import { CALL_REL32_OPCODE, FTRACE_SITE_NOP, INT3_OPCODE } from '../x86/ftrace-site';
import { hex } from './events';
import { FTRACE_CALLER, FTRACE_OPS_LIST_FUNC } from './services';

/** What the site code needs from the CPU it runs on. */
export interface SiteCpu {
  readonly cpu: number;
  readonly km: KernelMemory;
  readonly kallsyms: Kallsyms;
  readonly global: GlobalView;
  readonly x86: X86Cpu;
  readonly checks: { site: number };
  push(v: number): boolean;
  oopsCurrent(): void;
  violation(check: string, message: string, addr?: number): void;
}

/** 5 bytes packed little-endian into one Number (exact: 40 bits). */
const pack = (b: ArrayLike<number>, at = 0): number =>
  b[at] + b[at + 1] * 0x100 + b[at + 2] * 0x10000 + b[at + 3] * 0x1000000 + b[at + 4] * 0x100000000;
const unpack = (v: number): number[] => [0, 1, 2, 3, 4].map((i) => Math.floor(v / 2 ** (8 * i)) & 0xff);
const hexOf = (v: number): string => hex(unpack(v));
const NOP5 = pack(FTRACE_SITE_NOP);

export class FtraceSites {
  /** Decoded sites: address -> the 5 bytes this CPU fetched. */
  private readonly cache = new Map<number, number>();
  private addrs = new Set<number>();
  /** Sites already reported since the last sync-core IPI: one report per site, not one per fetch. */
  private readonly reported = new Set<number>();
  private addrsKey = '';

  constructor(private readonly c: SiteCpu) {}

  /** Is `addr` a function entry? (Asked once per address by the interpreter's decoded cache.) */
  isSite(addr: number): boolean {
    const ks = this.c.kallsyms;
    const key = `${ks.count()}:${ks.generation()}`;
    if (key !== this.addrsKey) {
      this.addrs = new Set(ks.ftraceSites().map((s) => s.addr));
      this.addrsKey = key;
    }
    return this.addrs.has(addr);
  }

  /** The sync-core IPI: forget every decoded site. */
  flush(): void {
    this.cache.clear();
    this.reported.clear();
  }

  private report(check: string, addr: number, message: () => string): void {
    if (this.reported.has(addr)) return;
    this.reported.add(addr);
    this.c.violation(check, message(), addr);
  }

  /** Executes the site at `addr` for the current task. */
  execute(addr: number): void {
    const cached = this.cache.get(addr);
    const mem = pack(this.c.km.u8, addr);
    this.c.checks.site++;
    if ((mem & 0xff) === INT3_OPCODE && cached === undefined) return this.int3(addr);
    let bytes = cached ?? mem;
    if (cached !== undefined && cached !== mem && !this.pokeActiveAt(addr)) {
      this.report(
        'stale-fetch',
        addr,
        () =>
          `CPU ${this.c.cpu} executed a stale ftrace site at ${this.c.kallsyms.format(addr)}: cached ${hexOf(cached)}, memory ${hexOf(mem)}`,
      );
      bytes = cached;
    }
    if (cached === undefined) this.cache.set(addr, mem);
    this.emulate(addr, bytes);
  }

  /**
   * poke_int3_handler(): an int3 at the address being patched is the first byte of an instruction in
   * transition; emulate the *new* instruction, as the kernel does. Any other int3 is a real #BP.
   */
  int3(addr: number): void {
    if (this.pokeActiveAt(addr)) return this.emulate(addr, pack(this.c.km.u8, this.c.global.base + POKE_BYTES_OFFSET));
    this.c.x86.fault = {
      vector: '#BP',
      rip: addr,
      bytes: Array.from(this.c.km.u8.subarray(addr, addr + 16)),
      message: 'int3 outside code patching',
    };
    this.c.oopsCurrent();
  }

  private emulate(addr: number, bytes: number): void {
    const x86 = this.c.x86;
    if (bytes === NOP5) {
      x86.rip = addr + 5;
      return;
    }
    if ((bytes & 0xff) === CALL_REL32_OPCODE) {
      // `call ftrace_caller` (the lone ops' trampoline) or `call ftrace_ops_list_func` (several ops).
      const target = addr + 5 + (Math.floor(bytes / 0x100) | 0);
      if (target === FTRACE_CALLER || target === FTRACE_OPS_LIST_FUNC) {
        if (this.c.push(addr + 5)) x86.rip = target;
        return;
      }
    }
    this.report(
      'torn-fetch',
      addr,
      () => `CPU ${this.c.cpu} fetched a torn instruction at ftrace site ${this.c.kallsyms.format(addr)}: ${hexOf(bytes)}`,
    );
    x86.fault = { vector: '#UD', rip: addr, bytes: unpack(bytes), message: `torn instruction ${hexOf(bytes)}` };
    this.c.oopsCurrent();
  }

  private pokeActiveAt(addr: number): boolean {
    return this.c.global.get(GlobalField.PokeActive) === 1 && this.c.global.get(GlobalField.PokeAddr) === addr;
  }
}
