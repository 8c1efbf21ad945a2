/**
 * `klpsim stress merge R1.json R2.json …`: combines `--json` documents (shards of a sweep, or any runs of
 * the same options) into the totals one run of all their seeds would have printed — runs, ops per kind,
 * checks and violations per check, simulated time, failing seeds — because every total is a sum over the
 * runs, and each run is the same whichever machine ran it (exactly so with --deterministic).
 *
 * What cannot be summed: wall time, which is the longest input's (shards run side by side), and ops/s,
 * the inputs' rates added (each shard's rate is its own machine's throughput; side by side they add up).
 *
 * Refused, as bad input (the caller prints it, exit 2): text that is not JSON (FILE:LINE:COL), a document
 * that is not a klpsim stress result (FILE:LINE:COL of the offending value where there is one), a seed in
 * two inputs (overlapping shards, or one file given twice), and runs of different options (they would
 * add up to no run anyone could replay).
 */
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { parseOp, StressOp } from './ops';
import { MergedInput, REPORT_FORMAT, ShrunkJson, StressReportJson, StressResultJson } from './report-json';
import type { Shard, Sweep } from './shard';
import type { StressResult } from './stress-run';
import { describeSeeds, totals } from './summary';
import { LIVEPATCHES, patchName } from './workload';

export class MergeInputError extends Error {}

export interface MergeInput {
  file: string;
  text: string;
}

export interface Merged {
  report: StressReportJson;
  /** The runs, in seed order, as the summary renderer takes them. */
  results: StressResult[];
  /** Not errors: e.g. shards of the sweep that are not among the inputs. */
  warnings: string[];
}

const count = z.number().int().min(0);
const counts = z.record(z.string(), count);
const shardSchema = z.object({ index: z.number().int().min(1), count: z.number().int().min(1) });
const sweepSchema = z.object({ seed: z.number().int().min(0), runs: z.number().int().min(0) });

const optionsSchema = z.looseObject({
  cpus: z.number().int().min(1),
  tasks: z.number().int().min(1),
  ops: count.optional(),
  durationMs: z.number().min(0).optional(),
  deterministic: z.boolean(),
  nopRemoval: z.boolean(),
  shadow: z.boolean().optional(),
  unwinder: z.string().optional(),
  kernelVersion: z.string().optional(),
  faults: z.array(z.string()),
  retryMs: z.number().optional(),
});

const resultSchema = z.looseObject({
  seed: z.number().int().min(0),
  options: optionsSchema,
  ops: z.array(z.string()),
  replayed: z.boolean(),
  opsByKind: counts,
  checks: counts,
  violations: count,
  violationsByCheck: counts,
  firstViolations: z.array(
    z.object({
      check: z.string(),
      message: z.string(),
      op: z.number().int(),
      t: z.number(),
      cpu: z.number().int().nullable(),
      wallMs: z.number(),
    }),
  ),
  blocked: z.array(
    z.object({
      patch: z.string(),
      forMs: z.number(),
      tasks: z.array(z.object({ pid: z.number(), comm: z.string(), frames: z.array(z.string()) })),
    }),
  ),
  hang: z.string().nullable(),
  error: z.string().nullable(),
  events: count,
  eventsDigest: z.string(),
  wallMs: z.number().min(0),
  simNs: z.number().min(0),
  replay: z.string().nullable(),
});

const reportSchema = z.looseObject({
  format: z.literal(REPORT_FORMAT),
  sweep: sweepSchema.nullable(),
  shard: shardSchema.nullable(),
  totals: z.looseObject({ wallMs: z.number().min(0), opsPerSec: z.number().min(0) }),
  results: z.array(resultSchema),
  shrunk: z.object({ seed: z.number(), ops: z.array(z.string()), check: z.string(), runs: z.number(), command: z.string() }).nullable(),
});

/** The options that make two runs comparable, with the flag each comes from (for the message). */
const SAME_OPTIONS: [keyof StressResult['options'] | 'replayed', string][] = [
  ['cpus', '--cpus'],
  ['tasks', '--tasks'],
  ['ops', '--ops'],
  ['durationMs', '--duration'],
  ['deterministic', '--deterministic'],
  ['nopRemoval', '--no-nop-removal'],
  ['shadow', '--workload'],
  ['unwinder', '--unwinder'],
  ['kernelVersion', '--kernel-version'],
  ['faults', '--inject'],
  ['retryMs', 'the retry period'],
  ['replayed', '--replay-ops'],
];

/** Line and column (1-based) of an offset into `text`. */
function lineCol(text: string, offset: number): string {
  const at = Math.max(0, Math.min(offset, text.length));
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < at; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return `${line}:${at - start + 1}`;
}

function parseJson(input: MergeInput): unknown {
  try {
    return JSON.parse(input.text) as unknown;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    const at = msg.match(/position (\d+)/);
    const offset = at ? Number(at[1]) : input.text.length;
    throw new MergeInputError(`${input.file}:${lineCol(input.text, offset)}: not JSON: ${msg.replace(/ in JSON at position \d+.*$/, '')}`);
  }
}

/** Where the value at `path` starts in the JSON text, as FILE:LINE:COL (JSON is YAML, which keeps ranges). */
function locate(input: MergeInput, path: PropertyKey[]): string {
  const doc = parseDocument(input.text, { keepSourceTokens: false });
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(
      path.slice(0, n).map((k) => (typeof k === 'symbol' ? String(k) : k)),
      true,
    ) as { range?: [number, number, number] } | undefined;
    if (node?.range) return `${input.file}:${lineCol(input.text, node.range[0])}`;
  }
  return input.file;
}

