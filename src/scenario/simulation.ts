/**
 * Running a scenario file: the public entry point of the library (`Simulation.fromFile()`), behind
 * `klpsim run`. It builds the machine, loads vmlinux, starts the tasks and executes the steps in order,
 * streaming every event on `events$`.
 *
 * A step that fails (a failed expectation, a wait that timed out) is reported with the events leading to
 * it, and the scenario goes on; the run's exit code is 1 if any step failed or any invariant was violated.
 */
import type { Observable } from 'rxjs';
import { Machine, MachineOptions } from '../coordinator/machine';
import { workerModule } from '../coordinator/worker-entry';
import { isSchedulerChurn, type FaultEvent, type SimEvent, type ViolationEvent } from '../kernel/events';
import type { Unwinder } from '../kernel/stack-walk';
import type { KernelVersion } from '../kernel/kernel-version';
import { LoadError } from '../kernel/loader';
import { Modules } from '../kernel/modules';
import type { KlpFault } from '../livepatch/klp-state';
import { Livepatch } from '../livepatch/livepatch';
import { describeBlockingTask } from '../livepatch/transition';
import { toTaskActions } from './actions';
import { taskRequestHandler } from './task-requests';
import { checkExpect } from './expectations';
import { loadScenarioFile } from './load-scenario';
import { checkCpuPins } from './pinned-cpus';
import { ScenarioError } from './scenario-error';
import type { CodeBlock, CUnit, Pos, Scenario, Step } from './scenario-types';
import { objectParts } from './module-ops';
import { cServiceHandler } from './c-module';
import { runShell, ShellResult } from './shell';
import { parseShellCommand } from './shell-command';
import type { SimContext } from './sim-context';

export interface SimulationOptions {
  cpus?: number;
  /** Worker threads running the CPUs (M:N); default one per host core. */
  cpuThreads?: number;
  seed?: number;
  deterministic?: boolean;
  /** false: the kernel before "livepatch: Remove Nop structures when unused". */
  nopRemoval?: boolean;
  verbose?: boolean;
  /** cond_resched() switches a task with a clean stack (6.4's klp_sched_try_switch()); default false. */
  condReschedSwitch?: boolean;
  /** Overrides the scenario's `unwinder:` (`--unwinder`). */
  unwinder?: Unwinder;
  /** Overrides the scenario's `kernel_version:` (`--kernel-version`). */
  kernelVersion?: KernelVersion;
  /** Instructions a task runs before it is preempted (tests vary it to preempt at many points). */
  timeslice?: number;
  faults?: KlpFault[];
  /** Transition retry period, ms of simulated time (the kernel's 1 s). */
  retryMs?: number;
  /** Event types the CPUs leave out (default none; see MachineOptions.eventsOff). */
  eventsOff?: MachineOptions['eventsOff'];
  /**
   * Awaited before each scenario step: the run holds while the promise is pending (`klpsim serve`'s
   * pause and single-step). With --deterministic nothing runs meanwhile; worker CPUs run on up to the clock window.
   */
  gate?: (next: { index: number; step: Step }) => Promise<void>;
}

/**
 * The options that shape a scenario's run, as `run`, `watch` and `serve` take them from the command line
 * (unset: the scenario's own value).
 */
export type ScenarioRunOptions = Pick<SimulationOptions, 'cpus' | 'seed' | 'unwinder' | 'kernelVersion'> &
  Required<Pick<SimulationOptions, 'nopRemoval' | 'deterministic' | 'verbose'>>;

export interface StepFailure {
  pos: Pos;
  message: string;
  /**
   * The events just before the failure, oldest first, without the scheduler's churn (isSchedulerChurn);
   * of consecutive sampled redirects of a function to the same target, the latest.
   */
  recent: SimEvent[];
}

/** A fault or invariant violation, with the events before it (as StepFailure.recent). */
export interface ViolationReport {
  event: FaultEvent | ViolationEvent;
  recent: SimEvent[];
}

export interface RunResult {
  exitCode: 0 | 1;
  failures: StepFailure[];
  violations: number;
  /** The first MAX_VIOLATION_REPORTS faults and violations, each with the events leading to it. */
  violationReports: ViolationReport[];
  events: number;
}

const RECENT = 12;
const MAX_VIOLATION_REPORTS = 3;
const WAIT_STEP_MS = 10;

