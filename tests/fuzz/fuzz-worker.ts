/**
 * The fuzz harness's worker process: feeds inputs [from, to) of a seed to the real entry points in-process
 * — `parseScenario`, `main([...])` of src/cli/main.ts, and `Simulation.shell()` on a `--deterministic`
 * machine built from a shipped scenario — and checks each outcome against the oracle. It runs apart from
 * jest so that a hang or a runaway allocation can be cut off from outside: it tells the parent which input
 * it starts, and the parent kills it when an input overstays its time or its memory passes a bound (a
 * process, not a worker thread: a native allocation failure aborts the whole process it happens in).
 *
 * Command lines never start a machine: the harness stands in for the points where a command would start
 * one (Machine.create, the stress pool, the benchmarks, the server's listen), checks the options that
 * reached them, and stops there — running what a random command line asks for is not the option parser's
 * business and would cost minutes. Scenario inputs that pass `check` do run, lockstep and small.
 */
import { Server } from 'node:http';
import Module from 'node:module';
import { getHeapStatistics } from 'node:v8';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Machine, MachineOptions, SimError } from '../../src/coordinator/machine';
import { parseScenario, ScenarioError, ShellParseError } from '../../src/scenario';
import { Simulation } from '../../src/scenario/simulation';
import { FuzzFiles } from './fuzz-files';
import { describeInput, FuzzInput, inputAt, loadFuzzCorpus, SHELL_SCENARIOS } from './inputs';
import { badDiagnostics, EXIT_CODES, forbiddenIn } from './oracle';
import { FuzzFailure, WorkerData, WorkerMessage } from './protocol';

const data = JSON.parse(process.env.KLPSIM_FUZZ_WORKER as string) as WorkerData;
const send = (m: WorkerMessage): void => {
  process.send?.(m);
};
const root = resolve(__dirname, '../..');

// ---------------------------------------------------------------------------------------------------
// Standing in for the launch of a run

/** The message of the error that stops a command line where it would start a machine. */
const LAUNCH = 'fuzz-launch-probe';
let probing = false;
let launchProblem: string | null = null;

function launch(what: string, problems: (string | false)[]): never {
  const bad = problems.filter((p): p is string => typeof p === 'string');
  if (bad.length > 0) launchProblem = `${what} started with ${bad.join('; ')}`;
  throw new Error(`${LAUNCH}: ${what}`);
}

const isCount = (n: unknown, lo: number, hi: number): boolean => typeof n === 'number' && Number.isSafeInteger(n) && n >= lo && n <= hi;
const seedOk = (s: unknown): boolean => s === undefined || (typeof s === 'number' && Number.isSafeInteger(s) && s >= 0);

const realCreate = Machine.create.bind(Machine);
Machine.create = (o: MachineOptions = {}): Promise<Machine> => {
  if (!probing) return realCreate(o);
  launch('a machine', [
    !isCount(o.cpus ?? 4, 1, 64) && `cpus ${String(o.cpus)} (the machine has 1 to 64 CPUs)`,
    !seedOk(o.seed) && `seed ${String(o.seed)} (not an integer the PRNG takes as given)`,
  ]);
};

/** Replaces a module by a stand-in before anything requires it; `paths` are where it may live (the first found). */
function standIn(paths: string[], exports: Record<string, unknown>): void {
  const file = paths
    .map((p) => {
      try {
        return require.resolve(p);
      } catch {
        return null;
      }
    })
    .find((f): f is string => f !== null);
  if (file === undefined) throw new Error(`fuzz harness: none of ${paths.join(', ')} exists`);
  const m = new Module(file);
  m.filename = file;
  m.loaded = true;
  m.exports = exports;
  require.cache[file] = m;
}

