/**
 * The physical layout of the simulated machine's memory: one SharedArrayBuffer ("kmem") that every CPU
 * worker and the coordinator map at the same addresses.
 *
 *   0x0000_0000  null page                       no access: a NULL dereference is a #PF, as in the kernel
 *   0x0000_1000  kernel services window          X: printk, seq_puts, ..., ftrace_caller; served natively
 *   0x0010_0000  text (vmlinux, then modules)    R+X once written (set by the loader)
 *   DATA         data and module parameters      R+W
 *   FTRACE       ftrace / livepatch table        host-only (no emulated access): ops, func_stack, klp_func
 *   KSYMS        kallsyms records                host-only
 *   TASKS        task structs                    R (C reads current->pid, ->comm; include/linux/sched.h)
 *   PERCPU       per-CPU areas                   host-only
 *   STACKS       one THREAD_SIZE stack per task  R+W, each below a guard page (stack overflow is a #PF)
 *   SHADOW       klp_shadow hash and variables   R+W (shadow-layout.ts: emulated code holds pointers to the data)
 *
 * "Host-only" regions are read and written by TypeScript code on the CPU threads and the coordinator
 * through the typed views in this folder; their pages have no permissions, so emulated code that wanders
 * there faults instead of corrupting the simulator's own bookkeeping.
 *
 * All region sizes depend only on MachineConfig, so every thread computes the same layout from the config
 * it was given: nothing about the layout is ever sent between threads.
 */
import { PAGE_SIZE } from '../x86/cpu-types';

export interface MachineConfig {
  cpus: number;
  /** Upper bound on tasks (kernel threads) ever created; sizes TASKS and STACKS. */
  maxTasks: number;
  textSize: number;
  dataSize: number;
  ftraceSize: number;
}

/**
 * The most CPUs a machine has (its NR_CPUS). Each CPU is a worker thread with its own per-CPU area, so
 * the bound keeps a run's threads and memory within what one host process can hold; every command and
 * the scenario schema use this one value.
 */
export const MAX_CPUS = 64;

/**
 * Text and data are sized for a scenario of about 100 000 small functions (a vmlinux's worth of
 * symbols): sizes are address space, not memory, until the loader writes there (a SharedArrayBuffer's
 * pages are zero-filled on first touch).
 */
export const DEFAULT_MACHINE: MachineConfig = {
  cpus: 4,
  maxTasks: 256,
  textSize: 16 << 20,
  dataSize: 8 << 20,
  ftraceSize: 1 << 20,
};

export const SERVICES_BASE = 0x1000;
export const SERVICES_SIZE = PAGE_SIZE;
/** Each kernel service entry point is this far apart inside the services window. */
export const SERVICE_STRIDE = 16;
export const TEXT_BASE = 0x10_0000;

/** THREAD_SIZE on x86-64 (16 KiB), plus one unmapped guard page under each stack. */
export const THREAD_SIZE = 16 * 1024;
export const STACK_SLOT = THREAD_SIZE + PAGE_SIZE;

export const KSYM_RECORD = 128;
/** Records of the kallsyms table (record 0 is its header): a vmlinux has about 100 000 symbols. */
export const MAX_KSYMS = 131072;
export const TASK_STRUCT_SIZE = 256;
export const PERCPU_SIZE = 256;
/** The shadow variable area (kernel/livepatch/shadow.c's hash table and the variables), see shadow-layout.ts. */
export const SHADOW_SIZE = 1 << 20;

export interface Layout {
  config: MachineConfig;
  servicesBase: number;
  textBase: number;
  textEnd: number;
  dataBase: number;
  dataEnd: number;
  ftraceBase: number;
  ftraceEnd: number;
  ksymsBase: number;
  ksymsEnd: number;
  tasksBase: number;
  tasksEnd: number;
  percpuBase: number;
  percpuEnd: number;
  stacksBase: number;
  stacksEnd: number;
  shadowBase: number;
  shadowEnd: number;
  /** Total bytes of kmem (a multiple of PAGE_SIZE). */
  size: number;
}

const pageAlign = (n: number): number => Math.ceil(n / PAGE_SIZE) * PAGE_SIZE;

export function computeLayout(config: MachineConfig): Layout {
  const textBase = TEXT_BASE;
  const textEnd = textBase + pageAlign(config.textSize);
  const dataBase = textEnd;
  const dataEnd = dataBase + pageAlign(config.dataSize);
  const ftraceBase = dataEnd;
  const ftraceEnd = ftraceBase + pageAlign(config.ftraceSize);
  const ksymsBase = ftraceEnd;
  const ksymsEnd = ksymsBase + pageAlign(KSYM_RECORD * MAX_KSYMS);
  const tasksBase = ksymsEnd;
  const tasksEnd = tasksBase + pageAlign(TASK_STRUCT_SIZE * config.maxTasks);
  const percpuBase = tasksEnd;
  // One global control block, then one area per CPU.
  const percpuEnd = percpuBase + pageAlign(PERCPU_SIZE * (config.cpus + 1));
  const stacksBase = percpuEnd;
  const stacksEnd = stacksBase + STACK_SLOT * config.maxTasks;
  // One unmapped page between the last stack and the shadow area: the last stack has no guard above it.
  const shadowBase = pageAlign(stacksEnd) + PAGE_SIZE;
  const shadowEnd = shadowBase + SHADOW_SIZE;
  return {
    config,
    servicesBase: SERVICES_BASE,
    textBase,
    textEnd,
    dataBase,
    dataEnd,
    ftraceBase,
    ftraceEnd,
    ksymsBase,
    ksymsEnd,
    tasksBase,
    tasksEnd,
    percpuBase,
    percpuEnd,
    stacksBase,
    stacksEnd,
    shadowBase,
    shadowEnd,
    size: pageAlign(shadowEnd),
  };
}

/** The lowest address of task `slot`'s stack (the guard page sits just below it) and its top (initial rsp). */
export function stackOf(layout: Layout, slot: number): { base: number; top: number } {
  const base = layout.stacksBase + slot * STACK_SLOT + PAGE_SIZE;
  return { base, top: base + THREAD_SIZE };
}
