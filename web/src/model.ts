/**
 * The page's picture of the simulation, folded from the stream one item at a time. Pure (no DOM, no
 * runtime imports), so the same code runs in the browser and under jest.
 *
 * Everything is derived from the events, as a recorded stream must be enough for a replay:
 * - the patch stack from patch.enable/disable, nop.add, func_stack.push/remove, transition.* and klp.free;
 * - each task's patch state from transition.start / task_switch / complete / reverse, and from it and
 *   the func_stacks which version of each patched function a task runs now — the ftrace handler's own
 *   rule: the func_stack's head, or the entry below it for a task still unpatched while the head's
 *   patch is in transition, the original function for a NOP or an empty stack;
 * - the timeline from task.state (who runs on which CPU, from when to when), call.redirect (which
 *   version a call really reached: sampled, the first per site and CPU then one in 256), faults and
 *   violations.
 */
import type { SimEvent } from '../../src/kernel/events';
import type { BlockingTask, ServeItem } from '../../src/serve/protocol';

export const ORIGINAL = 'original';

export interface FuncEntry {
  func: string;
  nop: boolean;
  /** For a NOP: the patch whose func it stands in for. */
  replaces: string | null;
  onStack: boolean;
}

export interface ObjEntry {
  name: string;
  /** Created by klp_add_nops for an object only a replaced patch had. */
  dynamic: boolean;
  funcs: FuncEntry[];
}

export interface FreedEntry {
  t: number;
  text: string;
}

export interface PatchEntry {
  name: string;
  replace: boolean;
  enabled: boolean;
  forced: boolean;
  /** Set when a cumulative patch replaced this one. */
  replacedBy: string | null;
  freedAt: number | null;
  objects: ObjEntry[];
  /** What was freed of this patch while it lived on (NOP funcs, dynamic objects), with when. */
  freed: FreedEntry[];
}

export interface StackEntry {
  patch: string;
  nop: boolean;
}

export interface PokeEntry {
  t: number;
  phase: string;
  old: string;
  new: string;
}

export interface SiteEntry {
  func: string;
  addr: number;
  symbol: string;
  /** The site's 5 bytes now, `0f 1f 44 00 00` until a poke says otherwise. */
  bytes: string;
  /** An ftrace ops is registered on it. */
  registered: boolean;
  /** Newest first: the head is what the ftrace handler reads first. */
  stack: StackEntry[];
  /** The latest change of the site, one entry per text.poke (int3, tail, first, or one direct write). */
  pokes: PokeEntry[];
}

export interface TaskEntry {
  pid: number;
  comm: string;
  state: string;
  cpu: number | null;
  /** The function the task was in at its last state change (e.g. msleep), if it was in one. */
  func: string | null;
  /** KLP_UNDEFINED -1, KLP_UNPATCHED 0, KLP_PATCHED 1. */
  patchState: number;
  /** First seen during a transition: not one of the tasks it waits for. */
  lateJoiner: boolean;
}

export interface TransitionEntry {
  patch: string;
  target: string;
  start: number;
  end: number | null;
  total: number;
  /** running, complete, or the reversals it went through. */
  outcome: string;
}

export interface GpEntry {
  reason: string;
  start: number;
  end: number | null;
}

export interface LogLine {
  t: number;
  seq: number;
  text: string;
}

export interface Problem {
  t: number;
  cpu: number | null;
  kind: 'fault' | 'violation';
  text: string;
}

export interface Segment {
  from: number;
  /** -1 while open (drawn up to now). */
  to: number;
  label: string;
  /** Whose versions the task runs: a patch's name, or ORIGINAL. */
  world: string;
}

export type MarkKind = 'redirect' | 'switch' | 'fault' | 'violation' | 'poke' | 'gp' | 'ftrace' | 'free';

export interface Mark {
  t: number;
  kind: MarkKind;
  /** Colours the mark: a patch, ORIGINAL, or null for the mark's own colour. */
  world: string | null;
  text: string;
}

export interface Lane {
  id: string;
  kind: 'cpu' | 'task' | 'klp';
  title: string;
  segments: Segment[];
  marks: Mark[];
}

