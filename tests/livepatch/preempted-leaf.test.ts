/**
 * Issue 12, "what is wrong" 1: a task preempted (its timeslice ran out) inside a frameless leaf called by
 * a patched function. The rbp chain skips the patched caller, so a frame-pointer walk that trusts the
 * interrupt frame switches the task while the old caller is on its stack, and the old caller then calls
 * the new version of another function: a consistency violation. The kernel's frame-pointer unwinder
 * refuses such a stack (kernel-mode pt_regs on it); ORC walks it exactly. Each case runs with many
 * timeslices, so the preemption falls on many different instructions.
 */
import { mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import type { SimEvent } from '../../src/kernel/events';
import type { Unwinder } from '../../src/kernel/stack-walk';
import type { KlpFault } from '../../src/livepatch/klp-state';
import { Simulation } from '../../src/scenario/simulation';
import { Prng } from '../../src/util/prng';

const CALLER = ['push rbp', 'mov rbp, rsp', 'call leaf', 'call leaf2', 'pop rbp', 'ret'];
const block = (lines: string[], indent: number): string => lines.map((l) => '\n' + ' '.repeat(indent) + l).join('');

const SCENARIO = `
name: preempted inside a frameless leaf
cpus: 1
kernel:
  functions:
    leaf: |
      mov ecx, 400
      spin:
      dec ecx
      jnz spin
      ret
    leaf2: |
      xor eax, eax
      ret
    caller: |${block(CALLER, 6)}
    outer: |
      push rbp
      mov rbp, rsp
      push rbx
      mov ebx, 40
      again:
      call caller
      dec ebx
      jnz again
      pop rbx
      pop rbp
      ret
modules:
  lp:
    livepatch:
      objects:
        vmlinux:
          funcs:
            caller: |${block(CALLER, 14)}
            leaf2: |
              mov eax, 1
              ret
tasks:
  - name: busy
    count: 2
    run: [ { call: outer } ]
steps:
  - sleep_ms: 1
  - sh: modprobe lp
  # Long enough for every pass to end (each busy task switches at its kernel exit); a wait step would poll
  # in 10 ms steps of busy emulation.
  - sleep_ms: 1
`;

const file = join(mkdtempSync(join(tmpdir(), 'klpsim-preempt-')), 'preempted-leaf.yaml');
writeFileSync(file, SCENARIO);

interface Outcome {
  violations: string[];
  log: string[];
}

async function run(deterministic: boolean, unwinder: Unwinder, timeslice: number, faults: KlpFault[] = []): Promise<Outcome> {
  const sim = await Simulation.fromFile(file, { deterministic, unwinder, timeslice, faults, verbose: true, retryMs: 0.02 });
  const out: Outcome = { violations: [], log: [] };
  sim.events$.subscribe((e: SimEvent) => {
    if (e.type === 'violation') out.violations.push(String(e.message));
    if (e.type === 'log') out.log.push(String(e.text));
  });
  await sim.run();
  return out;
}

const timeslices = (seed: number, n: number): number[] => {
  const rng = new Prng(seed);
  return Array.from({ length: n }, () => rng.int(150, 1500));
};

describe.each([
  ['--deterministic', true, 8],
  ['worker threads', false, 3],
])('a task preempted in a frameless leaf called by a patched function (%s)', (_name, deterministic, n) => {
  it.each<[Unwinder]>([['orc'], ['frame-pointer']])(
    'is never switched while the old caller is on its stack (%s)',
    async (unwinder) => {
      const seen = new Set<string>();
      for (const ts of timeslices(7, n)) {
        const r = await run(deterministic, unwinder, ts);
        expect(r.violations).toEqual([]);
        for (const l of r.log) {
          const m = /^livepatch: klp_try_switch_task: busy\/\d+:\d+ (has an unreliable stack|is sleeping on function caller)$/.exec(l);
          if (m) seen.add(m[1]);
        }
      }
      // The frame-pointer unwinder refuses the interrupted stack; ORC sees the caller on it.
      if (deterministic) expect([...seen]).toEqual([unwinder === 'orc' ? 'is sleeping on function caller' : 'has an unreliable stack']);
    },
    120_000,
  );

  it('trusting a frame-pointer walk through the interrupt frame (trust-unreliable-stack) is caught', async () => {
    let caught = 0;
    for (const ts of timeslices(7, n)) {
      const r = await run(deterministic, 'frame-pointer', ts, ['trust-unreliable-stack']);
      if (
        r.violations.some((v) =>
          /entered the transition patch's version of leaf2.* while its call chain holds the version without the transition patch of caller/.test(
            v,
          ),
        )
      )
        caught++;
    }
    expect(caught).toBeGreaterThan(0);
  }, 120_000);
});
