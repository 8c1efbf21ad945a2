/**
 * Kernel services that emulated code calls like ordinary functions (SPEC section 3). Each has an entry
 * point in the services window; the CPU stops there (EntryKind.Native) and the host serves the call in
 * TypeScript, then returns to the caller as `ret` would. Two more entries are not C functions:
 * `ftrace_caller` (the trampoline an enabled ftrace site calls) and `ret_from_call`, the return address
 * pushed under a task's top-level call — reaching it is the task's "return to user space" (kernel exit),
 * where the kernel calls klp_update_patch_state().
 */
import { SERVICES_BASE, SERVICES_SIZE, SERVICE_STRIDE } from '../mem/layout';
import { CORE_SERVICE_NAMES } from './core-services';
import { EARLY_COORDINATOR_SERVICES, LATER_COORDINATOR_SERVICES } from './service-request';

export const SERVICE_NAMES = [
  'printk',
  'seq_puts',
  'seq_printf',
  'msleep',
  'msleep_interruptible',
  'schedule_timeout_interruptible',
  'schedule',
  'cond_resched',
  'current_pid',
  'ftrace_caller',
  'ret_from_call',
  // After the two above, so the addresses of the older entries stay where they were.
  ...CORE_SERVICE_NAMES,
  ...EARLY_COORDINATOR_SERVICES,
  // kernel/livepatch/shadow.c (src/livepatch/shadow.ts, served through CpuHooks.service); after the
  // others, so their addresses stay where they were.
  'klp_shadow_get',
  'klp_shadow_alloc',
  'klp_shadow_get_or_alloc',
  'klp_shadow_free',
  'klp_shadow_free_all',
  // kernel/livepatch/state.c's klp_get_state(): a walk of the patch's own array (src/livepatch/state-services.ts).
  'klp_get_state',
  // The return address of a constructor or destructor a service calls (CpuHost.callNested()).
  'nested_call_ret',
  ...LATER_COORDINATOR_SERVICES,
] as const;

export type ServiceName = (typeof SERVICE_NAMES)[number];

/** Names emulated code may `call` (the other two are reached only by the machine itself). */
export const CALLABLE_SERVICES: readonly ServiceName[] = SERVICE_NAMES.filter(
  (n) => n !== 'ftrace_caller' && n !== 'ret_from_call' && n !== 'nested_call_ret',
);

export function serviceAddr(name: ServiceName): number {
  return SERVICES_BASE + SERVICE_NAMES.indexOf(name) * SERVICE_STRIDE;
}

export function serviceAt(addr: number): ServiceName | undefined {
  const off = addr - SERVICES_BASE;
  if (off < 0 || off % SERVICE_STRIDE !== 0) return undefined;
  return SERVICE_NAMES[off / SERVICE_STRIDE];
}

export const FTRACE_CALLER = serviceAddr('ftrace_caller');
export const RET_FROM_CALL = serviceAddr('ret_from_call');
export const NESTED_CALL_RET = serviceAddr('nested_call_ret');

export const SERVICES_END = SERVICES_BASE + SERVICES_SIZE;
export const isServiceAddr = (a: number): boolean => a >= SERVICES_BASE && a < SERVICES_END;