export class SimModel {
  readonly patches: PatchEntry[] = [];
  readonly sites = new Map<number, SiteEntry>();
  readonly tasks = new Map<number, TaskEntry>();
  readonly transitions: TransitionEntry[] = [];
  readonly gps: GpEntry[] = [];
  readonly log: LogLine[] = [];
  readonly problems: Problem[] = [];
  readonly cpuLanes: Lane[] = [];
  readonly taskLanes = new Map<number, Lane>();
  readonly klpLane: Lane = { id: 'klp', kind: 'klp', title: 'livepatch', segments: [], marks: [] };
  /** The latest reading of the tasks blocking the transition, with stacks (live runs only). */
  blocking: { t: number; patch: string; tasks: BlockingTask[] } | null = null;
  /** Simulated time of the latest item, ns. */
  now = 0;
  items = 0;
  events = 0;
  /** Bumped on every change: views redraw when it moved. */
  rev = 0;
  private readonly openOnCpu = new Map<number, { pid: number; seg: Segment; taskSeg: Segment }>();
  private readonly worldOrder: string[] = [];

  constructor(cpus = 0) {
    this.ensureCpus(cpus);
  }

  get transition(): TransitionEntry | null {
    const t = this.transitions[this.transitions.length - 1];
    return t && t.end === null ? t : null;
  }

  /** Patches in the order they appeared: the page colours each by its index. */
  get worlds(): readonly string[] {
    return this.worldOrder;
  }

  /** What runs on `cpu` now (its open segment), or null while it idles. */
  running(cpu: number): Segment | null {
    return this.openOnCpu.get(cpu)?.seg ?? null;
  }

  ensureCpus(n: number): void {
    while (this.cpuLanes.length < n) {
      const cpu = this.cpuLanes.length;
      this.cpuLanes.push({ id: `cpu${cpu}`, kind: 'cpu', title: `cpu${cpu}`, segments: [], marks: [] });
    }
  }

  apply(item: ServeItem): void {
    this.items++;
    this.rev++;
    if (item.t > this.now) this.now = item.t;
    if (item.type === 'serve.blocking') {
      this.blocking = { t: item.t, patch: item.patch, tasks: item.tasks };
      return;
    }
    this.events++;
    this.applyEvent(item);
  }

