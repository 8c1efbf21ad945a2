/**
 * One stress run: one seed, one simulated machine. It builds the workload (workload.ts), starts its tasks,
 * and performs generated operations (generator.ts) — or a given list of them (--replay-ops, --shrink) —
 * checking the invariants after each (invariants.ts) while the CPUs check theirs on every call. It ends
 * after `ops` operations or `durationMs` of real time, finishes the last transition (by force if need
 * be), and reports what ran, what was checked and what broke.
 */
import type { Unwinder } from '../kernel/stack-walk';
import { KernelVersion } from '../kernel/kernel-version';
import { HeartbeatMonitor } from '../coordinator/heartbeat';
import type { SimEvent } from '../kernel/events';
import type { KlpFault } from '../livepatch/klp-state';
import { GlobalField } from '../mem/percpu';
import { parseScenario } from '../scenario/load-scenario';
import { Simulation } from '../scenario/simulation';
import { OpGenerator } from './generator';
import { BlockedReport, checkOf, CPU_CHECKS, Invariants } from './invariants';
import { OP_KINDS, OpKind, StressOp } from './ops';
import { ShadowCheck } from './shadow-check';
import { buildWorkload, TARGET_MODULE } from './workload';

export interface StressOptions {
  cpus: number;
  tasks: number;
  seed: number;
  /** Stop after this many ops (per run)… */
  ops?: number;
  /** …or after this much real time. */
  durationMs?: number;
  deterministic: boolean;
  nopRemoval: boolean;
  /** Add the shadow-variable workload and its `shadow` check (`--workload shadow`; off by default). */
  shadow?: boolean;
  /** The machine's reliable unwinder (default orc). */
  unwinder?: Unwinder;
  /** The kernel release (`5.1` … `6.12`, default 6.12); a string, as the options are cloned to job threads. */
  kernelVersion?: string;
  faults: KlpFault[];
  /** The transition retry period, simulated ms (default RETRY_MS). */
  retryMs?: number;
  /** Perform exactly these ops instead of generating them. */
  replay?: StressOp[];
  /** Stop at the first violation (what --shrink's candidate runs want). */
  stopOnViolation?: boolean;
  /** Called after every op. */
  onProgress?(p: StressProgress): void;
  /** Fold every event into `eventsDigest` (costs a JSON.stringify per event): for replay checks. */
  digest?: boolean;
  /** A debug switch for the hang/crash tests: GlobalField.DebugCpuFault, set after this many ops. */
  debugCpuFault?: { afterOps: number; value: number };
}

export interface StressProgress {
  seed: number;
  ops: number;
  violations: number;
}

export interface ViolationRecord {
  check: string;
  message: string;
  /** Index of the op during or after which it was seen (-1: before the first op). */
  op: number;
  t: number;
  cpu: number | null;
  /** Real time since the run started, ms. */
  wallMs: number;
}

export interface StressResult {
  seed: number;
  options: Omit<StressOptions, 'onProgress' | 'replay'>;
  ops: StressOp[];
  /** The ops were given (--replay-ops), not generated from the seed. */
  replayed: boolean;
  opsByKind: Record<OpKind, number>;
  checks: Record<string, number>;
  violations: number;
  violationsByCheck: Record<string, number>;
  /** The first violations, with the op they followed. */
  firstViolations: ViolationRecord[];
  blocked: BlockedReport[];
  hang: string | null;
  error: string | null;
  /** With `digest`: events seen and an FNV-1a hash of their JSON, in order (else 0 / ''). */
  events: number;
  eventsDigest: string;
  wallMs: number;
  simNs: number;
}

const KEEP_VIOLATIONS = 10;
/**
 * The kernel retries a transition every second; a stress run retries every 2 ms of simulated time, so
 * that a run goes through many transitions while its busy tasks burn simulated time at 1 ns/instruction.
 */
export const STRESS_RETRY_MS = 2;
/** How long (simulated) a `wait` op, and the final drain, wait for a transition. */
const WAIT_MS = 500;
/**
 * How often a wait looks at the transition (as a user polling `transition` in sysfs): once a jiffy
 * (HZ=1000), under the 2 ms retry period. A transition completes at a retry, so a coarser poll only adds
 * simulated time after it — 10 ms here made a `wait` cost 10 ms for a transition done after 2.
 */
const WAIT_STEP_MS = 1;

