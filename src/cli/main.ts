#!/usr/bin/env node
/**
 * The klpsim command line (SPEC section 1). Exit codes: 0 success, 1 a violation or failed expectation,
 * 2 bad input — and never a stack trace for bad input.
 */
import { Command } from 'commander';
import { formatEvent, OutputFormat } from './format-event';
import { runDemo } from './demo';
import { runScenario, checkScenario, RunCliOptions } from './run-command';
import { addRunOptions, RUN_OPTION_KEYS, runOptionFlag } from './run-options';
import { watchScenario, WatchCliOptions } from './watch';
import { stressCommand, StressCliOptions, StressUsageError } from './stress-command';
import { stressMergeCommand } from './stress-merge-command';
import { serveCommand, ServeCliOptions } from './serve-command';
import { runBench } from '../bench/run';
import { SimError } from '../coordinator/machine';
import {
  countOption,
  cpusOption,
  formatOption,
  intOption,
  jobsOption,
  kernelVersionOption,
  portOption,
  seedOption,
  unwinderOption,
} from './options';
import { FAULTS, MAX_STRESS_TASKS } from './stress-command';
import { exitQuietlyOnClosedOutput } from './closed-output';

/** A usage error found in an action (after commander's own parsing): printed here, exit 2. */
class UsageError extends Error {}

