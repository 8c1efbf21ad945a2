/**
 * The option values the commands share, parsed and bounded the same way by every command (`run`,
 * `watch`, `serve`, `demo`, `stress`, `bench`): a value out of range is a usage error (commander prints
 * it, exit 2) before anything runs — never a run that silently wraps the value or exhausts the host.
 */
import { InvalidArgumentError } from 'commander';
import { Unwinder, UNWINDERS } from '../kernel/stack-walk';
import type { OutputFormat } from './format-event';
import { MAX_CPUS } from '../mem/layout';
import { MAX_SEED } from '../util/prng';
import { DEFAULT_KERNEL_VERSION, KernelVersion, SUPPORTED_KERNEL_VERSIONS } from '../kernel/kernel-version';

/**
 * A decimal integer in [min, max]. Strict where Number() is lax: no '', ' 5', '1e3', '0x10' or '5.0',
 * and a value too large for a double to hold exactly is out of range rather than rounded.
 */
export function intOption(name: string, min: number, max: number): (v: string) => number {
  const bounds = max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `between ${min} and ${max}`;
  return (v: string): number => {
    if (!/^[0-9]+$/.test(v)) throw new InvalidArgumentError(`${name} must be an integer ${bounds}`);
    const n = BigInt(v);
    if (n < BigInt(min) || n > BigInt(max)) throw new InvalidArgumentError(`${name} must be ${bounds}`);
    return Number(n);
  };
}

export const cpusOption = intOption('--cpus', 1, MAX_CPUS);
export const seedOption = intOption('--seed', 0, MAX_SEED);
export const portOption = intOption('--port', 0, 65535);
/** Stress runs side by side: each is a thread running a whole machine, so as bounded as CPUs. */
export const jobsOption = intOption('--jobs', 1, MAX_CPUS);
/** A count of things to do (ops, runs, pokes): bounded below only, as a large one only costs time. */
export const countOption = (name: string, min = 1): ((v: string) => number) => intOption(name, min, Number.MAX_SAFE_INTEGER);

/** One of a fixed set of words (`--format`, `--unwinder`), refused as every other bad option value is. */
export function choiceOption<T extends string>(name: string, choices: readonly T[]): (v: string) => T {
  return (v: string): T => {
    if (!(choices as readonly string[]).includes(v)) throw new InvalidArgumentError(`${name} must be one of ${choices.join(', ')}`);
    return v as T;
  };
}

export const formatOption = choiceOption<OutputFormat>('--format', ['pretty', 'dmesg', 'ndjson']);
export const unwinderOption = choiceOption<Unwinder>('--unwinder', UNWINDERS);

/** `--kernel-version V`: a release klpsim models (SPEC section 8), `5.1` … `6.13`. */
export function kernelVersionOption(v: string): KernelVersion {
  const kv = KernelVersion.parse(v);
  if (!kv)
    throw new InvalidArgumentError(
      `--kernel-version must be a release from ${SUPPORTED_KERNEL_VERSIONS[0]} to ${SUPPORTED_KERNEL_VERSIONS[SUPPORTED_KERNEL_VERSIONS.length - 1]} (e.g. 5.1, 6.12)`,
    );
  return kv;
}

export const KERNEL_VERSION_HELP = `the kernel release whose livepatch behaviour to follow, 5.1 … 6.13 (default: the scenario's, else ${DEFAULT_KERNEL_VERSION})`;
