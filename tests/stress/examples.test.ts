/**
 * The sharding examples work: their own command lines, taken from the files, run here with small sizes
 * (their environment variables overridden, as a user would for a trial run), each shard in its own shell
 * with the variable its platform sets (JOB_COMPLETION_INDEX, the matrix value), then their merge step;
 * the merge must report the whole sweep, and — lockstep — exactly what one unsharded run reports.
 *
 * `klpsim` and `node dist/src/cli/main.js` run klpsim from its sources (through tsx), so the test needs
 * no build.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync, chmodSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { runCli } from '../cli/run-cli';

const ROOT = resolve(__dirname, '../..');
const SMALL = { RUNS: '2', OPS: '1', STRESS_FLAGS: '--cpus 1 --tasks 4 --deterministic' };

/** A directory with `klpsim` and `dist/src/cli/main.js` that run the sources. */
function fakeInstall(): string {
  const dir = mkdtempSync(join(tmpdir(), 'klpsim-examples-'));
  const main = join(dir, 'dist/src/cli/main.js');
  mkdirSync(join(dir, 'dist/src/cli'), { recursive: true });
  writeFileSync(
    main,
    `require(${JSON.stringify(require.resolve('tsx/cjs'))});\n` +
      `require(${JSON.stringify(join(ROOT, 'src/cli/main.ts'))}).main(process.argv.slice(2)).then((c) => { process.exitCode = c; });\n`,
  );
  mkdirSync(join(dir, 'bin'));
  writeFileSync(join(dir, 'bin/klpsim'), `#!/bin/sh\nexec node ${JSON.stringify(main)} "$@"\n`);
  chmodSync(join(dir, 'bin/klpsim'), 0o755);
  return dir;
}

function sh(shell: string, script: string, cwd: string, env: Record<string, string>): Promise<{ code: number; out: string; err: string }> {
  return new Promise((done) => {
    // NODE_PATH: the job threads' `--require tsx/cjs` resolves from the shell's directory, not the repo's.
    const full = { ...process.env, NODE_PATH: join(ROOT, 'node_modules'), ...env };
    execFile(shell, ['-e', '-c', script], { cwd, env: full, maxBuffer: 64 << 20 }, (e, out, err) => {
      done({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out, err });
    });
  });
}

interface Totals {
  runs: number;
  ops: number;
  violations: number;
  wallMs?: number;
  opsPerSec?: number;
}

/** The unsharded run of the same sweep, in-process (once, for both examples). */
let whole: Promise<Omit<Totals, 'wallMs' | 'opsPerSec'>> | null = null;
const unsharded = (): Promise<Omit<Totals, 'wallMs' | 'opsPerSec'>> => (whole ??= runUnsharded());
async function runUnsharded(): Promise<Omit<Totals, 'wallMs' | 'opsPerSec'>> {
  const r = await runCli(['stress', ...SMALL.STRESS_FLAGS.split(' '), '--runs', SMALL.RUNS, '--ops', SMALL.OPS, '--json']);
  expect(r.code).toBe(0);
  const { wallMs: _w, opsPerSec: _o, ...rest } = (JSON.parse(r.out) as { totals: Totals }).totals;
  return rest;
}

async function mergedTotals(files: string[]): Promise<Omit<Totals, 'wallMs' | 'opsPerSec'>> {
  const m = await runCli(['stress', 'merge', ...files, '--json']);
  expect(m.code).toBe(0);
  const { wallMs: _w, opsPerSec: _o, ...rest } = (JSON.parse(m.out) as { totals: Totals }).totals;
  return rest;
}

interface Container {
  env: { name: string; value: string }[];
  args: string[];
  volumeMounts: { mountPath: string }[];
}
interface K8sJob {
  kind: string;
  metadata: { name: string };
  spec: { completionMode?: string; completions?: number; template: { spec: { containers: Container[] } } };
}

