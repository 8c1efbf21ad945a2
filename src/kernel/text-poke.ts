/**
 * text_poke_bp(): changing a live instruction that other CPUs may be executing, as x86 Linux does it
 * (arch/x86/kernel/alternative.c). An instruction fetch of several bytes is not atomic with respect to
 * another CPU's stores, and a CPU may keep a decoded copy until it executes a serialising instruction, so
 * the bytes are changed in three steps, each followed by a sync-core IPI that every CPU acknowledges:
 *   1. write int3 over the first byte       — from now on a fetch sees int3, whose handler emulates the
 *                                              *new* instruction (poke_int3_handler, via the descriptor);
 *   2. write the tail (bytes 1..n-1)         — invisible: every fetch of this address traps on the int3;
 *   3. write the first byte of the new insn  — the new instruction is complete.
 * The descriptor (address + new bytes) is published before step 1 and withdrawn after step 3's sync, so
 * every int3 a CPU can observe at that address finds it.
 *
 * With `protocol: false` (the stress tests' skip-text-poke-bp fault) the bytes are simply stored one after
 * another with no IPI: CPUs can then fetch a torn instruction or run a stale decoded copy, which the CPU
 * side (cpu-host.ts, site()) detects and reports.
 */
import type { KernelMemory } from '../mem/kernel-memory';
import { GlobalField, GlobalView, POKE_BYTES_OFFSET } from '../mem/percpu';
import { INT3_OPCODE } from '../x86/ftrace-site';
import { hex, RawEvent } from './events';

export interface PokeEnv {
  km: KernelMemory;
  /** Sends a sync-core IPI to every online CPU and resolves once all acknowledged (bounded). */
  syncCore(): Promise<void>;
  emit(ev: RawEvent): void;
  now(): number;
  symbolize(addr: number): string;
}

export async function textPokeBp(env: PokeEnv, addr: number, next: readonly number[], protocol = true): Promise<void> {
  const { km } = env;
  const global = new GlobalView(km);
  const old = Array.from(km.u8.subarray(addr, addr + next.length));
  const ev = (phase: 'int3' | 'tail' | 'first' | 'direct', before: number[]): void =>
    env.emit({
      t: env.now(),
      cpu: null,
      type: 'text.poke',
      addr,
      symbol: env.symbolize(addr),
      old: hex(before),
      new: hex(km.u8.subarray(addr, addr + next.length)),
      phase,
    });

  if (!protocol) {
    for (let i = 0; i < next.length; i++) km.u8[addr + i] = next[i];
    ev('direct', old);
    return;
  }
  if (global.get(GlobalField.PokeActive) !== 0) throw new Error('text_poke_bp: another poke is in progress (text_mutex)');
  km.u8.set(next, global.base + POKE_BYTES_OFFSET);
  global.set(GlobalField.PokeAddr, addr);
  global.set(GlobalField.PokeLen, next.length);
  // Release: the descriptor's plain stores above are ordered before this Atomics.store, and a CPU reads
  // PokeActive with Atomics.load before it reads the bytes.
  global.set(GlobalField.PokeActive, 1);
  try {
    let before = old;
    km.u8[addr] = INT3_OPCODE;
    ev('int3', before);
    await env.syncCore();
    if (next.length > 1) {
      before = Array.from(km.u8.subarray(addr, addr + next.length));
      for (let i = 1; i < next.length; i++) km.u8[addr + i] = next[i];
      ev('tail', before);
      await env.syncCore();
    }
    before = Array.from(km.u8.subarray(addr, addr + next.length));
    km.u8[addr] = next[0];
    ev('first', before);
    await env.syncCore();
  } finally {
    global.set(GlobalField.PokeActive, 0);
  }
}
