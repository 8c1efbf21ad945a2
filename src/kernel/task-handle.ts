/**
 * A task as the coordinator holds it: what `for_each_process_thread()` hands the livepatch core, and what
 * spawning a task returns. The task's state itself is in its task_struct in shared memory (`view`).
 */
import type { TaskView } from '../mem/task-struct';
import type { TaskKind } from './task-program';

export interface TaskHandle {
  pid: number;
  slot: number;
  cpu: number;
  comm: string;
  kind: TaskKind;
  /**
   * The task's slot. Once the task has ended the slot may be given to a newer task, so ask
   * `taskEnded(view, pid)` rather than reading its State.
   */
  view: TaskView;
}