describe('examples/kubernetes-indexed-job.yaml', () => {
  it('runs as an Indexed Job would: one shell per completion index, then the merge Job', async () => {
    const docs = parseAllDocuments(readFileSync(join(ROOT, 'examples/kubernetes-indexed-job.yaml'), 'utf8')).map((d) => d.toJS() as K8sJob);
    const jobs = docs.filter((d) => d.kind === 'Job');
    const shardJob = jobs.find((j) => j.spec.completionMode === 'Indexed') as K8sJob;
    const mergeJob = jobs.find((j) => j !== shardJob) as K8sJob;
    const shardC = shardJob.spec.template.spec.containers[0];
    const mergeC = mergeJob.spec.template.spec.containers[0];
    const envOf = (c: Container): Record<string, string> => Object.fromEntries(c.env.map((e) => [e.name, e.value]));
    // The example's own consistency: both Jobs agree with `completions` on the number of shards.
    expect(envOf(shardC).SHARDS).toBe(String(shardJob.spec.completions));
    expect(envOf(mergeC).SHARDS).toBe(String(shardJob.spec.completions));
    expect(shardC.args[0]).toMatch(/--shard "\$\(\(JOB_COMPLETION_INDEX \+ 1\)\)\/\$SHARDS"/);

    const home = fakeInstall();
    const results = join(home, 'results');
    mkdirSync(results);
    // The volume's mount point is this directory; the trial sweep has 2 shards.
    const script = (c: Container): string => c.args[0].split(c.volumeMounts[0].mountPath).join(results);
    const env = { PATH: `${join(home, 'bin')}:${process.env.PATH ?? ''}`, SHARDS: '2' };
    const shards = await Promise.all(
      [0, 1].map((i) => sh('sh', script(shardC), home, { ...envOf(shardC), ...SMALL, ...env, JOB_COMPLETION_INDEX: String(i) })),
    );
    for (const s of shards) expect(s).toMatchObject({ code: 0, err: '' });
    expect(readdirSync(results).sort()).toEqual(['shard-1.json', 'shard-2.json']);

    const merge = await sh('sh', script(mergeC), home, { ...envOf(mergeC), ...env });
    expect(merge.code).toBe(0);
    expect(merge.out).toMatch(/2 run\(s\) \(seeds 1\.\.2\)/);
    expect(merge.out).toMatch(/result: no violation/);
    expect(await mergedTotals(readdirSync(results).map((f) => join(results, f)))).toEqual(await unsharded());
  }, 180_000);
});

interface Step {
  run?: string;
  uses?: string;
  with?: Record<string, string | boolean>;
}
interface Workflow {
  env: Record<string, string | number>;
  jobs: Record<string, { needs?: string; strategy?: { matrix: { shard: number[] } }; steps: Step[] }>;
}

describe('examples/github-actions-matrix.yml', () => {
  it('runs as the matrix would: a shell per shard, the artifacts downloaded into one directory, then the merge job', async () => {
    const wf = parse(readFileSync(join(ROOT, 'examples/github-actions-matrix.yml'), 'utf8')) as Workflow;
    const stress = wf.jobs.stress;
    const merge = wf.jobs.merge;
    expect(merge.needs).toBe('stress');
    const matrix = stress.strategy?.matrix.shard as number[];
    expect(matrix).toEqual(matrix.map((_, i) => i + 1));
    const runStep = stress.steps.find((s) => s.run?.includes(' stress ')) as Step;
    const upload = stress.steps.find((s) => s.uses?.startsWith('actions/upload-artifact')) as Step;
    const download = merge.steps.find((s) => s.uses?.startsWith('actions/download-artifact')) as Step;
    const mergeStep = merge.steps.find((s) => s.run?.includes(' stress merge ')) as Step;

    // The expressions the runner substitutes; any other one would be a mistake of this test's reading.
    const expand = (text: string, shard: number, total: number): string =>
      text.replace(/\$\{\{\s*([^}]*?)\s*\}\}/g, (_, e: string) => {
        if (e === 'matrix.shard') return String(shard);
        if (e === 'strategy.job-total') return String(total);
        throw new Error(`unexpected expression ${e}`);
      });
    const home = fakeInstall();
    const trial = [1, 2];
    const env = { ...Object.fromEntries(Object.entries(wf.env).map(([k, v]) => [k, String(v)])), ...SMALL };
    const shards = await Promise.all(trial.map((k) => sh('bash', expand(runStep.run as string, k, trial.length), home, env)));
    for (const s of shards) expect(s).toMatchObject({ code: 0, err: '' });

    // upload-artifact of each shard's path, download-artifact with merge-multiple: one directory of them.
    expect(download.with?.['merge-multiple']).toBe(true);
    const into = join(home, String(download.with?.path));
    mkdirSync(into);
    for (const k of trial) {
      const path = expand(String(upload.with?.path), k, trial.length);
      copyFileSync(join(home, path), join(into, path));
    }
    const m = await sh('bash', mergeStep.run as string, home, env);
    expect(m.code).toBe(0);
    expect(m.out).toMatch(/2 run\(s\) \(seeds 1\.\.2\)/);
    expect(await mergedTotals(readdirSync(into).map((f) => join(into, f)))).toEqual(await unsharded());
  }, 180_000);
});
