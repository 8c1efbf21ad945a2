/**
 * The checks that need the whole scenario: do the functions, modules, parameters and tasks that are
 * named exist, are `return` and `${…}` used where they mean something. Each problem is reported at the
 * field that names the missing thing (via FieldLocations), all of them in one pass.
 */
import { MODULE_LINKED_SYMBOLS } from '../kernel/module-elf';
import type { ElfObject } from '../c/elf/elf-types';
import { SHN_UNDEF } from '../c/elf/elf-types';
import type { AssembledBlock } from './code-block';
import { describeBlock } from './code-block';
import type { FieldLocations } from './field-locations';
import type { Locator } from './positions';
import type { ScenarioDiagnostic } from './scenario-error';
import type { Action, ActionValue, CallbackName, CodeBlock, ModuleDef, Pos, Scenario, ShellCommand } from './scenario-types';
import { SERVICES, Symbols, SymbolTable, collectSymbols } from './symbols';
import { DEFAULT_MACHINE } from '../mem/layout';
import { END_OF_TIME_NS } from '../kernel/sim-clock';
import { parseParam } from '../kernel/module-params';
import { cpuOutOfRange } from './pinned-cpus';

/** Names `${…}` may use in a module's init/exit and callback actions besides its parameters (SPEC section 4). */
const SPECIAL_REFS = ['object', 'module_state'];

type ActionPlace = 'task' | 'init' | 'exit' | CallbackName;

interface ActionContext {
  module?: ModuleDef;
  place: ActionPlace;
}

/** Where `return` means something: a failing init fails modprobe, a failing pre_patch fails the enable. */
const RETURN_PLACES: readonly ActionPlace[] = ['init', 'pre_patch'];

const REPLACE_VALUES = ['0', '1', 'true', 'false'];

/** Line and column (1-based) of `index` in a possibly multi-line string. */
function lineColOf(text: string, index: number): [number, number] {
  const before = text.slice(0, index);
  const line = before.split('\n').length;
  return [line, index - (before.lastIndexOf('\n') + 1) + 1];
}

class Validator {
  readonly diagnostics: ScenarioDiagnostic[] = [];
  private readonly symbols: Symbols;
  /** Names a `stop_task` may use: tasks from `tasks:` (and NAME/i of counted ones) and every start_task. */
  private readonly taskNames = new Set<string>();
  private readonly stopTasks: { name: string; pos: Pos }[] = [];

  constructor(
    private readonly s: Scenario,
    private readonly blocks: Map<CodeBlock, AssembledBlock>,
    private readonly fields: FieldLocations,
    /** The run's CPUs: the scenario's, or what `--cpus` makes them. */
    private readonly cpus: number = s.cpus,
    /**
     * Some C did not compile (or an object did not read): what it defines is unknown, so names it may
     * define are not reported missing (gcc's error is the one to fix).
     */
    private readonly cFailed = false,
  ) {
    this.symbols = collectSymbols(s, blocks);
  }

  private error(pos: Pos, message: string): void {
    this.diagnostics.push({ pos, message });
  }

  run(): void {
    this.checkCodeBlocks();
    for (const b of this.s.functions) {
      if (SERVICES.has(b.name)) this.error(b.pos, `'${b.name}' is a kernel service and cannot be redefined`);
    }
    for (const [name, func] of Object.entries(this.s.proc)) {
      this.checkFunction(func, this.fields.pos(this.s.proc, name, { file: this.s.file, line: 1, col: 1 }), false);
    }
    this.checkTasks();
    for (const m of this.s.modules) this.checkModule(m);
    this.checkSteps();
    for (const t of this.stopTasks) {
      if (!this.taskNames.has(t.name)) this.error(t.pos, `unknown task '${t.name}'`);
    }
  }