export async function runStress(o: StressOptions): Promise<StressResult> {
  const started = performance.now();
  const workload = buildWorkload({ cpus: o.cpus, tasks: o.tasks, seed: o.seed, nopRemoval: o.nopRemoval, shadow: o.shadow });
  const scenario = parseScenario(workload.yaml, `stress-seed-${o.seed}.yaml`);
  const sim = await Simulation.create(scenario, {
    cpus: o.cpus,
    seed: o.seed,
    deterministic: o.deterministic,
    nopRemoval: o.nopRemoval,
    unwinder: o.unwinder,
    kernelVersion: o.kernelVersion === undefined ? undefined : KernelVersion.of(o.kernelVersion),
    faults: o.faults,
    retryMs: o.retryMs ?? STRESS_RETRY_MS,
    timeslice: workload.timeslice,
    // No check reads the scheduler's churn (two events per context switch, most of the stream) or the
    // sampled redirects (a message from a CPU thread at nearly every slice that has one); a digest of the
    // whole stream (replay checks) still gets every event.
    eventsOff: o.digest ? [] : ['task.state', 'call.redirect'],
  });
  const m = sim.machine;
  const klp = sim.klp;
  const inv = new Invariants(m, klp, o.nopRemoval && scenario.nopRemoval);
  const shadowCheck = o.shadow ? new ShadowCheck(m) : null;
  const done: StressOp[] = [];
  const opsByKind = Object.fromEntries(OP_KINDS.map((k) => [k, 0])) as Record<OpKind, number>;
  const violationsByCheck: Record<string, number> = {};
  const firstViolations: ViolationRecord[] = [];
  let violations = 0;
  let events = 0;
  let hash = 0x811c9dc5;
  const sub = m.events$.subscribe((ev: SimEvent) => {
    inv.onEvent(ev);
    shadowCheck?.onEvent(ev);
    events++;
    if (o.digest) {
      const text = JSON.stringify(ev);
      for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
    }
    const check = checkOf(ev);
    if (!check) return;
    violations++;
    violationsByCheck[check] = (violationsByCheck[check] ?? 0) + 1;
    if (firstViolations.length < KEEP_VIOLATIONS) {
      const message =
        ev.type === 'violation' ? ev.message : ev.type === 'fault' ? `${ev.vector} in ${ev.comm}:${ev.pid}: ${ev.message}` : '';
      firstViolations.push({ check, message, op: done.length - 1, t: ev.t, cpu: ev.cpu, wallMs: Math.round(performance.now() - started) });
    }
  });
  const heartbeat = new HeartbeatMonitor(m).start();
  const gen = new OpGenerator(o.seed);
  const deadline = o.durationMs !== undefined ? started + o.durationMs : Infinity;
  const limit = o.replay ? o.replay.length : (o.ops ?? (o.durationMs !== undefined ? Infinity : 100));
  let error: string | null = null;

  const waitTransition = async (ms: number): Promise<void> => {
    const until = m.now + ms * 1_000_000;
    while (klp.inTransition() && m.now < until) await m.sleep(WAIT_STEP_MS);
  };

  const perform = async (op: StressOp): Promise<void> => {
    switch (op.kind) {
      case 'signal':
        return klp.signal();
      case 'sleep':
        return m.sleep(Number(op.text.split(' ')[1]));
      case 'wait':
        return waitTransition(WAIT_MS);
      default: {
        const rmmod = op.text.startsWith('rmmod ') ? op.text.slice(6) : null;
        const wasForced = rmmod !== null && klp.state.forcedModules.has(rmmod);
        const r = await sim.shell(op.text);
        if (rmmod !== null) inv.afterRmmod(rmmod, r.exit, wasForced);
      }
    }
  };

  try {
    await sim.startTasks();
    // Let the tasks get going before the first change.
    await m.sleep(5);
    for (let i = 0; i < limit && performance.now() < deadline; i++) {
      const op = o.replay ? o.replay[i] : gen.next({ klp, modules: sim.modules, transitionAgeMs: inv.transitionAgeMs() });
      done.push(op);
      opsByKind[op.kind]++;
      if (o.debugCpuFault && i === o.debugCpuFault.afterOps) m.global.set(GlobalField.DebugCpuFault, o.debugCpuFault.value);
      await perform(op);
      inv.afterOp();
      o.onProgress?.({ seed: o.seed, ops: done.length, violations });
      if (o.stopOnViolation && violations > 0) break;
    }
    // Finish what is running: the last transition must complete, by force if it is stuck.
    await waitTransition(WAIT_MS);
    const tp = klp.transitionPatch();
    if (tp) {
      await sim.shell(`echo 1 > /sys/kernel/livepatch/${tp.mod}/force`);
      await waitTransition(WAIT_MS);
    }
    inv.finalLiveness(klp.transitionPatch()?.mod ?? null);
    // The module's kthread must not outlive the run's checks; unloading it is one more op of the mix.
    if (sim.modules.isLoaded(TARGET_MODULE)) await sim.shell(`rmmod ${TARGET_MODULE}`, true);
  } catch (e) {
    error = m.abortedWith?.message ?? (e instanceof Error ? e.message : String(e));
  } finally {
    heartbeat.stop();
    await sim.dispose();
    sub.unsubscribe();
  }
  const checks: Record<string, number> = {};
  for (const [name, field] of Object.entries(CPU_CHECKS)) checks[name] = m.pcpus.reduce((n, p) => n + p.get(field), 0);
  Object.assign(checks, inv.runs);
  if (shadowCheck) checks.shadow = shadowCheck.runs;
  checks.heartbeat = m.lockstep ? 0 : 1;
  if (error && !heartbeat.hang && violations === 0) {
    violations++;
    violationsByCheck.liveness = (violationsByCheck.liveness ?? 0) + 1;
    firstViolations.push({
      check: 'liveness',
      message: `the run stopped: ${error}`,
      op: done.length - 1,
      t: m.now,
      cpu: null,
      wallMs: Math.round(performance.now() - started),
    });
  }
  const { onProgress: _p, replay: _r, ...options } = o;
  return {
    seed: o.seed,
    options,
    ops: done,
    replayed: o.replay !== undefined,
    opsByKind,
    checks,
    violations,
    violationsByCheck,
    firstViolations,
    blocked: inv.blocked,
    hang: heartbeat.hang ? `CPU ${heartbeat.hang.cpu}, last RIP ${heartbeat.hang.where}` : null,
    error,
    events,
    eventsDigest: o.digest ? (hash >>> 0).toString(16).padStart(8, '0') : '',
    wallMs: Math.round(performance.now() - started),
    simNs: m.now,
  };
}
