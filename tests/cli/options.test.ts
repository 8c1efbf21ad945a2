/**
 * Every command parses and bounds its options the same way (src/cli/options.ts): a value out of range,
 * or one that is not a plain decimal integer, is exit 2 with a message naming the option — before
 * anything runs (`demo --cpus 100000 --deterministic` used to die of V8's out-of-memory, a 23-digit seed
 * was silently rounded, and `--trace` into a missing directory failed only after the whole run).
 */
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runCli } from './run-cli';
import { Machine } from '../../src/coordinator/machine';
import { parseScenario } from '../../src/scenario/load-scenario';
import { ScenarioError } from '../../src/scenario/scenario-error';
import { Simulation } from '../../src/scenario/simulation';

const BASIC = resolve(__dirname, '../../scenarios/test-livepatch-basic.yaml');
const dir = mkdtempSync(join(tmpdir(), 'klpsim-options-'));
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

/** Each command with what it needs besides the option under test. */
const COMMANDS: [string, string[]][] = [
  ['run', ['run', BASIC]],
  ['watch', ['watch', BASIC]],
  ['serve', ['serve', BASIC, '--port', '0']],
  ['demo', ['demo', '--deterministic']],
  ['stress', ['stress', '--ops', '1']],
];

async function usageError(args: string[]): Promise<string> {
  const r = await runCli(args);
  expect(r.out).toBe('');
  expect(r.err).not.toMatch(/\n\s+at |internal error/);
  expect(r.code).toBe(2);
  return r.err;
}

