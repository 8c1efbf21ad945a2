/**
 * Input number `index` of a fuzz run with seed `seed`: a pure function of the two (and of the corpus
 * files), so the harness can regenerate any input to print it or to replay it alone.
 */
import { readFileSync } from 'fs';
import { resolve } from 'path';
import { parseScenario } from '../../src/scenario';
import { commandLine, FILE_MEANINGS, FilePlaceholder } from './gen-argv';
import { loadCorpus, mutate, pathological, randomYaml, runnable, ScenarioText, structured } from './gen-scenario';
import { shellLine, ShellVocabulary, vocabularyOf } from './gen-shell';
import { Rand } from './rand';

export type FuzzInput =
  /** A scenario text for the loader: `parseScenario` directly, or `klpsim check` on a file holding it. */
  | { kind: 'load'; via: 'parse' | 'check'; text: string; note: string }
  /** A scenario that may pass check: if it does, `klpsim run --deterministic` runs it. */
  | { kind: 'run'; text: string; note: string; format: string }
  /** A line for the shell of the machine built from SHELL_SCENARIOS[machine]. */
  | { kind: 'shell'; line: string }
  /** Simulated time passing between shell lines (so transitions complete). */
  | { kind: 'sleep'; ms: number }
  /** A `klpsim` command line; `@…` operands are files the harness provides. */
  | { kind: 'argv'; argv: string[] };

/** The shipped scenarios whose machines the shell lines run on, one machine at a time. */
export const SHELL_SCENARIOS = ['scenarios/test-callbacks.yaml', 'scenarios/test-sysfs.yaml', 'scenarios/atomic-replace-nops.yaml'];

export interface FuzzCorpus {
  scenarios: { name: string; text: string }[];
  /** One vocabulary for every shell machine: a line naming another machine's module is a fine input too. */
  shell: ShellVocabulary;
}

export function loadFuzzCorpus(): FuzzCorpus {
  const root = resolve(__dirname, '../..');
  const vocabs = SHELL_SCENARIOS.map((f) => vocabularyOf(parseScenario(readFileSync(resolve(root, f), 'utf8'), f)));
  const union = <T>(xs: T[][]): T[] => [...new Map(xs.flat().map((x) => [JSON.stringify(x), x])).values()];
  return {
    scenarios: loadCorpus(),
    shell: {
      modules: union(vocabs.map((v) => v.modules)),
      params: union(vocabs.map((v) => v.params)),
      patches: union(vocabs.map((v) => v.patches)),
      objects: union(vocabs.map((v) => v.objects)),
      funcs: union(vocabs.map((v) => v.funcs)),
      proc: union(vocabs.map((v) => v.proc)),
    },
  };
}

/**
 * How often each kind comes up (per 10 000), by cost: a shell line or a command line takes about a
 * millisecond, a parse a few, a file check or a run tens to hundreds.
 */
const WEIGHTS = { parse: 2600, check: 150, pathological: 25, run: 40, shell: 4900, sleep: 150, argv: 2135 } as const;

function scenarioText(r: Rand, c: FuzzCorpus): ScenarioText {
  return r.weighted<() => ScenarioText>([
    // Smaller files more often: a mutation of a fixture finds as much as one of the flagship, in a fifth of the time.
    [6, () => mutate(r, r.weighted(c.scenarios.map((x) => [1 / Math.sqrt(x.text.length + 100), x] as const)))],
    [2, () => structured(r, false)],
    [1, () => randomYaml(r)],
  ])();
}

export function inputAt(seed: number, index: number, c: FuzzCorpus): FuzzInput {
  const r = new Rand(seed, index);
  const kind = r.weighted(Object.entries(WEIGHTS).map(([k, w]) => [w, k as keyof typeof WEIGHTS] as const));
  switch (kind) {
    case 'parse':
      return { kind: 'load', via: 'parse', ...scenarioText(r, c) };
    case 'check':
      return { kind: 'load', via: 'check', ...scenarioText(r, c) };
    case 'pathological':
      // Through the CLI, as a user meets them: a file on disk.
      return { kind: 'load', via: 'check', ...pathological(r) };
    case 'run':
      return { kind: 'run', ...runnable(r), format: r.pick(['ndjson', 'dmesg', 'pretty']) };
    case 'shell':
      return { kind: 'shell', line: shellLine(r, c.shell) };
    case 'sleep':
      return { kind: 'sleep', ms: r.pick([1, 5, 20, 100]) };
    case 'argv':
      return { kind: 'argv', argv: commandLine(r) };
  }
}

/** An input as the failure report shows it: whole if short, else its start and its size. */
export function describeInput(input: FuzzInput, max = 1500): string {
  const clip = (s: string): string => (s.length <= max ? s : `${s.slice(0, max)}\n… (${s.length} characters in all)`);
  switch (input.kind) {
    case 'load':
      return `scenario text (${input.via === 'parse' ? 'parseScenario' : 'klpsim check FILE'}; ${input.note}):\n${clip(input.text)}`;
    case 'run':
      return `scenario for klpsim run --deterministic --format ${input.format} (${input.note}):\n${clip(input.text)}`;
    case 'shell':
      return `shell line: ${clip(JSON.stringify(input.line))}`;
    case 'sleep':
      return `(${input.ms} ms of simulated time)`;
    case 'argv': {
      const used = [...new Set(input.argv.filter((a): a is FilePlaceholder => a in FILE_MEANINGS))];
      return `klpsim ${clip(input.argv.map((a) => JSON.stringify(a)).join(' '))}${used.map((a) => `\n  ${a}: ${FILE_MEANINGS[a]}`).join('')}`;
    }
  }
}