  private applyEvent(ev: SimEvent): void {
    if (ev.cpu !== null) this.ensureCpus(ev.cpu + 1);
    switch (ev.type) {
      case 'log':
        this.log.push({ t: ev.t, seq: ev.seq, text: ev.text });
        break;
      case 'task.state':
        this.taskState(ev.t, ev.cpu, ev.pid, ev.comm, ev.state, ev.func ?? null);
        break;
      case 'fault': {
        const text = `${ev.comm}:${ev.pid} ${ev.vector}: ${ev.message}`;
        this.problems.push({ t: ev.t, cpu: ev.cpu, kind: 'fault', text });
        this.mark(ev.cpu, ev.pid, { t: ev.t, kind: 'fault', world: null, text });
        break;
      }
      case 'violation': {
        const text = `${ev.check}: ${ev.message}`;
        this.problems.push({ t: ev.t, cpu: ev.cpu, kind: 'violation', text });
        this.mark(ev.cpu, ev.pid ?? null, { t: ev.t, kind: 'violation', world: null, text });
        break;
      }
      case 'text.poke': {
        const site = this.site(ev.addr, ev.symbol.replace(/\+.*$/, ''), ev.symbol);
        site.symbol = ev.symbol;
        // A new protocol run starts with int3 (or is one direct write): the list shows the latest change only.
        if (ev.phase === 'int3' || ev.phase === 'direct') site.pokes = [];
        site.pokes.push({ t: ev.t, phase: ev.phase, old: ev.old, new: ev.new });
        site.bytes = ev.new;
        this.klpLane.marks.push({ t: ev.t, kind: 'poke', world: null, text: `text_poke ${ev.phase} ${ev.symbol}: ${ev.old} -> ${ev.new}` });
        break;
      }
      case 'ftrace.register':
      case 'ftrace.unregister':
        this.site(ev.addr, ev.func).registered = ev.type === 'ftrace.register';
        this.klpLane.marks.push({ t: ev.t, kind: 'ftrace', world: null, text: `${ev.type} ${ev.func}` });
        break;
      case 'rcu.gp_start':
        this.gps.push({ reason: ev.reason, start: ev.t, end: null });
        break;
      case 'rcu.gp_end': {
        const open = [...this.gps].reverse().find((g) => g.end === null && g.reason === ev.reason);
        if (open) open.end = ev.t;
        else this.gps.push({ reason: ev.reason, start: ev.t - ev.durationNs, end: ev.t });
        this.klpLane.marks.push({ t: ev.t, kind: 'gp', world: null, text: `RCU grace period ended (${ev.reason}, ${ev.durationNs} ns)` });
        break;
      }
      case 'patch.enable': {
        const p = this.patch(ev.patch);
        p.enabled = true;
        p.replace = ev.replace;
        this.transitionInit(ev.t, ev.patch, 'patching');
        break;
      }
      case 'patch.disable':
        this.patch(ev.patch).enabled = false;
        this.transitionInit(ev.t, ev.patch, 'unpatching');
        break;
      case 'transition.start': {
        let tr = this.transition;
        if (!tr || tr.patch !== ev.patch) tr = this.transitionInit(ev.t, ev.patch, ev.target);
        tr.total = ev.tasks;
        tr.outcome = 'running';
        break;
      }
      case 'transition.task_switch': {
        const task = this.task(ev.pid, ev.comm);
        task.patchState = ev.state;
        this.mark(ev.cpu, ev.pid, {
          t: ev.t,
          kind: 'switch',
          world: this.worldOf(task),
          text: `${ev.comm}:${ev.pid} switched to ${ev.state === 1 ? 'patched' : 'unpatched'} (${ev.how})`,
        });
        this.resplit(ev.t, ev.pid);
        break;
      }
      case 'transition.reverse': {
        const tr = this.transition;
        if (tr) {
          tr.target = ev.to;
          tr.outcome = `reversed ${ev.from} -> ${ev.to}`;
        }
        // klp_reverse_transition flips patch->enabled; task states stay, the target flips.
        const p = this.patch(ev.patch);
        p.enabled = !p.enabled;
        break;
      }
      case 'transition.complete':
        this.transitionComplete(ev.t, ev.patch, ev.target);
        break;
      case 'func_stack.push': {
        const site = this.site(ev.addr, ev.func);
        site.stack.unshift({ patch: ev.patch, nop: ev.nop });
        const f = this.func(ev.patch, ev.object, ev.func, ev.nop);
        f.onStack = true;
        break;
      }
      case 'func_stack.remove': {
        const site = this.site(ev.addr, ev.func);
        const i = site.stack.findIndex((e) => e.patch === ev.patch);
        if (i >= 0) site.stack.splice(i, 1);
        const f = this.findFunc(ev.patch, ev.object, ev.func);
        if (f) f.onStack = false;
        break;
      }
      case 'nop.add': {
        const f = this.func(ev.patch, ev.object, ev.func, true);
        f.replaces = ev.replaces;
        const o = this.patch(ev.patch).objects.find((x) => x.name === ev.object);
        if (o && ev.dynamicObject) o.dynamic = true;
        break;
      }
      case 'klp.free':
        this.free(ev.t, ev.what, ev.patch, ev.object, ev.func, ev.nop === true, ev.dynamic === true, ev.forced === true);
        break;
      case 'call.redirect': {
        const m = /\[([^\]]+)\]\s*$/.exec(ev.target);
        const world = m ? m[1] : ORIGINAL;
        this.mark(ev.cpu, ev.pid, {
          t: ev.t,
          kind: 'redirect',
          world,
          text: `${ev.func} -> ${ev.target} (call #${ev.sampled} of this site on the CPU)`,
        });
        break;
      }
      default:
        // sh, task.output, ipi.sync_core, nop.discard (its klp.free follows), and types from newer versions.
        break;
    }
  }

  // --- tasks and the timeline --------------------------------------------------------------------------

  private task(pid: number, comm: string): TaskEntry {
    let t = this.tasks.get(pid);
    if (!t) {
      const tr = this.transition;
      // A task born during a transition starts in its target state (klp_copy_process gives the parent's).
      const state = tr ? (tr.target === 'patching' ? 1 : 0) : -1;
      t = { pid, comm, state: 'new', cpu: null, func: null, patchState: state, lateJoiner: tr !== null };
      this.tasks.set(pid, t);
    }
    t.comm = comm;
    return t;
  }

  private taskLane(pid: number, comm: string): Lane {
    let lane = this.taskLanes.get(pid);
    if (!lane) {
      lane = { id: `task${pid}`, kind: 'task', title: `${comm}:${pid}`, segments: [], marks: [] };
      this.taskLanes.set(pid, lane);
    }
    lane.title = `${comm}:${pid}`;
    return lane;
  }

  private taskState(t: number, cpu: number | null, pid: number, comm: string, state: string, func: string | null): void {
    const task = this.task(pid, comm);
    task.state = state;
    task.func = func;
    // Whatever the task was doing on a CPU has ended.
    for (const [c, open] of this.openOnCpu) {
      if (open.pid === pid) {
        open.seg.to = Math.max(t, open.seg.from);
        open.taskSeg.to = open.seg.to;
        this.openOnCpu.delete(c);
      }
    }
    if (state === 'running' && cpu !== null) {
      const prev = this.openOnCpu.get(cpu);
      if (prev) {
        prev.seg.to = Math.max(t, prev.seg.from);
        prev.taskSeg.to = prev.seg.to;
      }
      task.cpu = cpu;
      this.openSegment(t, cpu, task);
    }
  }

  private openSegment(t: number, cpu: number, task: TaskEntry): void {
    const world = this.worldOf(task);
    const seg: Segment = { from: t, to: -1, label: `${task.comm}:${task.pid}${task.func ? ` in ${task.func}` : ''}`, world };
    const taskSeg: Segment = { from: t, to: -1, label: `on cpu${cpu}`, world };
    this.cpuLanes[cpu].segments.push(seg);
    this.taskLane(task.pid, task.comm).segments.push(taskSeg);
    this.openOnCpu.set(cpu, { pid: task.pid, seg, taskSeg });
  }

  /** A running task changed worlds (it switched, or the transition ended): its segment is cut there. */
  private resplit(t: number, pid: number): void {
    for (const [cpu, open] of this.openOnCpu) {
      if (pid >= 0 && open.pid !== pid) continue;
      const task = this.tasks.get(open.pid);
      if (!task || this.worldOf(task) === open.seg.world) continue;
      open.seg.to = Math.max(t, open.seg.from);
      open.taskSeg.to = open.seg.to;
      this.openSegment(t, cpu, task);
    }
  }

  private mark(cpu: number | null, pid: number | null, m: Mark): void {
    if (cpu !== null) this.cpuLanes[cpu].marks.push(m);
    if (pid !== null && pid > 0) {
      const task = this.tasks.get(pid);
      if (task) this.taskLane(pid, task.comm).marks.push(m);
    }
    if (cpu === null && (pid === null || pid <= 0 || !this.tasks.has(pid))) this.klpLane.marks.push(m);
  }

  // --- which version runs ------------------------------------------------------------------------------

  /** The newest enabled patch, leaving one out: what a task sees on the other side of a transition. */
  private topEnabled(except: string | null): string {
    for (let i = this.patches.length - 1; i >= 0; i--) {
      const p = this.patches[i];
      if (p.enabled && p.freedAt === null && p.name !== except) return p.name;
    }
    return ORIGINAL;
  }

  /**
   * The newest patch whose versions a task runs (older patches' versions show through for functions it
   * does not change): the transition's patch on its side of the transition, else the newest enabled one.
   */
  worldOf(task: TaskEntry): string {
    const tr = this.transition;
    if (!tr) return this.topEnabled(null);
    const inNew = tr.target === 'patching' ? task.patchState === 1 : task.patchState === 0;
    if (tr.target === 'patching') return inNew ? tr.patch : this.topEnabled(tr.patch);
    return inNew ? this.topEnabled(tr.patch) : tr.patch;
  }

  /** Which version of `site`'s function a task runs if it calls it now: a patch's name, or ORIGINAL. */
  versionFor(site: SiteEntry, task: TaskEntry): string {
    const tr = this.transition;
    let i = 0;
    // func->transition is set for the funcs of the patch in transition; an unpatched task takes the next entry.
    if (tr && site.stack[0]?.patch === tr.patch && task.patchState === 0) i = 1;
    const e = site.stack[i];
    return !e || e.nop ? ORIGINAL : e.patch;
  }

  /** Live tasks (not the short-lived dead ones) that the transition still waits for. */
  blockingTasks(): TaskEntry[] {
    const tr = this.transition;
    if (!tr) return [];
    const target = tr.target === 'patching' ? 1 : 0;
    return [...this.tasks.values()].filter((t) => t.state !== 'dead' && !t.lateJoiner && t.patchState !== target);
  }

  switchedCount(): number {
    const tr = this.transition;
    if (!tr) return 0;
    return Math.max(0, tr.total - this.blockingTasks().length);
  }

  // --- the patch stack ---------------------------------------------------------------------------------

  private patch(name: string): PatchEntry {
    let p = this.patches.find((x) => x.name === name && x.freedAt === null);
    if (!p) {
      p = { name, replace: false, enabled: false, forced: false, replacedBy: null, freedAt: null, objects: [], freed: [] };
      this.patches.push(p);
      if (!this.worldOrder.includes(name)) this.worldOrder.push(name);
    }
    return p;
  }

  private func(patch: string, object: string, func: string, nop: boolean): FuncEntry {
    const p = this.patch(patch);
    let o = p.objects.find((x) => x.name === object);
    if (!o) {
      o = { name: object, dynamic: false, funcs: [] };
      p.objects.push(o);
    }
    let f = o.funcs.find((x) => x.func === func);
    if (!f) {
      f = { func, nop, replaces: null, onStack: false };
      o.funcs.push(f);
    }
    return f;
  }

  private findFunc(patch: string, object: string, func: string): FuncEntry | undefined {
    const p = this.patches.find((x) => x.name === patch && x.freedAt === null);
    return p?.objects.find((o) => o.name === object)?.funcs.find((f) => f.func === func);
  }

  private free(
    t: number,
    what: string,
    patch: string,
    object: string | undefined,
    func: string | undefined,
    nop: boolean,
    dynamic: boolean,
    forced: boolean,
  ): void {
    const p = this.patches.find((x) => x.name === patch && x.freedAt === null);
    if (!p) return;
    if (what === 'patch') {
      p.freedAt = t;
      p.forced = p.forced || forced;
      p.objects.length = 0;
    } else if (what === 'object') {
      const i = p.objects.findIndex((o) => o.name === object);
      if (i >= 0) p.objects.splice(i, 1);
      p.freed.push({ t, text: `${dynamic ? 'dynamic ' : ''}object ${object}` });
    } else if (what === 'func') {
      const o = p.objects.find((x) => x.name === object);
      const i = o ? o.funcs.findIndex((f) => f.func === func) : -1;
      if (o && i >= 0) o.funcs.splice(i, 1);
      p.freed.push({ t, text: `${nop ? 'NOP ' : ''}func ${func} (${object})` });
    }
    this.klpLane.marks.push({
      t,
      kind: 'free',
      world: patch,
      text: `klp.free ${what} ${[patch, object, func].filter(Boolean).join(' / ')}`,
    });
  }

  // --- transitions -------------------------------------------------------------------------------------

  /**
   * klp_init_transition, announced by patch.enable / patch.disable: from here the patch's funcs go onto
   * their func_stacks marked "in transition" and every task is in the initial state, the opposite of the
   * target, until it switches. (transition.start follows once everything is in place, with the task count.)
   */
  private transitionInit(t: number, patch: string, target: string): TransitionEntry {
    const tr: TransitionEntry = { patch, target, start: t, end: null, total: 0, outcome: 'initializing' };
    this.transitions.push(tr);
    this.patch(patch);
    const initial = target === 'patching' ? 0 : 1;
    for (const task of this.tasks.values()) {
      task.patchState = initial;
      task.lateJoiner = false;
    }
    this.klpLane.segments.push({ from: t, to: -1, label: `${patch} ${target}`, world: patch });
    this.resplit(t, -1);
    return tr;
  }

  private transitionComplete(t: number, patch: string, target: string): void {
    const tr = this.transition;
    if (tr) {
      tr.end = t;
      // klp_cancel_transition: a patching transition that never started completes as unpatching.
      const canceled = tr.target !== target && !tr.outcome.startsWith('reversed');
      tr.outcome = canceled
        ? 'canceled'
        : tr.outcome === 'running' || tr.outcome === 'initializing'
          ? 'complete'
          : `${tr.outcome}, complete`;
      tr.target = target;
    }
    const seg = this.klpLane.segments[this.klpLane.segments.length - 1];
    if (seg && seg.to < 0) seg.to = t;
    const p = this.patch(patch);
    if (target === 'unpatching') p.enabled = false;
    // klp_discard_replaced_patches: a cumulative patch leaves every other patch disabled (freed soon after).
    if (target === 'patching' && p.replace) {
      for (const other of this.patches) {
        if (other !== p && other.freedAt === null && other.enabled) {
          other.enabled = false;
          other.replacedBy = p.name;
        }
      }
    }
    for (const task of this.tasks.values()) task.patchState = -1;
    this.resplit(t, -1);
  }

  private site(addr: number, func: string, symbol?: string): SiteEntry {
    let s = this.sites.get(addr);
    if (!s) {
      s = { func, addr, symbol: symbol ?? func, bytes: '0f 1f 44 00 00', registered: false, stack: [], pokes: [] };
      this.sites.set(addr, s);
    }
    return s;
  }
}