// The pool's other exports (defaultJobs …) are its own: only starting runs is stood in for.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const realPool = require('../../src/stress/pool') as Record<string, unknown>;
standIn(['../../src/stress/pool'], {
  ...realPool,
  runSeeds: (base: { cpus: number; tasks: number; ops?: number; durationMs?: number }, seeds: number[], jobs: number) =>
    launch('stress runs', [
      !isCount(base.cpus, 1, 64) && `cpus ${base.cpus}`,
      seeds.some((s) => !seedOk(s)) && `seeds ${seeds[0]}…`,
      !isCount(jobs, 1, 64) && `jobs ${jobs} (each one a thread running a machine)`,
      base.ops !== undefined && !isCount(base.ops, 0, Number.MAX_SAFE_INTEGER) && `ops ${base.ops}`,
      base.durationMs !== undefined && !(Number.isFinite(base.durationMs) && base.durationMs >= 0) && `duration ${base.durationMs} ms`,
    ]),
});
// The benchmarks' home is moving under src/ (issue 11, item 17).
standIn(['../../src/bench/run', '../../bench/run'], {
  runBench: (o: { ms: number }) => launch('the benchmarks', [!isCount(o.ms, 0, Number.MAX_SAFE_INTEGER) && `ms ${o.ms}`]),
});

const realListen = Server.prototype.listen;
Server.prototype.listen = function (this: Server, ...args: unknown[]): Server {
  if (!probing) {
    realListen.apply(this, args as Parameters<Server['listen']>);
    return this;
  }
  // As a port that cannot be had: the server reports it through 'error', as listen() would.
  const port = args[0];
  const problem = typeof port === 'number' && !isCount(port, 0, 65535) ? `port ${port}` : false;
  if (problem) launchProblem = `the server started with ${problem}`;
  setImmediate(() => this.emit('error', Object.assign(new Error(LAUNCH), { code: 'EFUZZ' })));
  return this;
} as typeof Server.prototype.listen;

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { main } = require('../../src/cli/main') as typeof import('../../src/cli/main');

// ---------------------------------------------------------------------------------------------------
// Capturing what the user would see

const CAPTURE = 8192;

class Capture {
  out = '';
  err = '';
  forbidden: string | null = null;
  /** Characters written in all, kept or not. */
  readonly written = { out: 0, err: 0 };
  private readonly full = { out: false, err: false };
  private readonly writeOut = process.stdout.write;
  private readonly writeErr = process.stderr.write;

  start(): void {
    const grab =
      (which: 'out' | 'err') =>
      (chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
        const s = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
        this.forbidden ??= forbiddenIn(s);
        this.written[which] += s.length;
        // Whole lines only, so the oracle never judges a line cut short.
        if (!this.full[which]) {
          const room = s.slice(0, CAPTURE - this[which].length);
          if (room.length === s.length) this[which] += s;
          else {
            this[which] += room.slice(0, room.lastIndexOf('\n') + 1);
            this.full[which] = true;
          }
        }
        const cb = rest.find((x) => typeof x === 'function') as (() => void) | undefined;
        cb?.();
        return true;
      };
    process.stdout.write = grab('out');
    process.stderr.write = grab('err');
  }

  stop(): string | null {
    process.stdout.write = this.writeOut;
    process.stderr.write = this.writeErr;
    return this.forbidden;
  }
}

interface CliOutcome {
  code: unknown;
  out: string;
  err: string;
  /** Characters written to stderr, kept in `err` or not. */
  errWritten: number;
  forbidden: string | null;
}

async function cli(argv: string[]): Promise<CliOutcome> {
  const c = new Capture();
  c.start();
  let code: unknown;
  try {
    code = await main(argv);
  } catch (e) {
    code = `main() threw ${(e as Error)?.stack ?? String(e)}`;
  } finally {
    c.stop();
  }
  return { code, out: c.out, err: c.err, errWritten: c.written.err, forbidden: c.forbidden };
}

// ---------------------------------------------------------------------------------------------------
// The shell's machine

interface ShellMachine {
  sim: Simulation;
  start: number;
  history: string[];
}

let machine: ShellMachine | null = null;
/** A machine serves this many inputs, then a fresh one is built (so state stays varied, and bounded). */
const MACHINE_SPAN = 400;

