/**
 * `--shard I/N` and `klpsim stress merge`: the shards of a sweep are exactly its seeds, and merging their
 * `--json` results gives the totals of the unsharded run (exactly: --deterministic); bad input to merge is
 * refused with its position and exit 2.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultJobs } from '../../src/stress/pool';
import { parseShard, shardSeeds } from '../../src/stress/shard';
import { runCli } from '../cli/run-cli';

interface Report {
  format: string;
  sweep: { seed: number; runs: number } | null;
  shard: { index: number; count: number } | null;
  totals: Record<string, unknown> & { wallMs: number; opsPerSec: number };
  results: { seed: number }[];
}

describe('shards', () => {
  it.each([
    [1, 1],
    [7, 3],
    [8, 8],
    [10, 4],
    [100, 7],
  ])('%d runs in %d shards: contiguous blocks, sizes within one, together exactly the sweep', (runs, count) => {
    const sweep = { seed: 41, runs };
    const all = shardSeeds(sweep, null);
    const blocks = Array.from({ length: count }, (_, i) => shardSeeds(sweep, { index: i + 1, count }));
    expect(blocks.flat()).toEqual(all);
    expect(all).toEqual(Array.from({ length: runs }, (_, i) => 41 + i));
    const sizes = blocks.map((b) => b.length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    for (const b of blocks) expect(b).toEqual(Array.from({ length: b.length }, (_, i) => b[0] + i));
  });

  it('parses I/N, 1-based, and says how to pass a 0-based index', () => {
    expect(parseShard('2/5')).toEqual({ index: 2, count: 5 });
    expect(parseShard('0/5')).toMatch(/I counts from 1 to N .*\$\(\(INDEX \+ 1\)\)\/5/);
    expect(parseShard('6/5')).toMatch(/I counts from 1 to N/);
    expect(parseShard('1/0')).toMatch(/N must be at least 1/);
    expect(parseShard('half')).toMatch(/not I\/N/);
  });

  it('--jobs by default: a job per core in lockstep, cores / CPUs on worker threads, at least one', () => {
    expect(defaultJobs(4, true, 8)).toBe(8);
    expect(defaultJobs(4, false, 8)).toBe(2);
    expect(defaultJobs(4, false, 2)).toBe(1);
    expect(defaultJobs(64, false, 16)).toBe(1);
    expect(defaultJobs(1, true, 512)).toBe(64);
  });

  it.each([
    [['--shard', '1/3'], /--shard 1\/3: give --runs too/],
    [['--shard', '3/2', '--runs', '4'], /--shard 3\/2: I counts from 1 to N/],
    [['--shard', '1/5', '--runs', '4'], /4 run\(s\) cannot make 5 shards/],
    [['--shard', 'x', '--runs', '4'], /--shard: 'x' is not I\/N/],
  ])('bad --shard %j: a clear message and exit 2', async (args, message) => {
    const r = await runCli(['stress', ...args]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
  });
});

describe('klpsim stress merge', () => {
  const dir = mkdtempSync(join(tmpdir(), 'klpsim-merge-'));
  // Small runs (2 ops, 4 tasks: one busy, 2 CPUs) in lockstep: the same seed gives the same run, exactly.
  const base = 'stress --ops 2 --tasks 4 --cpus 2 --seed 5 --runs 3 --deterministic --jobs 1 --json'.split(' ');
  const file = (name: string, text: string): string => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  let whole: Report;
  const shardFiles: Record<string, string[]> = {};

  beforeAll(async () => {
    const r = await runCli(base);
    expect(r.code).toBe(0);
    whole = JSON.parse(r.out) as Report;
    for (const n of [2, 3]) {
      shardFiles[n] = [];
      for (let i = 1; i <= n; i++) {
        const s = await runCli([...base, '--shard', `${i}/${n}`]);
        expect(s.code).toBe(0);
        shardFiles[n].push(file(`shard-${i}-of-${n}.json`, s.out));
      }
    }
  }, 120_000);

  const comparable = (t: Report['totals']): Record<string, unknown> => {
    const { wallMs: _w, opsPerSec: _o, ...rest } = t;
    return rest;
  };

  it.each([2, 3])('%d shards merged: the totals of the unsharded run, and every result in seed order', async (n) => {
    const shards = shardFiles[n].map((f) => JSON.parse(readFileSync(f, 'utf8')) as Report);
    expect(shards.map((s) => s.shard)).toEqual(Array.from({ length: n }, (_, i) => ({ index: i + 1, count: n })));
    expect(shards.every((s) => s.sweep?.seed === 5 && s.sweep.runs === 3)).toBe(true);
    const m = await runCli(['stress', 'merge', ...[...shardFiles[n]].reverse(), '--json']);
    expect(m.err).toBe('');
    expect(m.code).toBe(0);
    const merged = JSON.parse(m.out) as Report;
    expect(comparable(merged.totals)).toEqual(comparable(whole.totals));
    expect(merged.totals).toMatchObject({ runs: 3, ops: 6, violations: 0, failingSeeds: [] });
    expect(merged.results.map((r) => r.seed)).toEqual([5, 6, 7]);
    // The wall time is the longest shard's; ops/s the shards' rates added.
    expect(merged.totals.wallMs).toBe(Math.max(...shards.map((s) => s.totals.wallMs)));
    expect(merged.totals.opsPerSec).toBeCloseTo(
      shards.reduce((x, s) => x + s.totals.opsPerSec, 0),
      6,
    );
    // Its JSON merges again, and its summary reads as one run's.
    const text = await runCli(['stress', 'merge', file(`merged-${n}.json`, m.out)]);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/^klpsim stress: 2 CPUs, 4 tasks, 3 run\(s\) \(seeds 5\.\.7\)/);
    expect(text.out).toMatch(/total\s+6\s/);
  });

  it('a missing shard is named on stderr; the rest still merges', async () => {
    const m = await runCli(['stress', 'merge', shardFiles[3][0], shardFiles[3][2]]);
    expect(m.code).toBe(0);
    expect(m.err).toMatch(/warning: shard 2\/3 of the sweep \(seeds 5\.\.7\) not among the inputs: seed 6 not run/);
    expect(m.out).toMatch(/2 run\(s\) \(seeds 5, 7\)/);
  });

  it('bad input: position or file, what is wrong, exit 2', async () => {
    const one = readFileSync(shardFiles[3][0], 'utf8');
    const other = JSON.parse(readFileSync(shardFiles[3][1], 'utf8')) as Omit<Report, 'results'> & {
      results: { options: Record<string, unknown> }[];
    };
    const cases: [string[], RegExp][] = [
      [[file('trunc.json', '{\n  "format": "klpsim-stress/1",\n  "totals": {')], /trunc\.json:3:14: not JSON: /],
      [
        [file('other.json', '{ "name": "not a stress result" }')],
        /other\.json: not a klpsim stress result \(the output of `klpsim stress --json`/,
      ],
      [[file('old.json', JSON.stringify({ totals: {}, results: [] }))], /old\.json: not a klpsim stress result .*from an older klpsim/],
      [
        [file('typed.json', one.replace(/"cpus": 2/, '"cpus": "two"'))],
        /typed\.json:\d+:\d+: not a klpsim stress result: results\[0\]\.options\.cpus: expected number/,
      ],
      [[shardFiles[3][0], shardFiles[3][0]], /shard-1-of-3\.json:\d+:\d+: seed 5 is also in .*shard-1-of-3\.json \(overlapping shards/],
      [[shardFiles[2][1], shardFiles[3][1]], /shard-2-of-3\.json:\d+:\d+: seed 6 is also in .*shard-2-of-2\.json/],
      [
        [
          shardFiles[3][0],
          file(
            'cpus.json',
            JSON.stringify({ ...other, results: other.results.map((r) => ({ ...r, options: { ...r.options, cpus: 4 } })) }),
          ),
        ],
        /cpus\.json: seed 6 ran with --cpus 4, but seed 5 in .*shard-1-of-3\.json with --cpus 2: runs of different options/,
      ],
      [[join(dir, 'absent.json')], /absent\.json: cannot read it: no such file/],
    ];
    for (const [files, message] of cases) {
      const r = await runCli(['stress', 'merge', ...files]);
      expect({ files, code: r.code }).toEqual({ files, code: 2 });
      expect(r.err).toMatch(message);
      expect(r.err).not.toMatch(/\n\s+at |internal error/);
    }
  });
});