  /** Every symbol a block references must be defined somewhere (which object is the loader's business). */
  private checkCodeBlocks(): void {
    const checkElf = (elf: ElfObject, pos: Pos, what: string, linked: ReadonlySet<string> = new Set()): void => {
      const own = new Set(elf.symbols.filter((x) => x.shndx !== SHN_UNDEF).map((x) => x.name));
      for (const sym of elf.symbols) {
        if (sym.index === 0 || sym.shndx !== SHN_UNDEF || sym.binding === 'weak' || sym.name === '' || own.has(sym.name)) continue;
        if (sym.name.startsWith('.klp.sym.') || this.symbols.all.has(sym.name) || linked.has(sym.name)) continue;
        if (!this.cFailed) this.error(pos, `in ${what}: unknown symbol '${sym.name}'`);
      }
    };
    for (const { block, ok } of this.blocks.values())
      if (ok && block.elf) checkElf(block.elf, block.pos, describeBlock(block.name, 'func'));
    for (const u of this.s.units) checkElf(u.elf, u.pos, u.elf.file);
    // A module is linked with its struct module (THIS_MODULE) and the param_ops its parameters name.
    for (const u of this.s.modules.flatMap((m) => m.units)) checkElf(u.elf, u.pos, u.elf.file, MODULE_LINKED_SYMBOLS);
    for (const { block, ok, relocs } of this.blocks.values()) {
      if (!ok) continue;
      for (const r of relocs) {
        if (!this.symbols.all.has(r.symbol))
          if (!this.cFailed)
            this.error(block.map(r.line, r.col), `in ${describeBlock(block.name, block.kind)}: unknown symbol '${r.symbol}'`);
      }
    }
  }

  /** A name `call:`, /proc or `patched:` uses must be a function; services only where code may call them. */
  private checkFunction(name: string, pos: Pos, servicesOk: boolean): void {
    if (servicesOk && SERVICES.has(name)) return;
    const kind = this.symbols.functions.get(name);
    if (kind === undefined) {
      if (!this.cFailed) this.error(pos, `unknown function '${name}'`);
    } else if (kind === 'data') this.error(pos, `'${name}' is a data symbol, not a function`);
  }

  private checkCpu(cpu: number | undefined, pos: Pos): void {
    if (cpu !== undefined && cpu >= this.cpus) {
      this.error(pos, cpuOutOfRange(cpu, this.cpus, this.s.cpus));
    }
  }

  private checkTasks(): void {
    const seen = new Set<string>();
    let alive = 0;
    for (const t of this.s.tasks) {
      const namePos = this.fields.pos(t, 'name');
      const before = alive;
      alive += t.count ?? 1;
      if (before <= DEFAULT_MACHINE.maxTasks && alive > DEFAULT_MACHINE.maxTasks) {
        const where = t.count !== undefined ? this.fields.pos(t, 'count') : namePos;
        this.error(where, `too many tasks: the machine holds at most ${DEFAULT_MACHINE.maxTasks} tasks at once, and these make ${alive}`);
      }
      if (seen.has(t.name)) this.error(namePos, `duplicate task name '${t.name}'`);
      seen.add(t.name);
      this.taskNames.add(t.name);
      for (let i = 0; i < (t.count ?? 0); i++) this.taskNames.add(`${t.name}/${i}`);
      this.checkCpu(t.cpu, this.fields.pos(t, 'cpu'));
      this.checkPassTakesTime(t.name, t.run, this.fields.pos(t, 'run', t.pos));
      this.checkActions(t.run, { place: 'task' });
    }
  }

  /**
   * A task that repeats its run list must spend time in it: with only printk, start_task and stop_task a
   * pass costs no more than its entry and exit and a microsecond per printk (kernel/time-model.ts), so the
   * task would loop a million times a simulated second — a soft lockup, and a log flood. `once: true` (a work item) may do without.
   */
  private checkPassTakesTime(name: string, run: Action[], pos: Pos): void {
    if (run.length === 0 || run.some((a) => a.kind === 'sleep_ms' || a.kind === 'call')) return;
    this.error(
      pos,
      `task '${name}' repeats its run list until it is stopped, and nothing in it takes time (only printk, start_task, stop_task): add a sleep_ms or a call, or make it once: true`,
    );
  }

