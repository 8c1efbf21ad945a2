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

/** Throws a ScenarioError naming each pin at or past `cpus` (at the task or action that makes it). */
export function checkCpuPins(s: Scenario, cpus: number): void {
  const bad = cpuPins(s).filter((p) => p.cpu >= cpus);
  if (bad.length === 0) return;
  const range = cpus === 1 ? '0' : `0-${cpus - 1}`;
  throw new ScenarioError(
    bad.map((p) => ({ pos: p.pos, message: `cpu ${p.cpu} is out of range: the run has ${cpus} CPU${cpus === 1 ? '' : 's'} (${range})` })),
  );
}
