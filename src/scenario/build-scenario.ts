/**
 * Builds the typed Scenario from the YAML data, with positions. It is lenient on purpose: each part (a
 * symbol, an action, a task, a step, a module's field) is parsed on its own, and a part that does not fit
 * the schema is left out rather than stopping the build. The whole-file schema check reports those parts;
 * the semantic checks then still run over everything else, so one `check` lists every problem.
 */
import { paramDefaultText, paramTypeOf } from '../kernel/module-params';
import { DEFAULT_UNWINDER, type Unwinder } from '../kernel/stack-walk';
import { KernelVersion } from '../kernel/kernel-version';
import type { z } from 'zod';
import { AssembledBlock, buildCodeBlock } from './code-block';
import { CContext, compileFunctionBody, compileInline, compileSourceFile, readObjectFile } from './c-units';
import { sectionClass } from '../c/elf/sections';
import type { ElfObject } from '../c/elf/elf-types';
import { FieldLocations } from './field-locations';
import type { Path, SourcePositions } from './positions';
import type { ScenarioDiagnostic } from './scenario-error';
import {
  Action,
  ActionValue,
  Callbacks,
  CodeBlock,
  CUnit,
  DEFAULT_CPUS,
  DEFAULT_SEED,
  DEFAULT_WAIT_TIMEOUT_MS,
  LivepatchObjectDef,
  ModuleDef,
  Scenario,
  Step,
  TaskDef,
} from './scenario-types';
import { ActionSchema, ExpectSchema, ScenarioSchema, StepSchema, TaskSchema, RawAction } from './schema';
import { parseShellCommand, ShellParseError } from './shell-command';

export interface BuiltScenario {
  scenario: Scenario;
  blocks: Map<CodeBlock, AssembledBlock>;
  fields: FieldLocations;
  /** Shell commands that did not parse (already reported): their steps are left out. */
  diagnostics: ScenarioDiagnostic[];
  /** Some C did not compile or an object did not read (reported): the symbols it defines are unknown. */
  cFailed: boolean;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function parsed<T>(schema: z.ZodType<T>, v: unknown): T | undefined {
  const r = schema.safeParse(v);
  return r.success ? r.data : undefined;
}

/** Bytes an object's allocated sections take (what machine-fit counts for a C function). */
function loadedSize(elf: ElfObject): number {
  return elf.sections.reduce((n, sec) => n + (sectionClass(sec) ? sec.size : 0), 0);
}

const CALLBACK_NAMES = ['pre_patch', 'post_patch', 'pre_unpatch', 'post_unpatch'] as const;

class Builder {
  readonly blocks = new Map<CodeBlock, AssembledBlock>();
  readonly fields = new FieldLocations();
  readonly diagnostics: ScenarioDiagnostic[] = [];

  get cDiagnostics(): ScenarioDiagnostic[] {
    return this.c.diagnostics;
  }

  constructor(
    private readonly positions: SourcePositions,
    private readonly c: CContext,
  ) {}

  private field(obj: object, name: string, path: Path): void {
    this.fields.set(obj, name, this.positions.locator(path));
  }

  private block(name: string, path: Path, value: unknown, object: string): CodeBlock | undefined {
    if (isObject(value) && typeof value['c'] === 'string') return this.cBlock(name, path, value['c'], value['sympos'], object);
    let source: unknown = value;
    let sourcePath = path;
    let sympos: number | undefined;
    if (isObject(value)) {
      source = value['code'];
      sourcePath = [...path, 'code'];
      sympos = typeof value['sympos'] === 'number' ? value['sympos'] : undefined;
    }
    if (typeof source !== 'string') return undefined;
    const built = buildCodeBlock(this.positions, this.diagnostics, name, path, sourcePath, source, sympos);
    this.blocks.set(built.block, built);
    return built.block;
  }

  /** A function in C: compiled now, so `check` shows gcc's errors. */
  private cBlock(name: string, path: Path, source: string, sympos: unknown, object: string): CodeBlock {
    const map = this.positions.locator([...path, 'c']);
    const block: CodeBlock = { name, source, pos: this.positions.keyPos(path), map, kind: 'func' };
    if (typeof sympos === 'number') block.sympos = sympos;
    const elf = compileFunctionBody(this.c, object, name, source, map, this.positions.nodePos([...path, 'c']));
    if (elf) block.elf = elf;
    this.blocks.set(block, { block, ok: elf !== undefined, relocs: [], size: elf ? loadedSize(elf) : 0 });
    return block;
  }

