/**
 * `klpsim bench` / `npm run bench`: the figures of SPEC section 6 that exist so far, measured in one run
 * so the ratios compare like with like on a noisy machine.
 */
import { measureGccCode, measureInterpreter, measureSpinLoop, measureToyCeiling } from './interpreter';
import { measureMachine, ThroughputResult } from './machine-throughput';
import { CallCost, measureCallCost } from './call-cost';
import { FtraceListCost, measureFtraceListCost } from './ftrace-list-cost';
import { LatencyResult, measureTransition } from './transition-latency';
import { EventsBench, measureEvents } from './events';
import { measureStackCheck, StackCheckCost } from './stack-check';
import { FULL, renderTargets, runTargets, TargetLine, TargetSizes, transitionTarget } from './targets';

export interface BenchOptions {
  json: boolean;
  ms: number;
  out(s: string): void;
  /** Sizes of the benchmarks with targets (default FULL). */
  targetSizes?: TargetSizes;
}

export interface BenchReport {
  toyCeiling: number;
  interpreter: number;
  interpreterVsCeiling: number;
  /** `dec ecx; jnz` (the stress workload's spin loops): block compiler, and the interpreter alone */
  spinLoop: { compiled: number; interpreted: number };
  /** gcc -O2 output with the kernel's flags (src/bench/gcc-bench.c): block compiler, and the interpreter alone */
  gccCode: { compiled: number; interpreted: number };
  machine: ThroughputResult[];
  scaling2: number;
  callCost: CallCost;
  /** A live-patched call whose site the function tracer shares (ftrace_ops_list_func) vs the patch alone. */
  ftraceListCost: FtraceListCost;
  transition: LatencyResult[];
  events: EventsBench;
  stackCheck: StackCheckCost[];
  /** The benchmarks held to issue #13's targets, by section. */
  targets: { title: string; lines: TargetLine[] }[];
}

const M = (v: number): string => `${(v / 1e6).toFixed(1)} M/s`;

