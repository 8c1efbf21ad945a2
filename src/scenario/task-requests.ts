/**
 * The coordinator's side of a task's requests (src/kernel/task-request.ts): what a task on a CPU cannot
 * do alone. `start_task` creates the thread (kthread_create() through kthreadd) at the time the task
 * asked; `stop_task` asks the named thread to stop and tells the asking task which thread to wait for
 * (kthread_stop(): the waiting is the asking task's, on its CPU); a `${param}` of a charp parameter is
 * expanded from the module's current value, which only the coordinator holds as text.
 */
import type { TaskHandle, TaskRequestHandler } from '../coordinator/machine';
import type { TaskAction, TaskValue } from '../kernel/task-program';
import type { TaskReply } from '../kernel/task-request';
import { paramNumber, PARAM_REF } from './actions';
import type { SimContext } from './sim-context';

export function taskRequestHandler(ctx: SimContext): TaskRequestHandler {
  return (from, action, atNs) => serve(ctx, from, action, atNs);
}

function serve(ctx: SimContext, from: TaskHandle, a: TaskAction, atNs: number): { reply: TaskReply; ready?: Promise<void> } {
  switch (a.kind) {
    case 'start_task': {
      const { handle, added } = ctx.m.createTask({ name: a.name, run: a.run, cpu: a.cpu, once: a.once, kind: 'kthread' }, atNs);
      ctx.taskPids.set(a.name, handle.pid);
      return { reply: {}, ready: added };
    }
    case 'stop_task': {
      const pid = ctx.taskPids.get(a.name);
      if (pid === undefined) return { reply: {} };
      const t = ctx.m.requestStop(pid, atNs);
      // A thread stopping itself ends after this pass; waiting for its own exit would never end.
      if (!t || t.pid === from.pid) return { reply: {} };
      return { reply: { wait: { slot: t.slot, pid: t.pid } } };
    }
    case 'printk': {
      let text = '';
      for (const m of a.text.split(PARAM_REF).entries()) {
        const [i, part] = m;
        if (i % 2 === 0) {
          text += part;
          continue;
        }
        const ref = a.refs.find((r) => r.name === part);
        const v = ref ? ctx.modules.get(ref.module)?.params.get(part) : undefined;
        if (ref && v === undefined)
          return { reply: { error: `\${${part}}: module ${ref.module} is not loaded`, ...(ref.pos ? { errorAt: ref.pos } : {}) } };
        text += v ?? `\${${part}}`;
      }
      return { reply: { text } };
    }
    case 'sleep':
      return { reply: numbers(ctx, [a.ms]) };
    case 'call':
      return { reply: numbers(ctx, a.args) };
  }
}

function numbers(ctx: SimContext, vs: TaskValue[]): TaskReply {
  const values: number[] = [];
  for (const v of vs) {
    if (typeof v === 'number') {
      values.push(v);
      continue;
    }
    const r = paramNumber(ctx, v.module, v.name);
    if ('error' in r) return { error: r.error, ...(v.pos ? { errorAt: v.pos } : {}) };
    values.push(r.value);
  }
  return { values };
}