  /** An object's `sources:`, inline `c:` and `object:`. */
  units(raw: Record<string, unknown>, path: Path, object: string): CUnit[] {
    const out: CUnit[] = [];
    const add = (elf: ElfObject | undefined, pos: CUnit['pos']): void => {
      if (elf) out.push({ elf, pos });
    };
    if (Array.isArray(raw['sources'])) {
      raw['sources'].forEach((src: unknown, i) => {
        if (typeof src !== 'string' || src === '') return;
        const pos = this.positions.nodePos([...path, 'sources', i]);
        add(compileSourceFile(this.c, object, src, pos), pos);
      });
    }
    if (typeof raw['c'] === 'string') {
      const pos = this.positions.nodePos([...path, 'c']);
      add(compileInline(this.c, object, raw['c'], this.positions.locator([...path, 'c']), pos), pos);
    }
    if (typeof raw['object'] === 'string' && raw['object'] !== '') {
      const pos = this.positions.nodePos([...path, 'object']);
      add(readObjectFile(this.c, raw['object'], pos), pos);
    }
    return out;
  }

  /** Every entry of a symbol map (names are checked by the schema, bodies by the assembler or gcc). */
  blocksOf(raw: unknown, path: Path, object: string): CodeBlock[] {
    if (!isObject(raw)) return [];
    const out: CodeBlock[] = [];
    for (const [name, value] of Object.entries(raw)) {
      const b = this.block(name, [...path, name], value, object);
      if (b) out.push(b);
    }
    return out;
  }

  actions(raw: unknown, path: Path): Action[] {
    if (!Array.isArray(raw)) return [];
    const out: Action[] = [];
    raw.forEach((item: unknown, i) => {
      const a = parsed(ActionSchema, item);
      if (a) out.push(this.action(a, [...path, i]));
    });
    return out;
  }

  private action(a: RawAction, path: Path): Action {
    const pos = this.positions.nodePos(path);
    if ('printk' in a) {
      const act: Action = { kind: 'printk', text: a.printk, pos };
      this.field(act, 'text', [...path, 'printk']);
      return act;
    }
    if ('return' in a) {
      const act: Action = { kind: 'return', value: String(a.return), pos };
      this.field(act, 'value', [...path, 'return']);
      return act;
    }
    if ('sleep_ms' in a) return { kind: 'sleep_ms', ms: this.value(a.sleep_ms, [...path, 'sleep_ms']), pos };
    if ('call' in a) {
      const c = a.call;
      const args = typeof c === 'string' ? [] : (c.args ?? []).map((v, i) => this.value(v, [...path, 'call', 'args', i]));
      const act: Action = typeof c === 'string' ? { kind: 'call', func: c, args, pos } : { kind: 'call', func: c.func, args, pos };
      this.field(act, 'func', typeof c === 'string' ? [...path, 'call'] : [...path, 'call', 'func']);
      return act;
    }
    if ('start_task' in a) {
      const s = a.start_task;
      const tpath = [...path, 'start_task'];
      const act: Action = { kind: 'start_task', name: s.name, run: this.actions(s.run, [...tpath, 'run']), once: s.once ?? false, pos };
      if (s.cpu !== undefined) act.cpu = s.cpu;
      this.field(act, 'name', [...tpath, 'name']);
      this.field(act, 'cpu', [...tpath, 'cpu']);
      return act;
    }
    if ('klp_get_state' in a || 'klp_get_prev_state' in a) {
      const kind = 'klp_get_state' in a ? 'klp_get_state' : 'klp_get_prev_state';
      const l = 'klp_get_state' in a ? a.klp_get_state : a.klp_get_prev_state;
      const lpath = [...path, kind];
      return {
        kind,
        id: l.id,
        found: this.actions(l.found, [...lpath, 'found']),
        missing: this.actions(l.missing, [...lpath, 'missing']),
        pos,
      };
    }
    if ('register_kprobe' in a) {
      const k = a.register_kprobe;
      const kpath = [...path, 'register_kprobe'];
      const act: Action = { kind: 'register_kprobe', symbol: k.symbol, pos };
      if (k.pre_handler !== undefined) act.pre = k.pre_handler;
      if (k.post_handler !== undefined) act.post = k.post_handler;
      if (k.post_handler_if !== undefined)
        act.postIf =
          typeof k.post_handler_if === 'boolean'
            ? k.post_handler_if
              ? 1
              : 0
            : this.value(k.post_handler_if, [...kpath, 'post_handler_if']);
      this.field(act, 'symbol', [...kpath, 'symbol']);
      this.field(act, 'pre', [...kpath, 'pre_handler']);
      this.field(act, 'post', [...kpath, 'post_handler']);
      return act;
    }
    if ('unregister_kprobe' in a) {
      const act: Action = { kind: 'unregister_kprobe', symbol: a.unregister_kprobe, pos };
      this.field(act, 'symbol', [...path, 'unregister_kprobe']);
      return act;
    }
    const act: Action = { kind: 'stop_task', name: a.stop_task, pos };
    this.field(act, 'name', [...path, 'stop_task']);
    return act;
  }

