/**
 * Running ACTIONs (SPEC section 2) on the coordinator: module init/exit and livepatch callbacks. `call`
 * runs the function on a CPU as a short-lived kernel thread (the calling context of modprobe) and waits
 * for it; `${param}`, `${object}` and `${module_state}` are substituted when the action runs, so a write
 * to /sys/module/M/parameters/K changes what later callbacks see.
 */
import type { TaskAction } from '../kernel/task-program';
import { MODULE_STATE_TEXT } from '../kernel/modules';
import { taskEnded } from '../mem/task-struct';
import type { Action } from './scenario-types';
import type { SimContext } from './sim-context';

export interface ActionScope {
  /** The module the actions belong to (its parameters are `${name}`). */
  module?: string;
  /** For callbacks: the object ('vmlinux' or a module name). */
  object?: string;
}

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

/** The task-program form of actions, for kernel threads (`tasks:` and `start_task`). */
export function toTaskActions(actions: Action[]): TaskAction[] {
  const out: TaskAction[] = [];
  for (const a of actions) {
    if (a.kind === 'call') out.push({ kind: 'call', func: a.func, args: a.args });
    else if (a.kind === 'sleep_ms') out.push({ kind: 'sleep', ms: a.ms });
  }
  return out;
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

/**
 * Runs actions in order. Returns the value of a `return:` action (which ends the list), else 0.
 */
export async function runActions(ctx: SimContext, actions: Action[] | undefined, scope: ActionScope): Promise<number> {
  for (const a of actions ?? []) {
    switch (a.kind) {
      case 'printk':
        ctx.m.log(substitute(ctx, a.text, scope));
        break;
      case 'return':
        return Number.parseInt(substitute(ctx, a.value, scope), 10) || 0;
      case 'sleep_ms':
        await ctx.m.sleep(a.ms);
        break;
      case 'call':
        await callOnCpu(ctx, a.func, a.args, scope.module ?? 'kworker');
        break;
      case 'start_task': {
        const t = await ctx.m.spawn({ name: a.name, run: toTaskActions(a.run), cpu: a.cpu, once: a.once });
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
  return 0;
}
