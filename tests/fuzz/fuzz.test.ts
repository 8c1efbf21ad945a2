/**
 * Issue 11, "Done when": at least 10 000 generated malformed inputs — mutated shipped scenarios, random
 * YAML, random shell lines, random command lines — fed to the scenario loader, the shell and the option
 * parser; every one must end in exit 0, 1 or 2 within a bounded time and memory, and never print a stack
 * trace or an "internal error".
 *
 * Each run draws a new seed (KLPSIM_FUZZ_SEED to choose it), printed with every failure and a command
 * that replays it. KLPSIM_FUZZ_N sets the number of inputs (default 10 000), KLPSIM_FUZZ_FROM and
 * KLPSIM_FUZZ_TO a range of them to replay, KLPSIM_FUZZ_MAX_FAILURES how many failures end the run
 * (default 5), KLPSIM_FUZZ_VERBOSE=1 prints what the run did.
 *
 * The inputs run in a worker process (fuzz-worker.ts); this side only watches it: an input that takes
 * longer than its time bound, or memory past its limit, ends that process, is reported, and a new one goes
 * on from the next input.
 */
import { ChildProcess, fork } from 'child_process';
import { randomInt } from 'crypto';
import { readFileSync } from 'fs';
import { resolve } from 'path';
import { describeInput, FuzzInput, inputAt, loadFuzzCorpus } from './inputs';
import type { FuzzFailure, WorkerData, WorkerMessage } from './protocol';

const env = (name: string): number | undefined =>
  process.env[name] === undefined || process.env[name] === '' ? undefined : Number(process.env[name]);

const SEED = env('KLPSIM_FUZZ_SEED') ?? randomInt(0, 2 ** 32);
const N = env('KLPSIM_FUZZ_N') ?? 10_000;
const FROM = env('KLPSIM_FUZZ_FROM') ?? 0;
const TO = env('KLPSIM_FUZZ_TO') ?? N - 1;
const MAX_FAILURES = env('KLPSIM_FUZZ_MAX_FAILURES') ?? 5;
const VERBOSE = process.env.KLPSIM_FUZZ_VERBOSE === '1';

/** Real time one input may take: a scenario run gets more than a parse or a shell line. */
// A run of a busy task makes simulated time pass at emulation speed, slower still on a loaded machine;
// the largest pathological files take seconds to check (2 MB of .asciz: 2 s unloaded).
const TIME_BOUND_MS: Record<FuzzInput['kind'], number> = { load: 20_000, run: 30_000, shell: 10_000, sleep: 10_000, argv: 10_000 };
/** The worker's heap limit, and its whole memory's (resident set: the heap, buffers, shared memory). */
const HEAP_LIMIT_MB = 1024;
const RSS_LIMIT_MB = 1536;
/** Heap one input may leave behind, and the whole run may gain (measured after a collection). */
const HEAP_PER_INPUT_MB = 256;
const HEAP_GROWTH_MB = 128;

const corpus = loadFuzzCorpus();

/** `done` with no heap figures: stopped early, enough failures found. */
type Outcome = { kind: 'done'; heapMb: number[] } | { kind: 'stopped'; at: number; failure: FuzzFailure };

function residentMb(child: ChildProcess): number {
  try {
    const pages = Number(readFileSync(`/proc/${child.pid}/statm`, 'utf8').split(' ')[1]);
    return (pages * 4096) / (1024 * 1024);
  } catch {
    return 0;
  }
}