export async function main(argv: string[]): Promise<number> {
  let code = 0;
  const program = new Command('klpsim')
    .description('a multi-CPU simulator of Linux kernel live patching on emulated x86-64')
    .exitOverride()
    // Needed for `stress merge … --json` to be merge's option (see the stress command below).
    .enablePositionalOptions()
    // commander's own usage errors (a bad option value, an unknown option) read like klpsim's other ones.
    .configureOutput({ writeErr: (s) => process.stderr.write(s), outputError: (s, write) => write(s.replace(/^error: /, 'klpsim: ')) });

  addRunOptions(
    program
      .command('run')
      .description('run a scenario, streaming events as they happen')
      .argument('<file>', 'scenario file (YAML)')
      .option('--format <f>', 'pretty | dmesg | ndjson', formatOption, 'pretty' as OutputFormat)
      .option('--trace <out>', 'write a Chrome trace-event JSON file'),
  ).action(async (file: string, o: RunCliOptions) => {
    code = await runScenario(file, o);
  });

  addRunOptions(
    program
      .command('watch')
      .description('run a scenario with a live terminal view (plain event lines when stdout is not a terminal)')
      .argument('<file>', 'scenario file (YAML)'),
  ).action(async (file: string, o: WatchCliOptions) => {
    code = await watchScenario(file, o);
  });

  addRunOptions(
    program
      .command('serve')
      .description('run a scenario (or replay a recorded ndjson stream) and show it live in the browser')
      .argument('[file]', 'scenario file (YAML)')
      .option('--replay <run.ndjson>', 'show a recorded stream (`klpsim run FILE --format ndjson`) instead of running a scenario')
      .option('--port <n>', 'TCP port (0: any free port)', portOption, 8080)
      .option('--host <h>', 'address to listen on', '127.0.0.1')
      .option('--paused', 'with --deterministic: hold the run before its first step (resume or step from the page)', false),
    'run all CPUs in lockstep on one thread (same seed, same stream); enables pause and step',
  ).action(async (file: string | undefined, o: ServeCliOptions, cmd: Command) => {
    if ((file === undefined) === (o.replay === undefined))
      throw new UsageError('serve needs a scenario FILE or --replay RUN.ndjson (not both)');
    if (o.paused && !o.deterministic) throw new UsageError('--paused needs --deterministic (worker CPUs cannot be held)');
    if (o.replay !== undefined) {
      // Options that shape a run mean nothing for a recording: say so rather than ignore them.
      const runOnly = [...RUN_OPTION_KEYS, 'paused' as const].filter((k) => cmd.getOptionValueSource(k) === 'cli');
      if (runOnly.length > 0)
        throw new UsageError(
          `--replay shows a recorded run: ${runOnly.map((k) => (k === 'paused' ? '--paused' : runOptionFlag(k))).join(', ')} cannot apply`,
        );
    }
    code = await serveCommand(file, o);
  });

  program
    .command('check')
    .description('validate a scenario without running it')
    .argument('<file>', 'scenario file (YAML)')
    .action(async (file: string) => {
      code = checkScenario(file);
    });

  program
    .command('demo')
    .description('run the bare machine: tasks on several CPUs while an ftrace site is patched live')
    .option('--cpus <n>', 'simulated CPUs', cpusOption, 4)
    .option('--seed <s>', 'seed of the interleaving (with --deterministic)', seedOption, 1)
    .option('--pokes <n>', 'times the ftrace site is switched', countOption('--pokes', 0), 6)
    .option('--format <f>', 'pretty | dmesg | ndjson', formatOption, 'pretty' as OutputFormat)
    .option('--deterministic', 'run all CPUs in lockstep on one thread (reproducible)', false)
    .action(async (o: { cpus: number; seed: number; pokes: number; format: OutputFormat; deterministic: boolean }) => {
      const r = await runDemo({
        cpus: o.cpus,
        seed: o.seed,
        pokes: o.pokes,
        deterministic: o.deterministic,
        onEvent: (ev) => {
          const line = formatEvent(ev, o.format);
          if (line !== null) process.stdout.write(line + '\n');
        },
      });
      code = r.violations > 0 ? 1 : 0;
    });

  const stress = program
    .command('stress')
    .description('random patch / replace / disable / force / module load-unload sequences under load, with invariant checks')
    // `stress merge … --json` is merge's --json, not the runs' own.
    .enablePositionalOptions()
    .option('--cpus <n>', 'simulated CPUs per run', cpusOption, 4)
    .option('--tasks <m>', 'tasks per run', intOption('--tasks', 1, MAX_STRESS_TASKS), 16)
    .option('--ops <k>', 'operations per run (default 100 unless --duration)', countOption('--ops', 0))
    .option('--duration <time>', 'run each seed for this long (real time: 30s, 2m, 500ms)')
    .option('--seed <s>', 'first seed', seedOption, 1)
    .option('--jobs <j>', 'runs side by side (piscina threads; default: as many as the cores take)', jobsOption)
    .option('--runs <r>', 'seeds to run: seed, seed+1, … (default: --jobs, else 1)', countOption('--runs'))
    .option('--shard <i/n>', 'run only the i-th of n slices of those seeds (1/n … n/n; needs --runs)')
    .option(
      '--inject <fault>',
      `inject a fault (repeatable): ${FAULTS.join(', ')}`,
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .option(
      '--workload <w>',
      `default | shadow (adds patched code attaching, reading and freeing shadow variables on every CPU; implied by --inject shadow-free-no-rcu)`,
    )
    .option('--deterministic', 'run each simulation in lockstep on one thread (a seed replays exactly)', false)
    .option('--no-nop-removal', 'the kernel before "livepatch: Remove Nop structures when unused"')
    .option('--unwinder <u>', 'the reliable stack unwinder: orc | frame-pointer', unwinderOption, 'orc')
    .option(
      '--kernel-version <v>',
      'the kernel release whose livepatch behaviour to follow, 5.1 … 6.13 (default 6.12)',
      kernelVersionOption,
    )
    .option('--shrink', 'reduce the first failing seed to a short failing op sequence', false)
    .option('--replay-ops <ops>', "perform exactly these ops ('op; op; …', as a report prints them)")
    .option('--json', 'print the results as JSON', false)
    .action(async (o: StressCliOptions) => {
      try {
        code = await stressCommand(o);
      } catch (e) {
        if (e instanceof StressUsageError) throw new UsageError(e.message);
        throw e;
      }
    });

  stress
    .command('merge')
    .description('combine `klpsim stress --json` results (e.g. the shards of a sweep) into the totals of one run')
    .argument('<files...>', 'the --json result files')
    .option('--json', 'print the merged results as JSON (mergeable again)', false)
    .action((files: string[], o: { json: boolean }) => {
      try {
        code = stressMergeCommand(files, o);
      } catch (e) {
        if (e instanceof StressUsageError) throw new UsageError(e.message);
        throw e;
      }
    });

  program
    .command('bench')
    .description('measure emulation speed (SPEC section 6)')
    .option('--json', 'print JSON', false)
    .option('--ms <n>', 'milliseconds per measurement', intOption('--ms', 1, 600_000), 1500)
    .action(async (o: { json: boolean; ms: number }) => {
      await runBench({ json: o.json, ms: o.ms, out: (s) => process.stdout.write(s) });
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    const err = e as { code?: string; exitCode?: number; message?: string };
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
    if (e instanceof UsageError) {
      process.stderr.write(`klpsim: ${e.message}\n`);
      return 2;
    }
    // commander has already printed its own usage errors.
    if (typeof err.code === 'string' && err.code.startsWith('commander.')) return 2;
    // The simulation could not go on (a limit of the machine, a CPU thread that died): the run failed.
    if (e instanceof SimError) {
      process.stderr.write(`klpsim: ${e.message}\n`);
      return 1;
    }
    process.stderr.write(`klpsim: internal error: ${err.message ?? String(e)}\n`);
    return 1;
  }
  return code;
}

if (require.main === module) {
  exitQuietlyOnClosedOutput();
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`klpsim: internal error: ${String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
