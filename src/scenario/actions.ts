/**
 * Running ACTIONs (SPEC section 2) on the coordinator: module init/exit and livepatch callbacks. `call`
 * runs the function on a CPU as a short-lived kernel thread (the calling context of modprobe) and waits
 * for it; `${param}`, `${object}` and `${module_state}` are substituted when the action runs, so a write
 * to /sys/module/M/parameters/K changes what later callbacks see.
 */
import { parseParam } from '../kernel/module-params';
import type { ParamRef, TaskAction, TaskValue } from '../kernel/task-program';
import { MODULE_STATE_TEXT } from '../kernel/modules';
import { msleepWakeNs } from '../kernel/timer-wheel';
import { taskEnded } from '../mem/task-struct';
import type { Action, ActionValue, Pos, Scenario } from './scenario-types';
import type { SimContext } from './sim-context';

export interface ActionScope {
  /** The module the actions belong to (its parameters are `${name}`). */
  module?: string;
  /** For callbacks: the object ('vmlinux' or a module name). */
  object?: string;
}

/** A `${name}` in an action's string. */
export const PARAM_REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

export function substitute(ctx: SimContext, text: string, scope: ActionScope): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole, name: string) => {
    if (name === 'object' && scope.object) return scope.object;
    if (name === 'module_state' && scope.object) {
      const mod = ctx.modules.get(scope.object);
      return mod ? MODULE_STATE_TEXT[mod.state] : MODULE_STATE_TEXT.LIVE;
    }
    const mod = scope.module ? ctx.modules.get(scope.module) : undefined;
    return mod?.params.get(name) ?? whole;
  });
}

/**
 * The task-program form of actions, for kernel threads (`tasks:` and `start_task`), run on a CPU.
 * `module`: whose parameters their `${…}` name (the module whose init or callback started the task).
 */
export function toTaskActions(scenario: Scenario, actions: Action[], module?: string): TaskAction[] {
  const types = module ? scenario.modules.find((m) => m.name === module)?.paramTypes : undefined;
  const ref = (name: string, pos: Pos): ParamRef => ({ module: module ?? '', name, type: types?.[name] ?? 'charp', pos });
  const value = (v: ActionValue): TaskValue => (typeof v === 'number' ? v : ref(v.ref, v.pos));
  const out: TaskAction[] = [];
  for (const a of actions) {
    switch (a.kind) {
      case 'call':
        out.push({ kind: 'call', func: a.func, args: a.args.map(value), pos: a.pos });
        break;
      case 'sleep_ms':
        out.push({ kind: 'sleep', ms: value(a.ms), pos: a.pos });
        break;
      case 'printk': {
        const names = [...new Set([...a.text.matchAll(PARAM_REF)].map((m) => m[1]))];
        out.push({ kind: 'printk', text: a.text, refs: names.map((n) => ref(n, a.pos)), pos: a.pos });
        break;
      }
      case 'start_task':
        out.push({
          kind: 'start_task',
          name: a.name,
          run: toTaskActions(scenario, a.run, module),
          once: a.once,
          pos: a.pos,
          ...(a.cpu !== undefined ? { cpu: a.cpu } : {}),
        });
        break;
      case 'stop_task':
        out.push({ kind: 'stop_task', name: a.name, pos: a.pos });
        break;
      case 'return':
        // Only init and pre_patch may return (validate-scenario.ts); a task has no caller to return to.
        break;
      case 'klp_get_state':
      case 'klp_get_prev_state':
        // Only a livepatch module's init, exit and callbacks look states up (validate-scenario.ts).
        break;
    }
  }
  return out;
}

/**
 * The number a `${param}` holds now, for sleep_ms and call arguments: an int as it is, a bool as 0 or 1,
 * a charp whose text is an integer (kstrtoint's forms) as that integer; anything else is an error that
 * names the `${…}`.
 */
export function paramNumber(ctx: SimContext, module: string | undefined, name: string): { value: number } | { error: string } {
  const mod = module ? ctx.modules.get(module) : undefined;
  const text = mod?.params.get(name);
  if (!mod || text === undefined) return { error: `\${${name}}: module ${module ?? '?'} is not loaded` };
  const type = mod.paramTypes.get(name) ?? 'charp';
  if (type === 'bool') return { value: text === 'Y' ? 1 : 0 };
  const int = parseParam('int', text);
  if (int === null) return { error: `\${${name}} is '${text}', not an integer` };
  return { value: Number(int) };
}