async function machineFor(index: number): Promise<ShellMachine> {
  if (machine && Math.floor(machine.start / MACHINE_SPAN) !== Math.floor(index / MACHINE_SPAN)) await dropMachine();
  if (machine) return machine;
  const file = SHELL_SCENARIOS[Math.floor(index / MACHINE_SPAN) % SHELL_SCENARIOS.length];
  const sim = await Simulation.create(parseScenario(readFileSync(resolve(root, file), 'utf8'), file), { deterministic: true });
  await sim.startTasks();
  machine = { sim, start: index, history: [`(machine of ${file}, --deterministic, tasks started)`] };
  send({ type: 'machine', start: index });
  return machine;
}

async function dropMachine(): Promise<void> {
  const m = machine;
  machine = null;
  send({ type: 'machine', start: -1 });
  if (m) await m.sim.dispose();
}

// ---------------------------------------------------------------------------------------------------
// One input

async function runInput(index: number, input: FuzzInput): Promise<string | null> {
  switch (input.kind) {
    case 'load':
      return input.via === 'parse' ? loadText(input.text) : checkFile(input.text);
    case 'run': {
      const quick = loadText(input.text);
      if (quick !== null) return quick;
      try {
        parseScenario(input.text, 'fuzz.yaml');
      } catch {
        return null;
      }
      const file = files.scratch(input.text);
      const r = await cli(['run', file, '--deterministic', '--format', input.format]);
      return judgeCli(r, file, input.text);
    }
    case 'shell':
    case 'sleep': {
      const m = await machineFor(index);
      m.history.push(describeInput(input));
      return shell(m, input);
    }
    case 'argv': {
      probing = true;
      launchProblem = null;
      try {
        const r = await cli(input.argv.map((a) => files.resolve(a)));
        if (launchProblem) return launchProblem;
        const launched = typeof r.code === 'number' && `${r.out}\n${r.err}`.includes(LAUNCH);
        if (launched) {
          // Our own stand-in's error, not the user's: what is left must still be clean.
          const rest = (s: string): string =>
            s
              .split('\n')
              .filter((l) => !l.includes(LAUNCH))
              .join('\n');
          return judgeCli(
            { ...r, out: rest(r.out), err: rest(r.err), forbidden: forbiddenIn(rest(r.out) + '\n' + rest(r.err)), code: 0 },
            null,
            '',
          );
        }
        return judgeCli(r, null, '');
      } finally {
        probing = false;
      }
    }
  }
}

function loadText(text: string): string | null {
  try {
    parseScenario(text, 'fuzz.yaml');
    return null;
  } catch (e) {
    if (!(e instanceof ScenarioError)) return `parseScenario threw ${(e as Error)?.stack ?? String(e)}`;
    return forbiddenIn(e.message) ?? badDiagnostics(e.message, 'fuzz.yaml', text);
  }
}

function checkFile(text: string): Promise<string | null> {
  const file = files.scratch(text);
  return cli(['check', file]).then((r) => judgeCli(r, file, text));
}

/** A command's outcome: its exit code, what it printed, and for a scenario file, where its errors point. */
function judgeCli(r: CliOutcome, file: string | null, text: string): string | null {
  if (typeof r.code !== 'number' || !EXIT_CODES.includes(r.code)) return `exit ${String(r.code)}\nstderr: ${r.err}`;
  if (r.forbidden) return `printed ${r.forbidden}\nstderr: ${r.err}`;
  if (r.code === 2 && r.errWritten === 0) return 'exit 2 without a message on stderr';
  if (r.code === 2 && file !== null && r.err !== '') {
    const bad = badDiagnostics(r.err, file, text);
    if (bad) return `${bad}\nstderr: ${r.err}`;
  }
  return null;
}