export async function runBench(o: BenchOptions): Promise<BenchReport> {
  const toy = measureToyCeiling({ ms: o.ms });
  const interp = measureInterpreter({ ms: o.ms });
  const spinLoop = {
    compiled: measureSpinLoop({ ms: o.ms }).instrPerSec,
    interpreted: measureSpinLoop({ ms: o.ms, jitHot: 0 }).instrPerSec,
  };
  const gccCode = {
    compiled: measureGccCode({ ms: o.ms }).instrPerSec,
    interpreted: measureGccCode({ ms: o.ms, jitHot: 0 }).instrPerSec,
  };
  const machine: ThroughputResult[] = [];
  // Best of three per CPU count: on a 2-vCPU VM a worker thread is sometimes descheduled for a while,
  // and the others then wait for it at the clock window; the best run shows what the design can do.
  for (const cpus of [1, 2, 4]) {
    let best: ThroughputResult | null = null;
    for (let i = 0; i < 3; i++) {
      const r = await measureMachine(cpus, Math.max(300, Math.round(o.ms / 2)));
      if (!best || r.instrPerSec > best.instrPerSec) best = r;
    }
    machine.push(best as ThroughputResult);
  }
  const callCost = await measureCallCost(o.ms);
  const ftraceListCost = await measureFtraceListCost(o.ms);
  const transition: LatencyResult[] = [];
  for (const n of [8, 64, 512]) transition.push(await measureTransition(n));
  const events = await measureEvents(o.ms);
  const stackCheck = await measureStackCheck(Math.max(300, Math.round(o.ms / 2)));
  const targets = await runTargets(o.targetSizes ?? FULL);
  const t512 = transition.find((t) => t.tasks === 512);
  if (t512) targets.push({ title: 'transition latency (from the section above)', lines: [transitionTarget(512, t512.realMs)] });
  const report: BenchReport = {
    toyCeiling: toy.instrPerSec,
    interpreter: interp.instrPerSec,
    interpreterVsCeiling: interp.instrPerSec / toy.instrPerSec,
    spinLoop,
    gccCode,
    machine,
    scaling2: machine[1].instrPerSec / machine[0].instrPerSec,
    callCost,
    ftraceListCost,
    transition,
    events,
    stackCheck,
    targets,
  };
  if (o.json) {
    o.out(JSON.stringify(report, null, 2) + '\n');
    return report;
  }
  o.out(`emulated instructions per second (${o.ms} ms each)\n`);
  o.out(`  JS ceiling (toy typed-array interpreter loop) ${M(toy.instrPerSec)}\n`);
  o.out(
    `  x86 interpreter, one thread, call-heavy loop   ${M(interp.instrPerSec)}  (${(report.interpreterVsCeiling * 100).toFixed(0)}% of ceiling)\n`,
  );
  o.out(`  dec ecx; jnz spin loop, one thread           ${M(spinLoop.compiled)}  (interpreter alone ${M(spinLoop.interpreted)})\n`);
  o.out(`  gcc -O2 kernel-flags C (CRC, switch), one thread ${M(gccCode.compiled)}  (interpreter alone ${M(gccCode.interpreted)})\n`);
  for (const r of machine) o.out(`  machine, ${r.cpus} CPU worker(s), aggregate, best of 3 ${M(r.instrPerSec)}\n`);
  o.out(`  scaling 2 workers / 1 worker                    ${report.scaling2.toFixed(2)}x\n`);
  o.out(`cost of a call (one lockstep CPU; ratio to a never-patched call)\n`);
  const cc = callCost;
  o.out(`  never patched                 ${cc.nsPerCall.never.toFixed(0).padStart(6)} ns  1.00x\n`);
  o.out(`  patched (redirected)          ${cc.nsPerCall.patched.toFixed(0).padStart(6)} ns  ${cc.ratio.patched.toFixed(2)}x\n`);
  o.out(`  NOP on func_stack (pre-seed)  ${cc.nsPerCall.nop.toFixed(0).padStart(6)} ns  ${cc.ratio.nop.toFixed(2)}x\n`);
  o.out(`  after NOP removal (the seed)  ${cc.nsPerCall.removed.toFixed(0).padStart(6)} ns  ${cc.ratio.removed.toFixed(2)}x\n`);
  const fl = ftraceListCost;
  o.out(`cost of a live-patched call when the function tracer shares its site (one lockstep CPU; ratio to the patch alone)\n`);
  for (const [name, c] of [
    ['patched alone (ftrace_caller)', 'patched'],
    ['patched + tracer (list func)', 'patched+tracer'],
    ['tracer alone (ftrace_caller)', 'tracer'],
  ] as const) {
    const p = fl.perCall[c];
    o.out(
      `  ${name.padEnd(30)} ${p.realNsPerCall.toFixed(0).padStart(6)} ns real  ${(p.realNsPerCall / fl.perCall.patched.realNsPerCall).toFixed(2)}x   ${p.simNsPerCall.toFixed(0).padStart(4)} ns simulated  ${(p.simNsPerCall / fl.perCall.patched.simNsPerCall).toFixed(2)}x\n`,
    );
  }
  o.out(`transition latency, enable -> "patching complete" (4 CPU workers)\n`);
  for (const t of transition)
    o.out(
      `  ${String(t.tasks).padStart(4)} tasks: ${t.simMs.toFixed(0).padStart(6)} ms simulated, ${t.realMs.toFixed(0).padStart(6)} ms real\n`,
    );
  o.out(`events through events$ (flagship, deterministic; events / wall time of the run)\n`);
  for (const r of events.stream)
    o.out(
      `  ${r.subscribers} subscriber(s)  ${(r.eventsPerSec / 1e3).toFixed(1).padStart(8)} k/s  (${r.events} events in ${r.wallMs.toFixed(0)} ms)\n`,
    );
  for (const r of events.rawSubject) o.out(`  bare Subject, ${r.subscribers} subscriber(s)  ${M(r.eventsPerSec)}\n`);
  const w = events.watch;
  o.out(
    `  watch attached (10 Hz, discarded output): ${w.watchMs.toFixed(0)} ms vs ${w.plainMs.toFixed(0)} ms, ${w.slowdown.toFixed(2)}x (${w.frames} frames)\n`,
  );
  o.out(`stack check per transition retry (${stackCheck[0]?.tasks} tasks asleep ${stackCheck[0]?.frames} frames deep)\n`);
  for (const c of stackCheck)
    o.out(
      `  ${c.unwinder.padEnd(14)} ${c.usPerRetry.toFixed(1).padStart(8)} us per retry  (${(c.usPerRetry / c.tasks).toFixed(2)} us a task${c.reliable ? '' : ', unreliable'})\n`,
    );
  o.out(renderTargets(targets));
  return report;
}
