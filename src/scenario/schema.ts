/**
 * The shape of a scenario file as YAML data (SPEC section 2), in zod. It checks structure and types only;
 * meaning (do functions, modules, parameters exist?) is validate-scenario.ts's job. It has no transforms,
 * so the same schema is published as JSON Schema (schema/scenario.schema.json) for editors.
 *
 * Keyed alternatives (an action is `{ printk: … }` or `{ call: … }` …) are unions of strict one-key
 * objects: that is what the JSON Schema should say, and zod-issues.ts picks the branch the user meant
 * from the key they wrote.
 */
import { z } from 'zod';
import { DEFAULT_KERNEL_VERSION, SUPPORTED_KERNEL_VERSIONS } from '../kernel/kernel-version';
import { MAX_SLEEP_MS } from '../kernel/sim-clock';
import { MAX_CPUS } from '../mem/layout';
import { MAX_SEED } from '../util/prng';

export const SYMBOL_NAME = /^[A-Za-z_][A-Za-z0-9_.]*$/;
export const MODULE_NAME = /^[A-Za-z0-9_]+$/;
export const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const PROC_NAME = /^[A-Za-z0-9_.-]+$/;

// `.` may follow the first character, as in the compiler's `f.cold` / `f.isra.0`, but not start the name:
// that is an assembler local label (`.loop`), not a symbol kallsyms would list.
const symbolName = z.string().regex(SYMBOL_NAME, { error: 'a symbol name has letters, digits, _ and ., and starts with a letter or _' });
const moduleName = z.string().regex(MODULE_NAME, { error: "a module name has only letters, digits and _ (modprobe turns '-' into '_')" });
const paramName = z.string().regex(PARAM_NAME, { error: 'a parameter name is a C identifier' });
const procName = z.string().regex(PROC_NAME, { error: 'a /proc file name has no / and no spaces' });

const int = () => z.number().int();
const cpuIndex = int()
  .min(0)
  .max(MAX_CPUS - 1);
/** Sleeps and timeouts are msleep()'s `unsigned int msecs`, so a huge one is refused, not wrapped. */
const sleepMs = () => int().min(0).max(MAX_SLEEP_MS);
/** One `${param}`, for a number that an action reads when it runs (SPEC section 2: "in strings and values"). */
const paramValue = z.string().regex(/^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/, {
  error: (iss) => `expected an integer or one \${param}, got the string '${String(iss.input).slice(0, 40)}'`,
});

/** Intel-syntax assembly of one symbol; the assembler decides whether it is a function or data. */
const asmSource = z.string().meta({ description: 'x86-64 Intel-syntax assembly of one function or data symbol (SPEC section 3)' });

/** Kernel 5.5's klp_state lookups as actions: `found` runs when the state exists, `missing` when not. */
function stateLookup(description: string) {
  return z
    .strictObject({
      id: int().min(1),
      get found() {
        return z.array(ActionSchema).optional();
      },
      get missing() {
        return z.array(ActionSchema).optional();
      },
    })
    .meta({ description });
}

export const ActionSchema = z
  .union([
    z.strictObject({ printk: z.string().meta({ description: 'one kernel log line; may use ${param}, ${object}, ${module_state}' }) }),
    z.strictObject({
      return: z.union([int(), z.string()]).meta({ description: 'an integer, e.g. -19, or ${param}; the last action only' }),
    }),
    z.strictObject({ sleep_ms: z.union([sleepMs(), paramValue]) }),
    z.strictObject({
      call: z.union([
        z.string(),
        z.strictObject({
          func: z.string(),
          args: z
            .array(z.union([int(), paramValue]))
            .max(6)
            .optional(),
        }),
      ]),
    }),
    z.strictObject({
      start_task: z.strictObject({
        name: z.string().min(1),
        get run() {
          return z.array(ActionSchema).min(1);
        },
        cpu: cpuIndex.optional(),
        once: z.boolean().optional(),
      }),
    }),
    z.strictObject({ stop_task: z.string().min(1) }),
    z.strictObject({
      klp_get_state: stateLookup('klp_get_state(&patch, id): the actions for a state this patch declares, or for none'),
    }),
    z.strictObject({
      register_kprobe: z
        .strictObject({
          symbol: z.string().min(1),
          pre_handler: z.string().min(1).optional(),
          post_handler: z.string().min(1).optional(),
          post_handler_if: z.union([z.boolean(), int(), paramValue]).optional(),
        })
        .meta({ description: 'register_kprobe() on a function entry (its ftrace site); a refused probe ends the list with the errno' }),
    }),
    z.strictObject({ unregister_kprobe: z.string().min(1).meta({ description: 'unregister_kprobe() of the probe on this function' }) }),
    z.strictObject({
      klp_get_prev_state: stateLookup('klp_get_prev_state(id): the actions for a state an older installed patch made, or for none'),
    }),
  ])
  .meta({ id: 'Action' });

const actions = z.array(ActionSchema);

/** A function written in C: its whole definition, compiled with klpsim's common headers (SPEC section 9). */
const cSource = z
  .string()
  .meta({ description: 'C: one function definition, e.g. "int f(struct seq_file *m, void *v) { … }" (SPEC section 9)' });