async function shell(m: ShellMachine, input: Extract<FuzzInput, { kind: 'shell' | 'sleep' }>): Promise<string | null> {
  try {
    if (input.kind === 'sleep') {
      await m.sim.machine.sleep(input.ms);
      return null;
    }
    const r = await m.sim.shell(input.line);
    if (!EXIT_CODES.includes(r.exit)) return `exit ${r.exit}`;
    return forbiddenIn(r.stdout) ?? forbiddenIn(r.stderr);
  } catch (e) {
    if (e instanceof ShellParseError) {
      if (!Number.isInteger(e.col) || e.col < 1 || e.col > (input as { line: string }).line.length + 1)
        return `ShellParseError at column ${e.col} of a ${(input as { line: string }).line.length}-character line: ${e.message}`;
      return forbiddenIn(e.message);
    }
    // The machine could not go on (a limit, a dead CPU): the run would end with exit 1. Build another.
    if (e instanceof SimError) {
      await dropMachine();
      return forbiddenIn(e.message);
    }
    await dropMachine();
    return `threw ${(e as Error)?.stack ?? String(e)}`;
  }
}

// ---------------------------------------------------------------------------------------------------
// The loop

/** Node warnings (process.emitWarning) reach the user's terminal too, after the command has returned. */
let warning: string | null = null;
process.on('warning', (w) => {
  warning ??= `a Node warning on stderr: (node) ${w.name}: ${w.message}`;
});

const gc = (globalThis as { gc?: () => void }).gc ?? ((): void => {});
const files = new FuzzFiles();
const corpus = loadFuzzCorpus();
const MB = 1024 * 1024;

async function loop(): Promise<void> {
  const heapAt: number[] = [];
  const cpu0 = process.cpuUsage();
  const timing: Record<string, [number, number, number]> = {};
  for (let i = data.from; i < data.to; i++) {
    const input = inputAt(data.seed, i, corpus);
    send({ type: 'at', index: i });
    const before = getHeapStatistics().used_heap_size;
    const t0 = performance.now();
    let problem: string | null;
    warning = null;
    try {
      problem = await runInput(i, input);
      await new Promise((r) => setImmediate(r));
      problem ??= warning;
    } catch (e) {
      problem = `the harness itself threw ${(e as Error)?.stack ?? String(e)}`;
    }
    const grew = getHeapStatistics().used_heap_size - before;
    const took = performance.now() - t0;
    const key = input.kind === 'load' ? `load/${input.via}` : input.kind;
    const t = (timing[key] ??= [0, 0, 0]);
    t[0]++;
    t[1] += took;
    t[2] = Math.max(t[2], took);
    if (problem === null && grew > data.heapPerInputMb * MB) {
      // Garbage counts until a collection: only what survives one is kept by the input.
      gc();
      const kept = getHeapStatistics().used_heap_size - before;
      if (kept > data.heapPerInputMb * MB) problem = `the heap grew by ${Math.round(kept / MB)} MB during this input`;
    }
    if (problem !== null) {
      const failure: FuzzFailure = {
        index: i,
        kind: input.kind,
        problem,
        input: describeInput(input),
        history: input.kind === 'shell' || input.kind === 'sleep' ? (machine?.history.slice(0, -1) ?? []) : [],
        machineStart: input.kind === 'shell' || input.kind === 'sleep' ? (machine?.start ?? i) : i,
      };
      send({ type: 'failure', failure });
    }
    if ((i - data.from) % 1000 === 999) {
      gc();
      heapAt.push(getHeapStatistics().used_heap_size);
    }
  }
  await dropMachine();
  gc();
  heapAt.push(getHeapStatistics().used_heap_size);
  const cpu = process.cpuUsage(cpu0);
  const stats =
    `CPU ${Math.round((cpu.user + cpu.system) / 1000)} ms; ` +
    Object.entries(timing)
      .map(([k, [n, total, max]]) => `${k}: ${n} in ${Math.round(total)} ms (max ${Math.round(max)})`)
      .join(', ');
  send({ type: 'done', heapMb: heapAt.map((h) => Math.round(h / MB)), stats });
  process.disconnect?.();
}

void loop();