/** Runs inputs [from, to) in one worker process until they are done or one of them ends it. */
function runWorker(from: number, to: number, onFailure: (f: FuzzFailure) => void, enough: () => boolean): Promise<Outcome> {
  const data: WorkerData = { seed: SEED, from, to, heapPerInputMb: HEAP_PER_INPUT_MB };
  const child = fork(resolve(__dirname, 'fuzz-worker.ts'), [], {
    // A larger young generation: the loader allocates much short-lived data, and scavenges were a tenth of the time.
    execArgv: ['--require', 'tsx/cjs', `--max-old-space-size=${HEAP_LIMIT_MB}`, '--max-semi-space-size=32', '--expose-gc'],
    env: { ...process.env, KLPSIM_FUZZ_WORKER: JSON.stringify(data) },
    // What the worker prints outside the harness's capture is not for jest's console.
    stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
  });
  return new Promise((done) => {
    let settled = false;
    let at = from;
    let machineStart = -1;
    let started = false;
    let lastChange = Date.now();
    let bound = TIME_BOUND_MS.load;
    const startedAt = Date.now();
    const finish = (o: Outcome): void => {
      if (settled) return;
      settled = true;
      clearInterval(timer);
      child.kill('SIGKILL');
      done(o);
    };
    const stop = (problem: string): void => {
      const input = inputAt(SEED, at, corpus);
      const shellLike = input.kind === 'shell' || input.kind === 'sleep';
      const history =
        shellLike && machineStart >= 0
          ? range(machineStart, at)
              .map((i) => inputAt(SEED, i, corpus))
              .filter((x) => x.kind === 'shell' || x.kind === 'sleep')
              .map((x) => describeInput(x))
          : [];
      finish({
        kind: 'stopped',
        at,
        failure: {
          index: at,
          kind: input.kind,
          problem,
          input: describeInput(input),
          history,
          machineStart: shellLike && machineStart >= 0 ? machineStart : at,
        },
      });
    };
    const timer = setInterval(() => {
      if (enough()) return finish({ kind: 'done', heapMb: [] });
      const rss = residentMb(child);
      if (rss > RSS_LIMIT_MB)
        return stop(`the process's memory passed ${RSS_LIMIT_MB} MB (${Math.round(rss)} MB resident): a runaway allocation`);
      // The first input also pays for loading the worker's code.
      const allowance = bound + (started ? 0 : 60_000);
      if (Date.now() - lastChange > allowance)
        stop(
          `no result after ${Math.round((Date.now() - lastChange) / 1000)} s (the bound for this kind of input is ${bound / 1000} s): a hang`,
        );
    }, 100);
    child.on('message', (m: WorkerMessage) => {
      if (m.type === 'at') {
        at = m.index;
        started = true;
        lastChange = Date.now();
        bound = TIME_BOUND_MS[inputAt(SEED, at, corpus).kind];
      } else if (m.type === 'machine') machineStart = m.start;
      else if (m.type === 'failure') onFailure(m.failure);
      else {
        if (VERBOSE)
          process.stdout.write(
            `fuzz: inputs ${from}-${to - 1} in ${Date.now() - startedAt} ms, heap after each 1000 (MB): ${m.heapMb.join(' ')}\n  ${m.stats}\n`,
          );
        finish({ kind: 'done', heapMb: m.heapMb });
      }
    });
    child.on('exit', (code, signal) => {
      if (!settled)
        stop(
          code === 134 || signal === 'SIGABRT'
            ? 'the process aborted (a native allocation failure?)'
            : `the process exited mid-run (code ${code}, signal ${signal})`,
        );
    });
  });
}

const range = (a: number, b: number): number[] => Array.from({ length: Math.max(0, b - a) }, (_, k) => a + k);

function report(failures: FuzzFailure[], ran: string): string {
  const lines = [
    `fuzz seed ${SEED}: ${failures.length} failing input(s) ${ran} (reproduce the run: KLPSIM_FUZZ_SEED=${SEED} KLPSIM_FUZZ_N=${N} npx jest tests/fuzz)`,
  ];
  for (const f of failures) {
    lines.push('', `--- input ${f.index} (${f.kind}): ${f.problem}`, f.input);
    if (f.history.length > 0) lines.push(`  after, on the same machine:`, ...f.history.slice(-40).map((h) => `    ${h.split('\n')[0]}`));
    lines.push(`  replay: KLPSIM_FUZZ_SEED=${SEED} KLPSIM_FUZZ_FROM=${f.machineStart} KLPSIM_FUZZ_TO=${f.index} npx jest tests/fuzz`);
  }
  return lines.join('\n');
}

test(`${TO - FROM + 1} generated malformed inputs end in exit 0, 1 or 2, bounded, without a stack trace`, async () => {
  const failures: FuzzFailure[] = [];
  let next = FROM;
  let heapMb: number[] = [];
  while (next <= TO && failures.length < MAX_FAILURES) {
    const outcome = await runWorker(
      next,
      TO + 1,
      (f) => failures.push(f),
      () => failures.length >= MAX_FAILURES,
    );
    if (outcome.kind === 'done') {
      heapMb = outcome.heapMb;
      break;
    }
    failures.push(outcome.failure);
    next = outcome.at + 1;
  }
  if (heapMb.length >= 2 && heapMb[heapMb.length - 1] - heapMb[0] > HEAP_GROWTH_MB) {
    failures.push({
      index: TO,
      kind: 'run',
      problem: `the heap grew from ${heapMb[0]} MB to ${heapMb[heapMb.length - 1]} MB over the run (after each 1000 inputs: ${heapMb.join(' ')}): a leak`,
      input: '(the whole run)',
      history: [],
      machineStart: FROM,
    });
  }
  failures.sort((a, b) => a.index - b.index);
  const last = failures[failures.length - 1]?.index ?? TO;
  const ran =
    failures.length >= MAX_FAILURES && last < TO
      ? `in inputs ${FROM}-${last} (stopped there: KLPSIM_FUZZ_MAX_FAILURES=${MAX_FAILURES})`
      : `in inputs ${FROM}-${TO}`;
  if (failures.length > 0) throw new Error(report(failures.slice(0, MAX_FAILURES + 5), ran));
}, 600_000);