  /** A number, or a `${name}` (the schema allowed nothing else) with the position of its `${`. */
  private value(v: number | string, path: Path): ActionValue {
    if (typeof v === 'number') return v;
    return { ref: v.slice(2, -1), pos: this.positions.locator(path)(1, 1) };
  }

  module(name: string, raw: unknown, path: Path): ModuleDef {
    const r = isObject(raw) ? raw : {};
    const mod: ModuleDef = {
      name,
      params: {},
      paramTypes: {},
      functions: this.blocksOf(r['functions'], [...path, 'functions'], name),
      units: this.units(r, path, name),
      init: this.actions(r['init'], [...path, 'init']),
      exit: this.actions(r['exit'], [...path, 'exit']),
      pos: this.positions.keyPos(path),
    };
    if (isObject(r['params'])) {
      for (const [k, v] of Object.entries(r['params'])) {
        if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') continue;
        const type = paramTypeOf(v);
        mod.paramTypes[k] = type;
        mod.params[k] = paramDefaultText(v) ?? String(v);
        this.fields.set(mod, `param:${k}`, () => this.positions.keyPos([...path, 'params', k]));
        this.fields.set(mod, `paramValue:${k}`, () => this.positions.nodePos([...path, 'params', k]));
      }
    }
    const lp = r['livepatch'];
    if (isObject(lp)) {
      const lpPath = [...path, 'livepatch'];
      const replace = lp['replace'];
      const objects: LivepatchObjectDef[] = [];
      if (isObject(lp['objects'])) {
        for (const [obj, def] of Object.entries(lp['objects']))
          objects.push(this.livepatchObject(obj, def, [...lpPath, 'objects', obj], name));
      }
      const states = Array.isArray(lp['states']) ? (lp['states'] as unknown[]) : [];
      mod.livepatch = {
        replace: typeof replace === 'string' || typeof replace === 'number' || typeof replace === 'boolean' ? String(replace) : 'false',
        states: states.flatMap((st, i) =>
          isObject(st) && typeof st['id'] === 'number' && typeof st['version'] === 'number'
            ? [{ id: st['id'], version: st['version'], pos: this.positions.nodePos([...lpPath, 'states', i]) }]
            : [],
        ),
        objects,
        pos: this.positions.keyPos(lpPath),
      };
      this.field(mod.livepatch, 'replace', [...lpPath, 'replace']);
    }
    return mod;
  }

  private livepatchObject(name: string, raw: unknown, path: Path, module: string): LivepatchObjectDef {
    const r = isObject(raw) ? raw : {};
    const callbacks: Callbacks = {};
    const cb = r['callbacks'];
    if (isObject(cb)) {
      for (const n of CALLBACK_NAMES) if (cb[n] !== undefined) callbacks[n] = this.actions(cb[n], [...path, 'callbacks', n]);
    }
    return { name, funcs: this.blocksOf(r['funcs'], [...path, 'funcs'], module), callbacks, pos: this.positions.keyPos(path) };
  }

  task(raw: unknown, path: Path): TaskDef | undefined {
    const t = parsed(TaskSchema, raw);
    if (!t) return undefined;
    const task: TaskDef = {
      name: t.name,
      kind: t.kind ?? 'user',
      run: this.actions(t.run, [...path, 'run']),
      pos: this.positions.nodePos(path),
    };
    if (t.count !== undefined) task.count = t.count;
    if (t.cpu !== undefined) task.cpu = t.cpu;
    this.field(task, 'name', [...path, 'name']);
    this.field(task, 'cpu', [...path, 'cpu']);
    this.field(task, 'count', [...path, 'count']);
    this.field(task, 'kind', [...path, 'kind']);
    this.fields.set(task, 'run', () => this.positions.keyPos([...path, 'run']));
    return task;
  }

  /** Parses a command; a bad one is reported at its column inside the YAML string. */
  private shell(command: string, path: Path) {
    try {
      return parseShellCommand(command);
    } catch (e) {
      if (!(e instanceof ShellParseError)) throw e;
      this.diagnostics.push({ pos: this.positions.locator(path)(1, e.col), message: e.message });
      return undefined;
    }
  }

