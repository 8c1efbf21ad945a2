/**
 * Kernel services that only the coordinator can perform, called from C like any function: the CPU saves
 * the call's arguments in the task struct and posts a request (the bounded path of task-request.ts), the
 * task blocks inside the service with its return address on the stack — so a stack walk sees the caller,
 * as it would see the kernel thread inside the function — and returns to its caller with the answer in
 * rax. klp_enable_patch() is one: the livepatch core runs in the coordinator, which holds klp_mutex;
 * kthread_create_on_node() and the work-queue calls create and stop tasks, which only the coordinator
 * can (it owns task slots and pids), as kthreadd does for the kernel.
 */
import type { TaskView } from '../mem/task-struct';
import { TaskField } from '../mem/task-struct';

const FIRST_COORDINATOR_SERVICES = [
  'klp_enable_patch',
  'kthread_create_on_node',
  'wake_up_process',
  'kthread_stop',
  'schedule_work',
  'schedule_delayed_work',
  'cancel_work_sync',
  'cancel_delayed_work_sync',
  'flush_work',
  'flush_delayed_work',
  // kernel/livepatch/state.c: it reads klp_patches and klp_transition_patch, the coordinator's.
  'klp_get_prev_state',
] as const;

/** The services in the order their entry points were first added (services.ts keeps their addresses). */
export const EARLY_COORDINATOR_SERVICES = FIRST_COORDINATOR_SERVICES;

/**
 * Added later, so their entry points come after every older service and the older addresses stay where
 * they were. kernel/sched/completion.c's complete(), complete_all(), wait_for_completion(): the waiters
 * are the coordinator's (src/scenario/c-completions.ts).
 */
export const LATER_COORDINATOR_SERVICES = ['complete', 'complete_all', 'wait_for_completion'] as const;

export const COORDINATOR_SERVICE_NAMES = [...FIRST_COORDINATOR_SERVICES, ...LATER_COORDINATOR_SERVICES] as const;

export type CoordinatorService = (typeof COORDINATOR_SERVICE_NAMES)[number];

export const isCoordinatorService = (name: string): name is CoordinatorService =>
  (COORDINATOR_SERVICE_NAMES as readonly string[]).includes(name);

/**
 * ReqAction of a service request: below zero, so it never names an action of the task's run list.
 * -1 - index in COORDINATOR_SERVICE_NAMES.
 */
export const serviceRequestCode = (name: CoordinatorService): number => -1 - COORDINATOR_SERVICE_NAMES.indexOf(name);

export function serviceOfRequest(code: number): CoordinatorService | undefined {
  return code < 0 ? COORDINATOR_SERVICE_NAMES[-1 - code] : undefined;
}

/** How many argument registers a request carries (rdi, rsi, rdx, rcx): every service here takes at most four. */
export const SERVICE_REQUEST_ARGS = 4;

/** Written by the task's CPU before it stores REQ_POSTED, read by the coordinator after it sees it. */
export function writeServiceArgs(view: TaskView, args: bigint[]): void {
  for (let i = 0; i < SERVICE_REQUEST_ARGS; i++) view.set64(TaskField.ReqArgs + 2 * i, args[i] ?? 0n);
}

export function readServiceArgs(view: TaskView): bigint[] {
  const out: bigint[] = [];
  for (let i = 0; i < SERVICE_REQUEST_ARGS; i++) out.push(view.get64(TaskField.ReqArgs + 2 * i));
  return out;
}
