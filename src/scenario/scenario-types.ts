/**
 * The validated, position-annotated form of a scenario file (SPEC section 2): what the runner executes.
 * Every object carries the file position it came from, so a runtime failure can point at its YAML line
 * the same way `klpsim check` does.
 */
import type { Unwinder } from '../kernel/stack-walk';
import type { KernelVersion } from '../kernel/kernel-version';
import type { ParamType } from '../kernel/module-params';
import type { TaskKind } from '../kernel/task-program';
import type { ElfObject } from '../c/elf/elf-types';

/** A place in a scenario file, 1-based. */
export interface Pos {
  file: string;
  line: number;
  col: number;
}

/** The assembly source of one symbol (a function or a data object) and where it sits in the file. */
export interface CodeBlock {
  /** The symbol name; in a livepatch object's `funcs`, the name of the function it replaces. */
  name: string;
  source: string;
  /** The position of the symbol's key in the file. */
  pos: Pos;
  /** Maps a 1-based line/col inside `source` (as the assembler reports it) to the file. */
  map(line: number, col: number): Pos;
  /** From `{ sympos: N, code }` in a livepatch object's `funcs`. */
  sympos?: number;
  /** What the assembler made of it: code (starts with an ftrace site) or data. */
  kind: 'func' | 'data';
  /** A C body (`{ c: "…" }`): the object gcc made of it (defining the function `name`); `source` is the C. */
  elf?: ElfObject;
}

/** A kernel's or module's C (`sources:`, inline `c:`) or `object:`, compiled and read. */
export interface CUnit {
  elf: ElfObject;
  /** The `sources:` entry, `c:` block or `object:` it came from. */
  pos: Pos;
}

/** An integer, or one `${param}` read when the action runs (`pos`: where its `${` is). */
export type ActionValue = number | { ref: string; pos: Pos };

/**
 * One step of a task's, init/exit's or callback's program. Strings may hold `${param}` references; the
 * runner substitutes them when the action runs (SPEC section 2), which is why `return.value` is a string.
 */
export type Action =
  | { kind: 'printk'; text: string; pos: Pos }
  | { kind: 'return'; value: string; pos: Pos }
  | { kind: 'sleep_ms'; ms: ActionValue; pos: Pos }
  | { kind: 'call'; func: string; args: ActionValue[]; pos: Pos }
  | { kind: 'start_task'; name: string; run: Action[]; cpu?: number; once: boolean; pos: Pos }
  | { kind: 'stop_task'; name: string; pos: Pos }
  /** klp_get_state(&patch, id) / klp_get_prev_state(id) (5.5+): `found` or `missing` runs. */
  | { kind: 'klp_get_state' | 'klp_get_prev_state'; id: number; found: Action[]; missing: Action[]; pos: Pos }
  /**
   * register_kprobe() on `symbol`'s entry with the given handlers (functions of the scenario); `postIf`:
   * the C code's `if (X) kp.post_handler = F;` (a bool/int value). A refused probe ends the list with the
   * errno, as `return register_kprobe(&kp);` would.
   */
  | { kind: 'register_kprobe'; symbol: string; pre?: string; post?: string; postIf?: ActionValue; pos: Pos }
  | { kind: 'unregister_kprobe'; symbol: string; pos: Pos };

export interface Callbacks {
  pre_patch?: Action[];
  post_patch?: Action[];
  pre_unpatch?: Action[];
  post_unpatch?: Action[];
}

export type CallbackName = keyof Callbacks;

export interface LivepatchObjectDef {
  /** 'vmlinux' or the name of a module defined in `modules`. */
  name: string;
  /** New functions (name = the old function's name) and the patch's own data symbols (kind 'data'). */
  funcs: CodeBlock[];
  callbacks: Callbacks;
  pos: Pos;
}

export interface LivepatchDef {
  /** '0' | '1' | 'true' | 'false', or a `${param}` reference resolved at load time. */
  replace: string;
  /** `states:` (struct klp_state, 5.5+). */
  states: { id: number; version: number; pos: Pos }[];
  objects: LivepatchObjectDef[];
  pos: Pos;
}