  step(raw: unknown, path: Path): Step | undefined {
    const s = parsed(StepSchema, raw);
    if (!s) return undefined;
    const pos = this.positions.nodePos(path);
    if ('sh' in s) {
      const cmdPath = [...path, 'sh'];
      const parsedCmd = this.shell(s.sh, cmdPath);
      if (!parsedCmd) return undefined;
      const step: Step = { kind: 'sh', command: s.sh, parsed: parsedCmd, quiet: s.quiet ?? false, pos };
      this.field(step, 'command', cmdPath);
      return step;
    }
    if ('wait' in s) return { kind: 'wait', what: s.wait, timeoutMs: s.timeout_ms ?? DEFAULT_WAIT_TIMEOUT_MS, pos };
    if ('sleep_ms' in s) return { kind: 'sleep_ms', ms: s.sleep_ms, pos };
    const e: z.infer<typeof ExpectSchema> = s.expect;
    const ePath = [...path, 'expect'];
    const step: Extract<Step, { kind: 'expect' }> = { kind: 'expect', pos };
    if (e.sh !== undefined) {
      const parsedCmd = this.shell(e.sh, [...ePath, 'sh']);
      if (!parsedCmd) return undefined;
      step.sh = { command: e.sh, parsed: parsedCmd };
      if (e.stdout !== undefined) step.sh.stdout = e.stdout;
      if (e.stderr !== undefined) step.sh.stderr = e.stderr;
      if (e.exit !== undefined) step.sh.exit = e.exit;
      this.field(step, 'command', [...ePath, 'sh']);
    }
    if (e.dmesg !== undefined) step.dmesg = typeof e.dmesg === 'string' ? [e.dmesg] : e.dmesg;
    if (e.patched !== undefined) {
      step.patched = e.patched;
      for (const k of Object.keys(e.patched)) this.fields.set(step, `patched:${k}`, () => this.positions.keyPos([...ePath, 'patched', k]));
    }
    if (e.nops !== undefined) step.nops = e.nops;
    if (e.ftrace_ops !== undefined) step.ftraceOps = e.ftrace_ops;
    if (e.sh === undefined) {
      for (const k of ['stdout', 'stderr', 'exit'] as const) {
        if (e[k] !== undefined)
          this.diagnostics.push({ pos: this.positions.keyPos([...ePath, k]), message: `'${k}' needs 'sh' in the same expect` });
      }
    }
    if (Object.keys(e).length === 0) {
      this.diagnostics.push({
        pos: this.positions.nodePos(ePath),
        message: 'expect needs at least one of: sh, dmesg, patched, nops, ftrace_ops',
      });
    }
    return step;
  }
}

/** Builds what can be built; schema problems themselves are reported by the caller's whole-file check. */
export function buildScenario(raw: unknown, file: string, positions: SourcePositions, unwinderOverride?: Unwinder): BuiltScenario {
  const r = isObject(raw) ? raw : {};
  const unwinder: Unwinder = r['unwinder'] === 'frame-pointer' ? 'frame-pointer' : DEFAULT_UNWINDER;
  const cUnwinder = unwinderOverride ?? unwinder;
  const b = new Builder(positions, { file, unwinder: cUnwinder, diagnostics: [] });
  const top = ScenarioSchema.shape;
  const kernel = isObject(r['kernel']) ? r['kernel'] : {};
  const proc: Record<string, string> = {};
  const procFields: [string, Path][] = [];
  if (isObject(kernel['proc'])) {
    for (const [k, v] of Object.entries(kernel['proc'])) {
      if (typeof v !== 'string') continue;
      proc[k] = v;
      procFields.push([k, ['kernel', 'proc', k]]);
    }
  }
  const modules: ModuleDef[] = isObject(r['modules']) ? Object.entries(r['modules']).map(([n, m]) => b.module(n, m, ['modules', n])) : [];
  const tasks: TaskDef[] = [];
  if (Array.isArray(r['tasks']))
    r['tasks'].forEach((t: unknown, i) => {
      const td = b.task(t, ['tasks', i]);
      if (td) tasks.push(td);
    });
  const steps: Step[] = [];
  if (Array.isArray(r['steps']))
    r['steps'].forEach((s: unknown, i) => {
      const st = b.step(s, ['steps', i]);
      if (st) steps.push(st);
    });

  const scenario: Scenario = {
    file,
    name: parsed(top.name, r['name']) ?? '',
    cpus: parsed(top.cpus, r['cpus']) ?? DEFAULT_CPUS,
    seed: parsed(top.seed, r['seed']) ?? DEFAULT_SEED,
    nopRemoval: r['nop_removal'] !== false,
    unwinder,
    kernelVersion: (typeof r['kernel_version'] === 'string' ? KernelVersion.parse(r['kernel_version']) : null) ?? KernelVersion.DEFAULT,
    functions: b.blocksOf(kernel['functions'], ['kernel', 'functions'], 'vmlinux'),
    units: b.units(kernel, ['kernel'], 'vmlinux'),
    proc,
    modules,
    tasks,
    steps,
  };
  for (const [k, p] of procFields) b.fields.set(scenario.proc, k, positions.locator(p));
  return {
    scenario,
    blocks: b.blocks,
    fields: b.fields,
    diagnostics: [...b.diagnostics, ...b.cDiagnostics],
    cFailed: b.cDiagnostics.length > 0,
  };
}
