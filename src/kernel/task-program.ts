/**
 * What a task does (SPEC section 2, `run:`): a list of actions repeated until the task is stopped, or
 * run once (`once: true`, like a work item). This is the data a CPU needs to run a task; it is sent to the
 * CPU's thread once, when the task is created.
 */
export type TaskAction =
  | { kind: 'call'; func: string; args: number[] }
  | { kind: 'sleep'; ms: number };

export interface TaskSpec {
  slot: number;
  pid: number;
  comm: string;
  cpu: number;
  run: TaskAction[];
  once: boolean;
  /** Report what the task's scratch seq_file received after each call (`task.output` events). */
  capture?: boolean;
}