  /** `${name}` references in a string: only inside a module, and only to its parameters (and the specials). */
  private checkRefs(text: string, loc: Locator, ctx: ActionContext, specialsOk: boolean): void {
    const open = text.lastIndexOf('${');
    if (open >= 0 && text.indexOf('}', open) < 0) this.error(loc(...lineColOf(text, open)), "unterminated '${'");
    for (const m of text.matchAll(/\$\{([^}]*)\}/g)) this.checkRef(m[1], loc(...lineColOf(text, m.index)), ctx, specialsOk);
  }

  private checkRef(name: string, pos: Pos, ctx: ActionContext, specialsOk: boolean): void {
    const ref = `\${${name}}`;
    const mod = ctx.module;
    if (!mod) {
      this.error(pos, `parameter reference '${ref}' outside a module`);
      return;
    }
    if (Object.prototype.hasOwnProperty.call(mod.params, name)) return;
    if (SPECIAL_REFS.includes(name)) {
      // A task's actions run on their CPU, on their own: there is no object or module state to name.
      if (specialsOk && ctx.place !== 'task') return;
      if (specialsOk) {
        this.error(pos, `'${ref}' is known only in a module's init, exit and callback actions, not in a task's run`);
        return;
      }
    }
    const names = Object.keys(mod.params);
    const has = names.length > 0 ? `has: ${names.join(', ')}` : 'has no parameters';
    this.error(pos, `unknown parameter '${ref}' (module ${mod.name} ${has})`);
  }

  /** A number an action reads when it runs: any parameter of the module (its value is checked then). */
  private checkValue(v: ActionValue, ctx: ActionContext): void {
    if (typeof v !== 'number') this.checkRef(v.ref, v.pos, ctx, false);
  }

  private checkActions(actions: Action[], ctx: ActionContext): void {
    actions.forEach((a, i) => {
      switch (a.kind) {
        case 'printk':
          this.checkRefs(a.text, this.fields.get(a, 'text'), ctx, true);
          break;
        case 'return': {
          const loc = this.fields.get(a, 'value');
          if (!RETURN_PLACES.includes(ctx.place)) this.error(a.pos, `'return' is only allowed in init and pre_patch callbacks`);
          else if (i !== actions.length - 1) this.error(a.pos, `'return' must be the last action`);
          if (/\$\{/.test(a.value)) {
            if (!/^\$\{[^}]*\}$/.test(a.value)) this.error(loc(1, 1), `return needs an integer or one \${param}, got '${a.value}'`);
            this.checkRefs(a.value, loc, ctx, false);
          } else if (!/^-?(0x[0-9a-fA-F]+|[0-9]+)$/.test(a.value)) {
            this.error(loc(1, 1), `return needs an integer or \${param}, got '${a.value}'`);
          }
          break;
        }
        case 'call':
          this.checkFunction(a.func, this.fields.pos(a, 'func'), true);
          for (const v of a.args) this.checkValue(v, ctx);
          break;
        case 'start_task': {
          const tasks = this.s.tasks.map((t) => t.name);
          if (tasks.includes(a.name)) this.error(this.fields.pos(a, 'name'), `task '${a.name}' is already defined in tasks`);
          this.taskNames.add(a.name);
          this.checkCpu(a.cpu, this.fields.pos(a, 'cpu'));
          if (!a.once) this.checkPassTakesTime(a.name, a.run, this.fields.pos(a, 'name'));
          const inner: ActionContext = { place: 'task' };
          if (ctx.module) inner.module = ctx.module;
          this.checkActions(a.run, inner);
          break;
        }
        case 'stop_task':
          this.stopTasks.push({ name: a.name, pos: this.fields.pos(a, 'name') });
          break;
        case 'sleep_ms':
          this.checkValue(a.ms, ctx);
          break;
        case 'klp_get_state':
        case 'klp_get_prev_state':
          this.checkStateLookup(a, ctx);
          break;
        case 'register_kprobe':
        case 'unregister_kprobe':
          if (ctx.place !== 'init' && ctx.place !== 'exit')
            this.error(
              a.pos,
              `${a.kind}() is for a module's init and exit (it takes kprobe_mutex, which a task or callback here would not)`,
            );
          this.checkFunction(a.symbol, this.fields.pos(a, 'symbol'), false);
          if (a.kind === 'register_kprobe') {
            if (a.pre !== undefined) this.checkFunction(a.pre, this.fields.pos(a, 'pre'), true);
            if (a.post !== undefined) this.checkFunction(a.post, this.fields.pos(a, 'post'), true);
            if (a.postIf !== undefined) this.checkValue(a.postIf, ctx);
          }
          break;
      }
    });
  }

  /**
   * klp_get_state() needs a patch (the livepatch module's own); klp_get_prev_state() a transition, which
   * only callbacks run in; both need a kernel with system states (5.5+). The branches are checked as the
   * list they stand in (a `return` may end one).
   */
  private checkStateLookup(a: Extract<Action, { kind: 'klp_get_state' | 'klp_get_prev_state' }>, ctx: ActionContext): void {
    if (!this.s.kernelVersion.hasSystemStates)
      this.error(
        a.pos,
        `${a.kind}() needs kernel_version 5.5 or later (system states came in 5.5; this scenario's is ${this.s.kernelVersion.toString()})`,
      );
    if (!ctx.module?.livepatch || ctx.place === 'task')
      this.error(a.pos, `${a.kind}() is for a livepatch module's init, exit and callbacks (it reads the module's klp_patch)`);
    else if (a.kind === 'klp_get_prev_state' && (ctx.place === 'init' || ctx.place === 'exit'))
      this.error(a.pos, `klp_get_prev_state() works only during a transition: call it from a callback`);
    this.checkActions(a.found, ctx);
    this.checkActions(a.missing, ctx);
  }

  private checkModule(m: ModuleDef): void {
    if (m.name === 'vmlinux') this.error(m.pos, "'vmlinux' is the kernel's object name, not a module name");
    for (const p of Object.keys(m.params)) {
      const pos = this.fields.pos(m, `param:${p}`);
      if (SPECIAL_REFS.includes(p)) this.error(pos, `parameter name '${p}' is reserved for \${${p}}`);
      if (m.functions.some((f) => f.name === p)) this.error(pos, `parameter '${p}' clashes with symbol '${p}' of module ${m.name}`);
      // An integer the schema took (a non-integer or an unsafe one it reports itself) that an int cannot hold.
      const type = m.paramTypes[p];
      if (type === 'int' && Number.isSafeInteger(Number(m.params[p])) && parseParam(type, m.params[p]) === null) {
        this.error(
          this.fields.pos(m, `paramValue:${p}`),
          `default ${m.params[p]} does not fit parameter '${p}' of type ${type} (a 32-bit int: -2147483648 to 2147483647)`,
        );
      }
    }
    for (const f of m.functions) {
      if (SERVICES.has(f.name)) this.error(f.pos, `'${f.name}' is a kernel service and cannot be redefined`);
    }
    this.checkActions(m.init, { module: m, place: 'init' });
    this.checkActions(m.exit, { module: m, place: 'exit' });
    const lp = m.livepatch;
    if (!lp) return;
    if (lp.states.length > 0 && !this.s.kernelVersion.hasSystemStates)
      this.error(
        lp.states[0].pos,
        `states (struct klp_state) need kernel_version 5.5 or later; this scenario's is ${this.s.kernelVersion.toString()}`,
      );
    const ids = new Set<number>();
    for (const st of lp.states) {
      // klp_get_state() returns the first of an id: a second one would never be seen.
      if (ids.has(st.id)) this.error(st.pos, `state id ${st.id} is declared twice in this patch`);
      ids.add(st.id);
    }
    const replaceLoc = this.fields.get(lp, 'replace');
    if (/\$\{/.test(lp.replace)) {
      if (!/^\$\{[^}]*\}$/.test(lp.replace))
        this.error(replaceLoc(1, 1), `replace must be 0, 1, true, false or one \${param}, got '${lp.replace}'`);
      this.checkRefs(lp.replace, replaceLoc, { module: m, place: 'init' }, false);
      const ref = /^\$\{([^}]*)\}$/.exec(lp.replace);
      const type = ref && Object.prototype.hasOwnProperty.call(m.params, ref[1]) ? m.paramTypes[ref[1]] : undefined;
      if (type === 'charp') this.error(replaceLoc(1, 1), `replace needs an int or bool parameter, and '${lp.replace}' is a string (charp)`);
    } else if (!REPLACE_VALUES.includes(lp.replace)) {
      this.error(replaceLoc(1, 1), `replace must be 0, 1, true, false or \${param}, got '${lp.replace}'`);
    }
    for (const o of lp.objects) {
      let target: SymbolTable | undefined;
      if (o.name === 'vmlinux') target = this.symbols.kernel;
      else if (o.name === m.name) this.error(o.pos, `object '${o.name}' is the livepatch module itself`);
      else {
        target = this.symbols.modules.get(o.name);
        if (!target) this.error(o.pos, `unknown object '${o.name}': not vmlinux or a module in modules`);
      }
      if (target) this.checkPatchedFuncs(o.name, o.funcs, target);
      for (const [name, acts] of Object.entries(o.callbacks) as [CallbackName, Action[]][]) {
        this.checkActions(acts, { module: m, place: name });
      }
    }
  }

  /**
   * A `funcs` entry that is code replaces the function of that name in the object; a data entry is the
   * patch module's own data (strings its new functions print), so only code entries must match.
   */
  private checkPatchedFuncs(object: string, funcs: CodeBlock[], target: SymbolTable): void {
    for (const f of funcs) {
      const ok = this.blocks.get(f)?.ok !== false;
      const old = target.get(f.name);
      if (ok && f.kind === 'func') {
        if (old === undefined) {
          if (!this.cFailed) this.error(f.pos, `unknown function '${f.name}' in object '${object}'`);
        } else if (old === 'data') this.error(f.pos, `'${f.name}' in object '${object}' is a data symbol, not a function`);
      } else if (ok && f.kind === 'data' && old === 'func') {
        this.error(f.pos, `the new version of function '${f.name}' in object '${object}' holds only data`);
      }
    }
  }

  private checkShell(parsed: ShellCommand, loc: Locator): void {
    if (parsed.cmd === 'kmsg') {
      this.checkShell(parsed.inner, loc);
      return;
    }
    if (parsed.cmd === 'modprobe' || parsed.cmd === 'insmod' || parsed.cmd === 'rmmod') {
      if (!this.s.modules.some((m) => m.name === parsed.module))
        this.error(loc(1, parsed.moduleCol), `${parsed.cmd}: unknown module '${parsed.module}'`);
    }
  }

  private checkSteps(): void {
    // The steps' sleeps alone must end before simulated time does (sim-clock.ts); what else passes time
    // (waits, sleeps in callbacks) depends on the run, and Machine.sleepUntil() refuses it there.
    let sleptMs = 0;
    let sleptPastEnd = false;
    for (const step of this.s.steps) {
      if (step.kind === 'sleep_ms') {
        sleptMs += step.ms;
        if (!sleptPastEnd && sleptMs * 1_000_000 > END_OF_TIME_NS) {
          sleptPastEnd = true;
          this.error(
            step.pos,
            `the steps sleep ${sleptMs} ms by here, past the end of simulated time (${Math.floor(END_OF_TIME_NS / 1_000_000)} ms, about 104 days)`,
          );
        }
      }
      if (step.kind === 'sh') this.checkShell(step.parsed, this.fields.get(step, 'command'));
      if (step.kind !== 'expect') continue;
      if (step.sh) this.checkShell(step.sh.parsed, this.fields.get(step, 'command'));
      for (const name of Object.keys(step.patched ?? {})) this.checkFunction(name, this.fields.pos(step, `patched:${name}`), false);
    }
  }
}

export function validateScenario(
  s: Scenario,
  blocks: Map<CodeBlock, AssembledBlock>,
  fields: FieldLocations,
  cpus = s.cpus,
  cFailed = false,
): ScenarioDiagnostic[] {
  const v = new Validator(s, blocks, fields, cpus, cFailed);
  v.run();
  return v.diagnostics;
}
