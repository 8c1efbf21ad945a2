/**
 * Every CPU a scenario pins a task to: `tasks:` entries and `start_task` actions wherever actions run
 * (module init and exit, livepatch callbacks, the run lists of tasks, nested start_tasks). A run with
 * fewer CPUs than the scenario (`cpus:` overridden) must refuse a pin it cannot honour before it starts,
 * as `check` would, rather than when the task is created.
 */
import type { Action, CallbackName, Scenario, Pos } from './scenario-types';
import { ScenarioError } from './scenario-error';

export interface CpuPin {
  cpu: number;
  pos: Pos;
}

function pinsIn(actions: readonly Action[], out: CpuPin[]): void {
  for (const a of actions) {
    if (a.kind === 'klp_get_state' || a.kind === 'klp_get_prev_state') {
      pinsIn(a.found, out);
      pinsIn(a.missing, out);
    }
    if (a.kind !== 'start_task') continue;
    if (a.cpu !== undefined) out.push({ cpu: a.cpu, pos: a.pos });
    pinsIn(a.run, out);
  }
}

export function cpuPins(s: Scenario): CpuPin[] {
  const out: CpuPin[] = [];
  for (const t of s.tasks) {
    if (t.cpu !== undefined) out.push({ cpu: t.cpu, pos: t.pos });
    pinsIn(t.run, out);
  }
  for (const m of s.modules) {
    pinsIn(m.init, out);
    pinsIn(m.exit, out);
    for (const o of m.livepatch?.objects ?? []) {
      for (const name of Object.keys(o.callbacks) as CallbackName[]) pinsIn(o.callbacks[name] ?? [], out);
    }
  }
  return out;
}

/**
 * The one wording of a pin past the run's CPUs, for `check` (validate-scenario.ts, at the `cpu:` field) and
 * for a library run whose `cpus` option overrides the scenario's (checkCpuPins(), at the task or action;
 * `option` names what set the CPUs: `--cpus N` on the command line, nothing for the library's option).
 */
export function cpuOutOfRange(cpu: number, runCpus: number, scenarioCpus: number, option = `, --cpus ${runCpus}`): string {
  const cpus = `${runCpus} CPU${runCpus === 1 ? '' : 's'}`;
  const range = runCpus === 1 ? '0' : `0-${runCpus - 1}`;
  const has = runCpus === scenarioCpus ? `the scenario has ${cpus} (${range})` : `the run has ${cpus} (${range}${option})`;
  return `cpu ${cpu} is out of range: ${has}`;
}

/** Throws a ScenarioError naming each pin at or past `cpus` (at the task or action that makes it). */
export function checkCpuPins(s: Scenario, cpus: number): void {
  const bad = cpuPins(s).filter((p) => p.cpu >= cpus);
  if (bad.length === 0) return;
  throw new ScenarioError(bad.map((p) => ({ pos: p.pos, message: cpuOutOfRange(p.cpu, cpus, s.cpus, '') })));
}
