/**
 * `klpsim run` and `klpsim check`: bad input is `FILE:LINE:COL: message` on stderr and exit 2; a failed
 * expectation or an invariant violation is reported with the events leading to it, exit 1.
 */
import type { Unwinder } from '../kernel/stack-walk';
import { ScenarioError } from '../scenario/scenario-error';
import { loadScenarioFile } from '../scenario/load-scenario';
import { RunResult, Simulation } from '../scenario/simulation';
import { formatEvent, OutputFormat } from './format-event';
import { PrettyStream } from './pretty-stream';
import { writeFileSync } from 'node:fs';
import { TraceBuilder } from '../scenario/chrome-trace';

export interface RunCliOptions {
  cpus?: number;
  seed?: number;
  format: OutputFormat;
  trace?: string;
  nopRemoval: boolean;
  unwinder?: Unwinder;
  deterministic: boolean;
  verbose: boolean;
}

const out = (s: string): boolean => process.stdout.write(s);
const err = (s: string): boolean => process.stderr.write(s);

export function checkScenario(file: string): number {
  try {
    const sc = loadScenarioFile(file);
    out(`${file}: ok (${sc.functions.length} symbols, ${sc.modules.length} modules, ${sc.tasks.length} tasks, ${sc.steps.length} steps)\n`);
    return 0;
  } catch (e) {
    if (e instanceof ScenarioError) {
      err(e.message + '\n');
      return 2;
    }
    throw e;
  }
}

/** Loads a scenario for `run` and `watch`; bad input is printed here and becomes exit code 2. */
export async function openSimulation(file: string, o: Omit<RunCliOptions, 'format' | 'trace'>): Promise<Simulation | 2> {
  try {
    return await Simulation.fromFile(file, { cpus: o.cpus, seed: o.seed, deterministic: o.deterministic, nopRemoval: o.nopRemoval, unwinder: o.unwinder, verbose: o.verbose });
  } catch (e) {
    if (e instanceof ScenarioError) {
      err(e.message + '\n');
      return 2;
    }
    throw e;
  }
}

export async function runScenario(file: string, o: RunCliOptions): Promise<number> {
  const sim = await openSimulation(file, o);
  if (sim === 2) return 2;
  const trace = o.trace ? new TraceBuilder() : null;
  const pretty = o.format === 'pretty' ? new PrettyStream((line) => out(line + '\n')) : null;
  sim.events$.subscribe((ev) => {
    trace?.add(ev);
    if (pretty) return pretty.push(ev);
    const line = formatEvent(ev, o.format);
    if (line !== null) out(line + '\n');
  });
  const r = await sim.run();
  pretty?.flush();
  if (trace && o.trace) writeFileSync(o.trace, JSON.stringify(trace.build()));
  reportFailures(r);
  return r.exitCode;
}

/** Failed steps with the events leading to each, and violations, on stderr (for `run` and `watch`). */
export function reportFailures(r: RunResult): void {
  for (const f of r.failures) {
    err(`${f.pos.file}:${f.pos.line}:${f.pos.col}: ${f.message}\n`);
    err(`  events leading to it:\n`);
    for (const ev of f.recent) err(`    ${formatEvent(ev, 'pretty')}\n`);
  }
  if (r.violations > 0) err(`klpsim: ${r.violations} invariant violation(s); see the 'violation' and 'fault' events\n`);
}