describe('shared option bounds', () => {
  it.each(COMMANDS)('%s: --cpus outside 1..64 or not an integer is exit 2', async (_name, args) => {
    for (const v of ['100000', '65', '0'])
      expect(await usageError([...args, '--cpus', v])).toBe(
        `klpsim: option '--cpus <n>' argument '${v}' is invalid. --cpus must be between 1 and 64\n`,
      );
    for (const v of ['1e3', '0x4', '4.0', '', '-1', 'four'])
      expect(await usageError([...args, '--cpus', v])).toMatch(/--cpus must be an integer between 1 and 64/);
  });

  it.each(COMMANDS)("%s: --seed beyond the PRNG's 32-bit seed is exit 2", async (_name, args) => {
    for (const v of ['99999999999999999999999', '4294967296'])
      expect(await usageError([...args, '--seed', v])).toMatch(/--seed must be between 0 and 4294967295/);
  });

  it('the other numeric options are bounded too', async () => {
    expect(await usageError(['serve', BASIC, '--port', '70000'])).toMatch(/--port must be between 0 and 65535/);
    expect(await usageError(['bench', '--ms', '0'])).toMatch(/--ms must be between 1 and 600000/);
    expect(await usageError(['stress', '--jobs', '1000'])).toMatch(/--jobs must be between 1 and 64/);
    expect(await usageError(['stress', '--tasks', '201'])).toMatch(/--tasks must be between 1 and 200/);
    expect(await usageError(['stress', '--runs', '0'])).toMatch(/--runs must be at least 1/);
    // Found by the fuzz test (seed 94464993, input 9550): --runs=2147483647 built an array of every seed and aborted.
    expect(await usageError(['stress', '--runs=2147483647'])).toMatch(/--runs must be between 1 and 100000 \(one command keeps/);
    expect(await usageError(['stress', '--runs=2147483647', '--shard', '1/10'])).toMatch(
      /--shard 1\/10 of 2147483647 runs is more than 100000 runs/,
    );
    expect(await usageError(['stress', '--seed', '4294967295', '--runs', '2'])).toMatch(
      /--seed 4294967295 with 2 run\(s\) goes past the largest seed, 4294967295/,
    );
    expect(await usageError(['demo', '--pokes', '1e2'])).toMatch(/--pokes must be an integer at least 0/);
  });

  it('word options are refused the same way as numbers', async () => {
    expect(await usageError(['run', BASIC, '--format', 'json'])).toBe(
      "klpsim: option '--format <f>' argument 'json' is invalid. --format must be one of pretty, dmesg, ndjson\n",
    );
    expect(await usageError(['demo', '--format', 'json'])).toMatch(/--format must be one of pretty, dmesg, ndjson/);
    for (const args of [
      ['run', BASIC],
      ['watch', BASIC],
      ['serve', BASIC, '--port', '0'],
      ['stress', '--ops', '1'],
    ]) {
      expect(await usageError([...args, '--unwinder', 'guess'])).toBe(
        "klpsim: option '--unwinder <u>' argument 'guess' is invalid. --unwinder must be one of orc, frame-pointer\n",
      );
    }
  });

  it('the largest seed is accepted, in a file and as --seed', async () => {
    const p = file('seed.yaml', 'name: s\ncpus: 1\nseed: 4294967295\nsteps:\n  - sleep_ms: 1\n');
    expect((await runCli(['run', p, '--deterministic', '--format', 'ndjson'])).code).toBe(0);
    expect((await runCli(['run', p, '--deterministic', '--format', 'ndjson', '--seed', '4294967295'])).code).toBe(0);
    const big = file('bigseed.yaml', 'name: s\ncpus: 1\nseed: 4294967296\n');
    expect(await usageError(['check', big])).toContain(`${big}:3:7: must be at most 4294967295`);
  }, 30_000);

  it('a machine refuses a CPU count out of range before allocating anything', async () => {
    await expect(Machine.create({ cpus: 100000, deterministic: true })).rejects.toThrow('cpus must be between 1 and 64, got 100000');
  });
});

describe('--trace and pinned CPUs are checked before the run', () => {
  it('--trace into a directory that does not exist: exit 2 at once, nothing run', async () => {
    const trace = join(dir, 'missing', 'x.json');
    const r = await runCli(['run', BASIC, '--deterministic', '--format', 'dmesg', '--trace', trace]);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`klpsim: --trace ${trace}: cannot create file: No such file or directory\n`);
    expect(r.out).toBe('');
    expect(existsSync(trace)).toBe(false);
  });

  const pinned = (cpus: number): string =>
    `name: pinned\ncpus: ${cpus}\nkernel:\n  functions:\n    f: |\n      ret\n` +
    'tasks:\n  - name: t\n    cpu: 15\n    run: [ { call: f }, { sleep_ms: 1 } ]\n' +
    'modules:\n  m:\n    init:\n      - start_task: { name: w, cpu: 12, run: [ { sleep_ms: 1 } ] }\n' +
    'steps:\n  - sh: modprobe m\n';

  it('a task pinned to a CPU that --cpus takes away is exit 2 at its cpu: field (tasks and start_task)', async () => {
    const p = file('pinned.yaml', pinned(16));
    const err = await usageError(['run', p, '--cpus', '4', '--deterministic']);
    expect(err.split('\n').filter(Boolean)).toEqual([
      `${p}:9:10: cpu 15 is out of range: the run has 4 CPUs (0-3, --cpus 4)`,
      `${p}:14:37: cpu 12 is out of range: the run has 4 CPUs (0-3, --cpus 4)`,
    ]);
    expect((await runCli(['check', p])).code).toBe(0);
    expect(await usageError(['watch', p, '--cpus', '13', '--deterministic'])).toBe(
      `${p}:9:10: cpu 15 is out of range: the run has 13 CPUs (0-12, --cpus 13)\n`,
    );
  });

  it('the library refuses the same when it is given a parsed scenario and fewer CPUs', async () => {
    const s = parseScenario(pinned(16), 'pinned.yaml');
    // A simulation that was created after all is disposed, or its machine would outlive the test.
    const e = await Simulation.create(s, { cpus: 4, deterministic: true }).then(
      async (sim) => sim.dispose(),
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(ScenarioError);
    expect((e as ScenarioError).message).toBe(
      'pinned.yaml:8:5: cpu 15 is out of range: the run has 4 CPUs (0-3)\npinned.yaml:14:9: cpu 12 is out of range: the run has 4 CPUs (0-3)',
    );
  });
});
