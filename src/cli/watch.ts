/**
 * `klpsim watch`: runs a scenario like `run`, with a live terminal view redrawn at ~10 Hz (watch-view.ts).
 *
 * The view reads the machine directly — the per-CPU areas and task_structs in shared memory, the
 * livepatch core's state on the coordinator — rather than rebuilding it from events: that is what a
 * developer at a real machine would look at (/proc, sysfs, crash), and it cannot drift from the truth.
 * Only the kernel log and the event count come from events$.
 *
 * Redraws are driven both by a timer and by the event stream (throttled): the deterministic mode runs
 * for long stretches without yielding to the event loop, so a timer alone would stall the view there;
 * in worker mode quiet periods have no events, so events alone would stall it there.
 */
import type { Subscription } from 'rxjs';
import { CpuMode, PcpuField } from '../mem/percpu';
import { KLP_PATCHED, TaskField, TaskState } from '../mem/task-struct';
import { ScenarioRunOptions, Simulation } from '../scenario/simulation';
import { openSimulation, reportFailures, runScenario } from './run-command';
import { ansiFrame, renderWatch, WatchCpu, WatchFuncStack, WatchPatch, WatchSnapshot, WatchTransition } from './watch-view';

export type WatchCliOptions = ScenarioRunOptions;

const LOG_LINES = 10;
const MODE_NAMES: Record<number, string> = {
  [CpuMode.Offline]: 'offline',
  [CpuMode.Running]: 'running',
  [CpuMode.Idle]: 'idle',
  [CpuMode.Stopped]: 'stopped',
  [CpuMode.Crashed]: 'crashed',
};

/** Reads the state the view shows. Cheap enough for 10 Hz: a few shared-memory words per CPU and task. */
export function takeSnapshot(sim: Simulation, title: string, events: number, log: readonly string[]): WatchSnapshot {
  const m = sim.machine;
  const st = sim.klp.state;
  const comms = new Map<number, string>();
  for (const t of m.tasks) comms.set(t.pid, t.comm);

  const cpus: WatchCpu[] = m.pcpus.map((p) => {
    const pid = p.get(PcpuField.Current);
    const rip = p.get(PcpuField.LastRip) >>> 0;
    return {
      cpu: p.cpu,
      mode: MODE_NAMES[p.get(PcpuField.Mode)] ?? 'unknown',
      pid,
      comm: pid === 0 ? `swapper/${p.cpu}` : (comms.get(pid) ?? '?'),
      func: rip === 0 ? null : (m.kallsyms.symbolAt(rip)?.name ?? null),
    };
  });

  const patches: WatchPatch[] = st.patches.map((p) => ({
    mod: p.mod,
    enabled: p.enabled,
    transition: p === st.transitionPatch,
    replace: p.replace,
    forced: p.forced,
    nops: p.objs.reduce((n, o) => n + o.funcs.filter((f) => f.nop).length, 0),
  }));

  let transition: WatchTransition | null = null;
  const tp = st.transitionPatch;
  if (tp) {
    // The kernel's transition waits for every task, the idle tasks included (one per CPU).
    const target = st.targetState;
    let done = 0;
    let total = 0;
    for (const t of m.tasks) {
      const s = t.view.get(TaskField.State);
      if (s === TaskState.Dead || s === TaskState.Unused) continue;
      total++;
      if (t.view.get(TaskField.PatchState) === target) done++;
    }
    for (const p of m.pcpus) {
      total++;
      if (p.get(PcpuField.IdlePatchState) === target) done++;
    }
    transition = { patch: tp.mod, target: target === KLP_PATCHED ? 'patched' : 'unpatched', done, total };
  }

  const funcStacks: WatchFuncStack[] = [];
  for (const ops of st.ops.values()) {
    funcStacks.push({
      func: ops.func_stack[0]?.old_name ?? m.kallsyms.symbolAt(ops.old_func)?.name ?? `0x${ops.old_func.toString(16)}`,
      entries: ops.func_stack.map((f) => ({ patch: f.obj.patch.mod, nop: f.nop, transition: f.transition })),
    });
  }
  funcStacks.sort((a, b) => (a.func < b.func ? -1 : a.func > b.func ? 1 : 0));

  return { title, timeNs: m.now, events, cpus, patches, transition, funcStacks, log: [...log] };
}

export interface WatchRendererOptions {
  title: string;
  /** Receives each frame (ANSI escapes included). */
  write(frame: string): void;
  intervalMs?: number;
  columns?: number;
  rows?: number;
}

/** Attaches the live view to a simulation: subscribe before `run()` (events$ is hot). */
export class WatchRenderer {
  private readonly log: string[] = [];
  private events = 0;
  private last = 0;
  private readonly sub: Subscription;
  private timer: NodeJS.Timeout | null = null;
  private readonly interval: number;
  frames = 0;

  constructor(
    private readonly sim: Simulation,
    private readonly o: WatchRendererOptions,
  ) {
    this.interval = o.intervalMs ?? 100;
    this.sub = sim.events$.subscribe((ev) => {
      this.events++;
      if (ev.type === 'log') {
        this.log.push(ev.text);
        if (this.log.length > LOG_LINES) this.log.shift();
      }
      if (performance.now() - this.last >= this.interval) this.render();
    });
  }

  start(): void {
    this.render();
    this.timer = setInterval(() => {
      if (performance.now() - this.last >= this.interval) this.render();
    }, this.interval);
    // The view must never keep the process alive on its own.
    this.timer.unref();
  }

  render(done?: { exitCode: number }): void {
    this.last = performance.now();
    this.frames++;
    const snap = takeSnapshot(this.sim, this.o.title, this.events, this.log);
    if (done) snap.done = done;
    this.o.write(ansiFrame(renderWatch(snap, { columns: this.o.columns, rows: this.o.rows })));
  }

  /** Stops redrawing; with `done`, draws the final frame first. */
  stop(done?: { exitCode: number }): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (done) this.render(done);
    this.sub.unsubscribe();
  }
}

const out = (s: string): boolean => process.stdout.write(s);

export async function watchScenario(file: string, o: WatchCliOptions): Promise<number> {
  // Not a terminal (a pipe, a file, CI): escape sequences would be garbage there, so print what `run` does.
  if (!process.stdout.isTTY) return runScenario(file, { ...o, format: 'pretty' });

  const sim = await openSimulation(file, o);
  if (sim === 2) return 2;
  const w = new WatchRenderer(sim, {
    title: `${sim.scenario.name} (${file})`,
    write: out,
    columns: process.stdout.columns,
    rows: process.stdout.rows ? process.stdout.rows - 1 : undefined,
  });
  out('\x1b[2J');
  w.start();
  let exitCode: number;
  try {
    const r = await sim.run();
    exitCode = r.exitCode;
    w.stop({ exitCode });
    reportFailures(r);
  } finally {
    w.stop();
  }
  return exitCode;
}
