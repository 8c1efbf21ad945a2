/**
 * `klpsim run` and `klpsim check`: bad input is `FILE:LINE:COL: message` on stderr and exit 2; a failed
 * expectation or an invariant violation is reported with the events leading to it, exit 1.
 */
import { ScenarioError } from '../scenario/scenario-error';
import { loadScenarioFile } from '../scenario/load-scenario';
import type { SimEvent } from '../kernel/events';
import { RunResult, ScenarioRunOptions, Simulation } from '../scenario/simulation';
import { formatEvent, OutputFormat } from './format-event';
import { PrettyStream } from './pretty-stream';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { strerror } from '../scenario/errno';
import { TraceBuilder } from '../scenario/chrome-trace';

export interface RunCliOptions extends ScenarioRunOptions {
  format: OutputFormat;
  trace?: string;
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
export async function openSimulation(file: string, o: ScenarioRunOptions): Promise<Simulation | 2> {
  try {
    return await Simulation.fromFile(file, {
      cpus: o.cpus,
      seed: o.seed,
      deterministic: o.deterministic,
      nopRemoval: o.nopRemoval,
      unwinder: o.unwinder,
      kernelVersion: o.kernelVersion,
      verbose: o.verbose,
    });
  } catch (e) {
    if (e instanceof ScenarioError) {
      err(e.message + '\n');
      return 2;
    }
    throw e;
  }
}

/**
 * Creates (or truncates) an output file before the run, as a shell redirection does, so a path that
 * cannot be written is bad input found at once rather than after the whole run; null after printing why.
 */
function openOutput(option: string, path: string): number | null {
  try {
    return openSync(path, 'w');
  } catch (e) {
    const errno = typeof e === 'object' && e !== null && 'errno' in e && typeof e.errno === 'number' ? e.errno : undefined;
    const why =
      errno !== undefined ? strerror(errno) : typeof e === 'object' && e !== null && 'message' in e ? String(e.message) : String(e);
    err(`klpsim: ${option} ${path}: cannot create file: ${why}\n`);
    return null;
  }
}

export async function runScenario(file: string, o: RunCliOptions): Promise<number> {
  const sim = await openSimulation(file, o);
  if (sim === 2) return 2;
  let traceFd: number | null = null;
  if (o.trace !== undefined) {
    traceFd = openOutput('--trace', o.trace);
    if (traceFd === null) {
      await sim.dispose();
      return 2;
    }
  }
  try {
    return await runOpened(sim, o, traceFd);
  } finally {
    if (traceFd !== null) closeSync(traceFd);
  }
}

async function runOpened(sim: Simulation, o: RunCliOptions, traceFd: number | null): Promise<number> {
  const trace = traceFd !== null ? new TraceBuilder() : null;
  const pretty = o.format === 'pretty' ? new PrettyStream((line) => out(line + '\n')) : null;
  sim.events$.subscribe((ev) => {
    trace?.add(ev);
    if (pretty) return pretty.push(ev);
    const line = formatEvent(ev, o.format);
    if (line !== null) out(line + '\n');
  });
  const r = await sim.run();
  pretty?.flush();
  if (trace && traceFd !== null) writeFileSync(traceFd, JSON.stringify(trace.build()));
  reportFailures(r);
  return r.exitCode;
}

/** Failed steps with the events leading to each, and violations, on stderr (for `run` and `watch`). */
export function reportFailures(r: RunResult): void {
  const leadingEvents = (recent: readonly SimEvent[]): void => {
    if (recent.length === 0)
      err(`  events leading to it: none since the run started, besides task state changes (--format ndjson shows them)\n`);
    else err(`  events leading to it (task state changes left out):\n`);
    for (const ev of recent) err(`    ${formatEvent(ev, 'pretty')}\n`);
  };
  for (const f of r.failures) {
    err(`${f.pos.file}:${f.pos.line}:${f.pos.col}: ${f.message}\n`);
    leadingEvents(f.recent);
  }
  if (r.violations > 0) err(`klpsim: ${r.violations} invariant violation(s); see the 'violation' and 'fault' events\n`);
  for (const v of r.violationReports) {
    err(`  ${formatEvent(v.event, 'pretty')}\n`);
    leadingEvents(v.recent);
  }
}
