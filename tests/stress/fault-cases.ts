/**
 * The injected faults of tests/stress/faults.test.ts with the seed under which each is caught, shared with
 * tests/stress/faults-clean.test.ts, which runs the same seeds without the fault (the two files run side by
 * side on CI's two jest workers).
 */
import type { Unwinder } from '../../src/kernel/stack-walk';
import type { KlpFault } from '../../src/livepatch/klp-state';

export const base = { cpus: 4, tasks: 16, ops: 10, deterministic: true, nopRemoval: true };

export const CASES: [KlpFault, number, string, RegExp, Unwinder][] = [
  ['skip-rcu-sync', 8, 'use-after-free', /in klp_ftrace_handler for .* read a freed klp_(func|ops)/, 'orc'],
  ['skip-text-poke-bp', 1, 'fetch', /(stale ftrace site|torn instruction)/, 'orc'],
  ['early-free', 8, 'use-after-free', /read a freed klp_func|shared list/, 'orc'],
  ['skip-stack-check', 2, 'consistency', /entered .* while its call chain holds/, 'orc'],
  ['early-transition-clear', 1, 'consistency', /entered .* while its call chain holds/, 'orc'],
  // The bug of issue 12: a task preempted in the frameless stress_fl_leaf, switched by a frame-pointer
  // walk that trusted the interrupt frame, enters the new stress_fl_next under the old stress_fl_caller.
  [
    'trust-unreliable-stack',
    1,
    'consistency',
    /entered the transition patch's version of stress_fl_next.* while its call chain holds the version without the transition patch of stress_fl_caller/,
    'frame-pointer',
  ],
  ['switch-kthreads-at-exit', 1, 'switch-point', /kthread stress_kt\/\d+:\d+ was switched at "kernel exit"/, 'orc'],
];