export class Simulation {
  private readonly recent: SimEvent[] = [];
  private readonly violationReports: ViolationReport[] = [];
  /** Actions that failed at run time (a value that does not fit, a function not loaded), at their place. */
  private readonly actionFailures: StepFailure[] = [];
  private count = 0;
  private tasksStarted = false;

  private constructor(
    readonly scenario: Scenario,
    readonly machine: Machine,
    readonly klp: Livepatch,
    private readonly ctx: SimContext,
    private readonly gate?: SimulationOptions['gate'],
  ) {
    machine.events$.subscribe((e) => {
      this.count++;
      if (e.type === 'log') ctx.klog.push(e.text);
      else if (e.type === 'task.output') ctx.outputs.set(e.pid, { text: e.text, ret: e.ret });
      if (e.type === 'violation' && e.check === 'action' && isPos(e.pos))
        this.actionFailures.push({ pos: e.pos, message: e.message, recent: [...this.recent] });
      // A failure's report shows what happened before it, not the last few of thousands of task wake-ups;
      // and a run of sampled redirects of one function to one target is its latest sample.
      if (isSchedulerChurn(e)) return;
      // (An action's violation is reported as a failure at the action's place, above.)
      if (
        (e.type === 'fault' || (e.type === 'violation' && e.check !== 'action')) &&
        this.violationReports.length < MAX_VIOLATION_REPORTS
      ) {
        this.violationReports.push({ event: e, recent: [...this.recent] });
      }
      const last = this.recent[this.recent.length - 1];
      if (e.type === 'call.redirect' && last?.type === 'call.redirect' && last.func === e.func && last.target === e.target)
        this.recent.pop();
      this.recent.push(e);
      if (this.recent.length > RECENT) this.recent.shift();
    });
  }

  /** Loads, validates and prepares a scenario file; throws ScenarioError for bad input. */
  static async fromFile(path: string, options: SimulationOptions = {}): Promise<Simulation> {
    // Checked against the run's CPUs, so a pin that --cpus leaves without its CPU is refused at its `cpu:`.
    return Simulation.create(loadScenarioFile(path, { cpus: options.cpus, unwinder: options.unwinder }), options);
  }

  static async create(scenario: Scenario, options: SimulationOptions = {}): Promise<Simulation> {
    if (options.cpus !== undefined && options.cpus !== scenario.cpus) checkCpuPins(scenario, options.cpus);
    const m = await Machine.create({
      cpus: options.cpus ?? scenario.cpus,
      seed: options.seed ?? scenario.seed,
      deterministic: options.deterministic ?? false,
      unwinder: options.unwinder ?? scenario.unwinder,
      kernelVersion: options.kernelVersion ?? scenario.kernelVersion,
      timeslice: options.timeslice,
      cpuThreads: options.cpuThreads,
      condReschedSwitch: options.condReschedSwitch,
      eventsOff: options.eventsOff,
      hooksModule: workerModule(`${__dirname}/../livepatch`, 'klp-ftrace-handler'),
    });
    try {
      loadObject(m, 'vmlinux', scenario.functions, scenario.units);
    } catch (e) {
      await m.dispose();
      throw e;
    }
    const klp = new Livepatch(m, {
      // The CLI flag can only turn NOP removal off; a scenario may ask for the pre-seed kernel itself.
      nopRemoval: (options.nopRemoval ?? true) && scenario.nopRemoval,
      verbose: options.verbose ?? false,
      retryMs: options.retryMs ?? 1000,
      faults: new Set(options.faults ?? []),
    });
    const ctx: SimContext = {
      m,
      klp,
      modules: new Modules(m.km, m.kallsyms, m.version),
      scenario,
      klog: [],
      outputs: new Map(),
      taskPids: new Map(),
    };
    m.taskRequests = taskRequestHandler(ctx);
    m.serviceRequests = cServiceHandler(ctx);
    return new Simulation(scenario, m, klp, ctx, options.gate);
  }

  /** The scenario's loadable modules and their state (lsmod). */
  get modules(): Modules {
    return this.ctx.modules;
  }

  get events$(): Observable<SimEvent> {
    return this.machine.events$;
  }

  /** Starts the scenario's tasks (run() does this first). Idempotent. */
  async startTasks(): Promise<void> {
    if (this.tasksStarted) return;
    this.tasksStarted = true;
    for (const t of this.scenario.tasks) {
      const names = t.count === undefined ? [t.name] : Array.from({ length: t.count }, (_, i) => `${t.name}/${i}`);
      for (const name of names) {
        const h = await this.machine.spawn({ name, run: toTaskActions(this.scenario, t.run), cpu: t.cpu, kind: t.kind });
        this.ctx.taskPids.set(name, h.pid);
      }
    }
  }

