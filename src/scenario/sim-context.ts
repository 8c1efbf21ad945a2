/**
 * What the scenario runner's parts share while a scenario runs: the machine, its livepatch subsystem
 * and modules, the scenario, the kernel log so far, and task outputs.
 */
import type { Machine } from '../coordinator/machine';
import type { Livepatch } from '../livepatch/livepatch';
import type { Modules } from '../kernel/modules';
import type { Scenario } from './scenario-types';

export interface SimContext {
  m: Machine;
  klp: Livepatch;
  modules: Modules;
  scenario: Scenario;
  /** Every kernel log line so far, in order. */
  klog: string[];
  /** Output of capturing tasks (`cat /proc/...`, `call:` from the coordinator), by pid. */
  outputs: Map<number, { text: string; ret: number }>;
  /** Tasks started by name (scenario tasks and start_task), for stop_task. */
  taskPids: Map<string, number>;
}