const describePath = (path: PropertyKey[]): string =>
  path.map((k, i) => (typeof k === 'number' ? `[${k}]` : `${i ? '.' : ''}${String(k)}`)).join('') || 'the document';

function validate(input: MergeInput): StressReportJson {
  const data = parseJson(input);
  if (typeof data !== 'object' || data === null || Array.isArray(data) || (data as { format?: unknown }).format !== REPORT_FORMAT) {
    const looksOld = typeof data === 'object' && data !== null && 'totals' in data && 'results' in data;
    throw new MergeInputError(
      `${input.file}: not a klpsim stress result (the output of \`klpsim stress --json\` has "format": "${REPORT_FORMAT}")` +
        (looksOld ? '; this one is from an older klpsim: run it again' : ''),
    );
  }
  const r = reportSchema.safeParse(data);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new MergeInputError(
      `${locate(input, issue.path)}: not a klpsim stress result: ${describePath(issue.path)}: ${issue.message.replace(/^Invalid input: /, '')}`,
    );
  }
  return r.data as unknown as StressReportJson;
}

const isPatch = (m: string): boolean => Array.from({ length: LIVEPATCHES }, (_, k) => patchName(k)).includes(m);

/** Back from JSON to the runner's result (ops as ops again), for totals and the summary. */
function toResult(input: MergeInput, j: StressResultJson, i: number): StressResult {
  const ops: StressOp[] = j.ops.map((text, k) => {
    const op = parseOp(text, isPatch);
    if (typeof op === 'string') throw new MergeInputError(`${locate(input, ['results', i, 'ops', k])}: ${op}`);
    return op;
  });
  const { replay: _replay, ...rest } = j;
  return { ...rest, ops, opsByKind: j.opsByKind };
}

const optionValue = (r: StressResult, key: (typeof SAME_OPTIONS)[number][0]): string =>
  JSON.stringify(key === 'replayed' ? (r.replayed ? r.ops.map((o) => o.text) : null) : (r.options[key] ?? null));

const sameShard = (a: Shard | null, b: Shard | null): boolean => a?.count === b?.count;
const sameSweep = (a: Sweep | null, b: Sweep | null): boolean => a !== null && b !== null && a.seed === b.seed && a.runs === b.runs;

export function mergeReports(inputs: MergeInput[]): Merged {
  if (inputs.length === 0) throw new MergeInputError('stress merge: give the --json result files to merge');
  const docs = inputs.map((input) => ({ input, doc: validate(input) }));
  const seen = new Map<number, string>();
  const runs: { input: MergeInput; result: StressResult }[] = [];
  for (const { input, doc } of docs) {
    doc.results.forEach((j, i) => {
      const other = seen.get(j.seed);
      if (other !== undefined)
        throw new MergeInputError(
          `${locate(input, ['results', i, 'seed'])}: seed ${j.seed} is also in ${other} (overlapping shards, or the same result twice)`,
        );
      seen.set(j.seed, input.file);
      runs.push({ input, result: toResult(input, j, i) });
    });
  }
  const first = runs[0];
  for (const { input, result } of runs.slice(1)) {
    for (const [key, flag] of SAME_OPTIONS) {
      const a = optionValue(first.result, key);
      const b = optionValue(result, key);
      if (a !== b)
        throw new MergeInputError(
          `${input.file}: seed ${result.seed} ran with ${flag} ${b}, but seed ${first.result.seed} in ${first.input.file} with ${flag} ${a}: ` +
            'runs of different options do not add up to one run',
        );
    }
  }
  const results = runs.map((r) => r.result).sort((a, b) => a.seed - b.seed);
  const wallMs = Math.max(0, ...docs.map((d) => d.doc.totals.wallMs));
  const opsPerSec = docs.reduce((n, d) => n + d.doc.totals.opsPerSec, 0);
  const t = totals(results, wallMs, opsPerSec);

  // Shards of one sweep: name the ones missing (a merge of what there is is still a valid total).
  const warnings: string[] = [];
  const sweep = docs.every((d) => sameSweep(d.doc.sweep, docs[0].doc.sweep)) ? docs[0].doc.sweep : null;
  if (sweep && docs.every((d) => d.doc.shard && sameShard(d.doc.shard, docs[0].doc.shard))) {
    const n = (docs[0].doc.shard as Shard).count;
    const have = new Set(docs.map((d) => (d.doc.shard as Shard).index));
    const missing = Array.from({ length: n }, (_, k) => k + 1).filter((k) => !have.has(k));
    if (missing.length > 0) {
      const absent = Array.from({ length: sweep.runs }, (_, k) => sweep.seed + k).filter((s) => !seen.has(s));
      warnings.push(
        `shard${missing.length > 1 ? 's' : ''} ${missing.map((k) => `${k}/${n}`).join(', ')} of the sweep (${describeSeeds(
          Array.from({ length: sweep.runs }, (_, k) => sweep.seed + k),
        )}) not among the inputs: ${absent.length ? describeSeeds(absent) : 'no seeds'} not run`,
      );
    }
  }
  // --shrink reduced each input's first failing seed; the lowest of those is what one run would have shrunk.
  const shrunk: ShrunkJson | null =
    docs
      .map((d) => d.doc.shrunk)
      .filter((s): s is ShrunkJson => s !== null)
      .sort((a, b) => a.seed - b.seed)[0] ?? null;
  const merged: MergedInput[] = docs.map((d) => ({ file: d.input.file, shard: d.doc.shard }));
  const report: StressReportJson = {
    format: REPORT_FORMAT,
    sweep,
    shard: null,
    merged,
    totals: t,
    results: docs.flatMap((d) => d.doc.results).sort((a, b) => a.seed - b.seed),
    shrunk,
  };
  return { report, results, warnings };
}