  /**
   * Runs one shell command as an `sh:` step does (SPEC section 4): logged as `% COMMAND` unless quiet, a
   * failure's error line logged after it. Throws ShellParseError for a command that does not parse.
   */
  async shell(command: string, quiet = false): Promise<ShellResult> {
    const parsed = parseShellCommand(command);
    if (!quiet) this.machine.log(`% ${command}`);
    const r = await runShell(this.ctx, parsed);
    for (const line of r.stderr.split('\n').filter(Boolean)) this.machine.log(line);
    this.machine.emit({ type: 'sh', command, stdout: r.stdout, stderr: r.stderr, exit: r.exit });
    return r;
  }

  async run(): Promise<RunResult> {
    const failures: StepFailure[] = [];
    try {
      await this.startTasks();
      for (const [index, step] of this.scenario.steps.entries()) {
        if (this.gate) await this.gate({ index, step });
        const problems = await this.step(step);
        for (const message of problems) failures.push({ pos: step.pos, message, recent: [...this.recent] });
      }
      failures.push(...this.actionFailures);
    } finally {
      // Also when a step throws (a klpsim bug): live CPU threads would keep the process from exiting.
      await this.dispose();
    }
    // Counted after the CPUs stopped: a worker thread posts its events in batches, and the last batch
    // (events of the slices it ran until it saw StopAll) arrives with its stop, so a count taken before
    // would miss events that every subscriber sees.
    const violations = this.machine.violations();
    return {
      exitCode: failures.length > 0 || violations > 0 ? 1 : 0,
      failures,
      violations,
      violationReports: [...this.violationReports],
      events: this.count,
    };
  }

  private async step(step: Step): Promise<string[]> {
    switch (step.kind) {
      case 'sh': {
        if (!step.quiet) this.machine.log(`% ${step.command}`);
        const r = await runShell(this.ctx, step.parsed);
        // The selftests' harness logs a failed command's error after the command's kernel messages.
        for (const line of r.stderr.split('\n').filter(Boolean)) this.machine.log(line);
        this.machine.emit({ type: 'sh', command: step.command, stdout: r.stdout, stderr: r.stderr, exit: r.exit });
        return [];
      }
      case 'sleep_ms':
        await this.machine.sleep(step.ms);
        return [];
      case 'wait': {
        const deadline = this.machine.now + step.timeoutMs * 1_000_000;
        while (this.klp.inTransition() && this.machine.now < deadline) await this.machine.sleep(WAIT_STEP_MS);
        if (!this.klp.inTransition()) return [];
        const blocking = this.klp.blockingTasks().map(describeBlockingTask);
        return [
          `timed out after ${step.timeoutMs} ms waiting for the transition of '${this.klp.transitionPatch()?.mod}' to complete; tasks still blocking it: ${blocking.join(', ') || 'none (idle tasks)'}`,
        ];
      }
      case 'expect':
        return checkExpect(this.ctx, step);
    }
  }

  async dispose(): Promise<void> {
    await this.machine.dispose();
  }
}

const isPos = (p: unknown): p is Pos =>
  typeof p === 'object' &&
  p !== null &&
  typeof (p as Pos).file === 'string' &&
  typeof (p as Pos).line === 'number' &&
  typeof (p as Pos).col === 'number';

/** Loads an object's code; a link error becomes a ScenarioError at the offending line of the file. */
function loadObject(m: Machine, object: string, blocks: CodeBlock[], units: CUnit[]): void {
  const parts = objectParts(blocks, units);
  try {
    m.loader.load(object, parts.symbols, {}, parts.objects);
  } catch (e) {
    if (!(e instanceof LoadError)) throw e;
    throw new ScenarioError(
      e.diagnostics.map((d) => {
        const unit = d.file !== undefined ? units.find((u) => u.elf.file === d.file) : undefined;
        if (unit) return { pos: unit.pos, message: `${d.file}: ${d.message}` };
        const cBlock = d.file !== undefined ? blocks.find((b) => b.elf?.file === d.file) : undefined;
        if (cBlock) return { pos: cBlock.pos, message: `in ${d.symbol}: ${d.message}` };
        const block = blocks.find((b) => b.name === d.symbol);
        return { pos: block ? block.map(d.line, d.col) : { file: '?', line: d.line, col: d.col }, message: `in ${d.symbol}: ${d.message}` };
      }),
    );
  }
}
