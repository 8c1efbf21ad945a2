/**
 * The kernel's taint mask (kernel/panic.c): one word in the machine's global block, so every CPU's oops
 * and the coordinator's module loader see the same mask. Bits and letters are v5.1's `taint_flags[]`.
 */
import { GlobalField, GlobalView } from '../mem/percpu';

/** Bit numbers, as include/linux/kernel.h numbers them (the ones klpsim sets, and the letters' order). */
export const enum Taint {
  Die = 7,
  Livepatch = 15,
}

/** v5.1's taint_flags[]: the letter shown when the bit is set, and when it is clear (TAINT_FLAGS_COUNT = 18). */
const TAINT_FLAGS: readonly (readonly [string, string])[] = [
  ['P', 'G'],
  ['F', ' '],
  ['S', ' '],
  ['R', ' '],
  ['M', ' '],
  ['B', ' '],
  ['U', ' '],
  ['D', ' '],
  ['A', ' '],
  ['W', ' '],
  ['C', ' '],
  ['I', ' '],
  ['O', ' '],
  ['E', ' '],
  ['L', ' '],
  ['K', ' '],
  ['X', ' '],
  ['T', ' '],
];

/** add_taint(): sets the bit for good; true when it was not set before (for pr_*_once() notices). */
export function addTaint(global: GlobalView, flag: Taint): boolean {
  const old = global.or(GlobalField.Taint, 1 << flag);
  return (old & (1 << flag)) === 0;
}

export function taintMask(global: GlobalView): number {
  return global.get(GlobalField.Taint);
}

/** print_tainted(): `Not tainted`, or `Tainted: ` and one letter (or blank) per flag. */
export function printTainted(mask: number): string {
  if (mask === 0) return 'Not tainted';
  return 'Tainted: ' + TAINT_FLAGS.map(([on, off], i) => ((mask >>> i) & 1 ? on : off)).join('');
}