export interface ModuleDef {
  name: string;
  /** Parameter defaults, as the parameter's sysfs file shows them (0 -> '0', true -> 'Y'). */
  params: Record<string, string>;
  /** Each parameter's type, from its default's YAML type (module-params.ts). */
  paramTypes: Record<string, ParamType>;
  functions: CodeBlock[];
  /** The module's C sources and objects: their symbols are the module's, linked with `functions`. */
  units: CUnit[];
  init: Action[];
  exit: Action[];
  livepatch?: LivepatchDef;
  pos: Pos;
}

export interface TaskDef {
  name: string;
  /** `count: N` makes tasks NAME/0 … NAME/N-1. */
  count?: number;
  cpu?: number;
  /** `user` (the default) or `kthread` (SPEC section 8). */
  kind: TaskKind;
  run: Action[];
  pos: Pos;
}

/**
 * A parsed `sh:` command (SPEC section 4). Module names are normalised as modprobe does ('-' -> '_');
 * insmod's argument loses a directory and a `.ko` suffix. `*Col` fields are 1-based columns in the
 * command string, for errors found later (e.g. an unknown module).
 */
export type ShellCommand =
  /** params: PARAM=VALUE, or null for a bare PARAM (no equals: "set" for a bool, EINVAL for others). */
  | { cmd: 'modprobe' | 'insmod'; module: string; params: Record<string, string | null>; moduleCol: number; file?: string }
  | { cmd: 'rmmod'; module: string; moduleCol: number }
  | { cmd: 'lsmod' }
  /** `echo V > FILE` writes V to FILE; without `target`, `echo V` prints V (its arguments joined by one space). */
  /** `append`: `>>` (no O_TRUNC), which tracefs files such as set_ftrace_filter and kprobe_events tell apart. */
  | { cmd: 'echo'; value: string; target?: string; append?: boolean }
  | { cmd: 'cat'; file: string }
  | { cmd: 'ls'; dir: string }
  /** flags: single letters without the dash, in order, from i v c q E F w x. */
  | { cmd: 'grep'; pattern: string; file: string; flags: string[] }
  /**
   * procps `sysctl [-q] [-n] KEY[=VALUE]` (KEY with dots or slashes): `value` present writes it; `quiet`
   * (-q) prints nothing for a write; `valuesOnly` (-n, --values) prints the value without the key.
   */
  | { cmd: 'sysctl'; key: string; value?: string; quiet: boolean; valuesOnly: boolean; keyCol: number }
  /** `COMMAND > /dev/kmsg`: COMMAND's output goes to the kernel log; `inner` has no redirection. */
  | { cmd: 'kmsg'; inner: ShellCommand };

export interface ExpectSh {
  command: string;
  parsed: ShellCommand;
  stdout?: string;
  /** What the command writes to stderr (its error message), compared like stdout. */
  stderr?: string;
  exit?: number;
}

export type Step =
  | { kind: 'sh'; command: string; parsed: ShellCommand; quiet: boolean; pos: Pos }
  | { kind: 'wait'; what: 'transition'; timeoutMs: number; pos: Pos }
  | { kind: 'sleep_ms'; ms: number; pos: Pos }
  | {
      kind: 'expect';
      pos: Pos;
      sh?: ExpectSh;
      /** Lines expected in the kernel log in this order, others may come between. */
      dmesg?: string[];
      patched?: Record<string, boolean>;
      nops?: number;
      ftraceOps?: number;
    };

export interface Scenario {
  file: string;
  name: string;
  cpus: number;
  seed: number;
  /** `nop_removal: false` asks for the kernel before the seed, as `--no-nop-removal` does. */
  nopRemoval: boolean;
  /** `unwinder:` the reliable stack unwinder the machine is built with. */
  unwinder: Unwinder;
  /** `kernel_version:` the release whose livepatch behaviour the machine follows. */
  kernelVersion: KernelVersion;
  /** vmlinux: functions and data symbols. */
  functions: CodeBlock[];
  /** vmlinux's C sources and objects (`kernel.sources`, `kernel.c`, `kernel.object`). */
  units: CUnit[];
  /** /proc file name -> the function `cat` calls. */
  proc: Record<string, string>;
  modules: ModuleDef[];
  tasks: TaskDef[];
  steps: Step[];
}

/** SPEC defaults. */
export const DEFAULT_CPUS = 4;
export const DEFAULT_SEED = 1;
export const DEFAULT_WAIT_TIMEOUT_MS = 30000;
