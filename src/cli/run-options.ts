/**
 * The options every scenario-running command (`run`, `watch`, `serve`) takes, declared once so that their
 * names, help and parsing cannot drift apart between the commands.
 */
import type { Command } from 'commander';
import { cpusOption, KERNEL_VERSION_HELP, kernelVersionOption, seedOption, unwinderOption } from './options';

const UNWINDER_HELP = "the reliable stack unwinder: orc | frame-pointer (default: the scenario's, else orc)";
const DETERMINISTIC_HELP = 'run all CPUs in lockstep on one thread (same seed, same stream)';

/** The commander keys of those options (for `serve --replay`, where none of them can apply). */
export const RUN_OPTION_KEYS = ['cpus', 'seed', 'nopRemoval', 'unwinder', 'kernelVersion', 'deterministic', 'verbose'] as const;

/** Adds the scenario-run options to `cmd`; `deterministicHelp` says what else --deterministic enables there. */
export function addRunOptions(cmd: Command, deterministicHelp = DETERMINISTIC_HELP): Command {
  return cmd
    .option('--cpus <n>', "simulated CPUs (default: the scenario's)", cpusOption)
    .option('--seed <s>', "seed (default: the scenario's)", seedOption)
    .option('--no-nop-removal', 'keep NOP klp_funcs until their patch is disabled (the kernel before the seed)')
    .option('--unwinder <u>', UNWINDER_HELP, unwinderOption)
    .option('--kernel-version <v>', KERNEL_VERSION_HELP, kernelVersionOption)
    .option('--deterministic', deterministicHelp, false)
    .option('--verbose', "also print klp_try_switch_task's per-task debug lines", false);
}

/** `--kernel-version` for a key of RUN_OPTION_KEYS (`nopRemoval` is the negated `--no-nop-removal`). */
export function runOptionFlag(key: (typeof RUN_OPTION_KEYS)[number]): string {
  if (key === 'nopRemoval') return '--no-nop-removal';
  return '--' + key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}