const cBody = z.strictObject({ c: cSource });
const functionEntry = z.union([asmSource, cBody]);
/** A kernel's or module's C sources and prebuilt objects (SPEC section 9). */
const cUnits = {
  sources: z.array(z.string().min(1)).optional().meta({ description: 'C files, relative to the scenario file' }),
  c: z.string().optional().meta({ description: 'inline C source of the object' }),
  object: z.string().min(1).optional().meta({ description: 'an ELF relocatable object (.o or .ko) built elsewhere' }),
};

// sympos is optional: 0, the kernel's default, means the symbol is unique in its object.
const funcEntry = z.union([
  asmSource,
  z.strictObject({ sympos: int().min(0).optional(), code: asmSource }),
  z.strictObject({ sympos: int().min(0).optional(), c: cSource }),
]);

export const LivepatchObjectSchema = z.strictObject({
  funcs: z.record(symbolName, funcEntry).optional(),
  callbacks: z
    .strictObject({
      pre_patch: actions.optional(),
      post_patch: actions.optional(),
      pre_unpatch: actions.optional(),
      post_unpatch: actions.optional(),
    })
    .optional(),
});

export const ModuleSchema = z.strictObject({
  params: z.record(paramName, z.union([int(), z.boolean(), z.string()])).optional(),
  functions: z.record(symbolName, functionEntry).optional(),
  ...cUnits,
  init: actions.optional(),
  exit: actions.optional(),
  livepatch: z
    .strictObject({
      replace: z.union([z.boolean(), int(), z.string()]).optional(),
      /** struct klp_state (5.5+): the system state changes the patch makes; id 0 ends the kernel's array. */
      states: z.array(z.strictObject({ id: int().min(1), version: int().min(0) })).optional(),
      objects: z.record(z.string(), LivepatchObjectSchema).optional(),
    })
    .optional(),
});

export const KernelSchema = z.strictObject({
  functions: z.record(symbolName, functionEntry).optional(),
  ...cUnits,
  proc: z.record(procName, z.string()).optional(),
});

export const TaskSchema = z.strictObject({
  name: z.string().min(1),
  count: int().min(1).max(4096).optional(),
  cpu: cpuIndex.optional(),
  /** A user process (each pass a system call; the default) or a kernel thread (SPEC section 8). */
  kind: z.enum(['user', 'kthread']).optional(),
  run: actions.min(1),
});

export const ExpectSchema = z.strictObject({
  sh: z.string().optional(),
  stdout: z.string().optional(),
  stderr: z.string().optional(),
  exit: int().optional(),
  dmesg: z.union([z.string(), z.array(z.string())]).optional(),
  patched: z.record(z.string(), z.boolean()).optional(),
  nops: int().min(0).optional(),
  ftrace_ops: int().min(0).optional(),
});

export const StepSchema = z.union([
  z.strictObject({ sh: z.string(), quiet: z.boolean().optional() }),
  z.strictObject({ wait: z.literal('transition'), timeout_ms: sleepMs().min(1).optional() }),
  z.strictObject({ sleep_ms: sleepMs() }),
  z.strictObject({ expect: ExpectSchema }),
]);

const KERNEL_VERSION_ERROR =
  `kernel_version must be a quoted release from ${SUPPORTED_KERNEL_VERSIONS[0]} to ${SUPPORTED_KERNEL_VERSIONS[SUPPORTED_KERNEL_VERSIONS.length - 1]}, e.g. "6.12" ` +
  '(YAML reads an unquoted 5.10 as the number 5.1)';

export const ScenarioSchema = z
  .strictObject({
    name: z.string().min(1),
    cpus: int().min(1).max(MAX_CPUS).default(4),
    seed: int().min(0).max(MAX_SEED).default(1),
    /** false: the scenario needs the kernel before "livepatch: Remove Nop structures when unused". */
    nop_removal: z.boolean().default(true),
    /** The reliable stack unwinder (CONFIG_UNWINDER_ORC / CONFIG_UNWINDER_FRAME_POINTER), SPEC section 8. */
    unwinder: z.enum(['orc', 'frame-pointer']).default('orc'),
    /**
     * The kernel release whose livepatch behaviour the machine follows (SPEC section 8). A string: YAML
     * reads an unquoted 5.10 as the number 5.1.
     */
    kernel_version: z
      .enum(SUPPORTED_KERNEL_VERSIONS as [string, ...string[]], { error: KERNEL_VERSION_ERROR })
      .default(DEFAULT_KERNEL_VERSION),
    kernel: KernelSchema.optional(),
    modules: z.record(moduleName, ModuleSchema).optional(),
    tasks: z.array(TaskSchema).optional(),
    steps: z.array(StepSchema).optional(),
  })
  .meta({ title: 'klpsim scenario', description: 'A klpsim live patching scenario (SPEC section 2)' });

export type RawAction = z.infer<typeof ActionSchema>;
export type RawModule = z.infer<typeof ModuleSchema>;
export type RawLivepatchObject = z.infer<typeof LivepatchObjectSchema>;
export type RawTask = z.infer<typeof TaskSchema>;
export type RawStep = z.infer<typeof StepSchema>;
export type RawExpect = z.infer<typeof ExpectSchema>;
export type RawScenario = z.infer<typeof ScenarioSchema>;