/** Runs a function once on a CPU and waits for it (bounded); returns its result register. */
export async function callOnCpu(ctx: SimContext, func: string, args: number[], comm: string): Promise<{ text: string; ret: number }> {
  const t = await ctx.m.spawn({ name: comm, run: [{ kind: 'call', func, args }], once: true, capture: true });
  await ctx.m.waitFor(() => ctx.outputs.has(t.pid) || taskEnded(t.view, t.pid), `${comm} to finish ${func}()`, 30_000);
  // A fault kills the task before it reports: no output.
  await ctx.m.waitFor(() => ctx.outputs.has(t.pid) || ctx.m.violations() > 0, `the output of ${comm}`, 2_000).catch(() => undefined);
  const out = ctx.outputs.get(t.pid) ?? { text: '', ret: 0 };
  ctx.outputs.delete(t.pid);
  return out;
}

/** A run-time error of an action, at `pos`: the run fails (exit 1), the action is skipped. */
function actionError(ctx: SimContext, message: string, pos: Pos): void {
  ctx.m.violation('action', message, pos);
}

function actionNumber(ctx: SimContext, v: ActionValue, scope: ActionScope, pos: Pos): number | null {
  if (typeof v === 'number') return v;
  const r = paramNumber(ctx, scope.module, v.ref);
  if ('value' in r) return r.value;
  actionError(ctx, r.error, v.pos ?? pos);
  return null;
}

/**
 * Runs actions in order. Returns the value of a `return:` action (which ends the list), else 0.
 */
export async function runActions(ctx: SimContext, actions: Action[] | undefined, scope: ActionScope): Promise<number> {
  return (await runList(ctx, actions ?? [], scope)) ?? 0;
}

/** klp_get_state(&patch, id) / klp_get_prev_state(id): is the state there? */
function lookUpState(ctx: SimContext, a: Extract<Action, { kind: 'klp_get_state' | 'klp_get_prev_state' }>, scope: ActionScope): boolean {
  if (a.kind === 'klp_get_prev_state') return ctx.klp.getPrevState(a.id) !== null;
  const def = ctx.scenario.modules.find((m) => m.name === scope.module);
  return ctx.klp.getState(scope.module ?? '', def?.livepatch?.states ?? [], a.id) !== null;
}

/** The actions of one list; a `return:` (here or in a branch) ends them all with its value, else undefined. */
async function runList(ctx: SimContext, actions: Action[], scope: ActionScope): Promise<number | undefined> {
  for (const a of actions) {
    switch (a.kind) {
      case 'printk':
        ctx.m.log(substitute(ctx, a.text, scope));
        break;
      case 'return':
        return Number.parseInt(substitute(ctx, a.value, scope), 10) || 0;
      case 'klp_get_state':
      case 'klp_get_prev_state': {
        const ret = await runList(ctx, lookUpState(ctx, a, scope) ? a.found : a.missing, scope);
        if (ret !== undefined) return ret;
        break;
      }
      case 'sleep_ms': {
        const ms = actionNumber(ctx, a.ms, scope, a.pos);
        if (ms === null) break;
        // Only a parameter can be negative here (the schema refuses a negative literal).
        if (ms < 0 && typeof a.ms !== 'number')
          actionError(ctx, `\${${a.ms.ref}} is ${ms}: sleep_ms needs a number of milliseconds >= 0`, a.ms.pos);
        // msleep() in insmod's context: jiffies and the timer wheel, as a task's sleep_ms (timer-wheel.ts).
        // A sleep that never ends (an int-negative msecs) stops at the end of simulated time, as an error.
        else await ctx.m.sleepUntil(msleepWakeNs(ctx.m.now, ms, ctx.m.version.msleepExtraJiffy, Number.MAX_VALUE));
        break;
      }
      case 'call': {
        const args = a.args.map((v) => actionNumber(ctx, v, scope, a.pos));
        if (args.some((v) => v === null)) break;
        await callOnCpu(ctx, a.func, args as number[], scope.module ?? 'kworker');
        break;
      }
      case 'start_task': {
        const t = await ctx.m.spawn({
          name: a.name,
          run: toTaskActions(ctx.scenario, a.run, scope.module),
          cpu: a.cpu,
          once: a.once,
          kind: 'kthread',
        });
        ctx.taskPids.set(a.name, t.pid);
        break;
      }
      case 'stop_task': {
        const pid = ctx.taskPids.get(a.name);
        if (pid !== undefined) await ctx.m.stopTask(pid);
        break;
      }
    }
  }
  return undefined;
}
