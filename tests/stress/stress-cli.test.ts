/** `klpsim stress` through the CLI: the summary, JSON, bad input, a violation's replay command, replaying it. */
import { runCli } from '../cli/run-cli';

describe('klpsim stress', () => {
  it('runs, prints ops per kind, checks per invariant and ops/s, and exits 0 without violations', async () => {
    const r = await runCli(['stress', '--ops', '8', '--tasks', '8', '--seed', '1', '--deterministic']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(
      /^klpsim stress: 4 CPUs, 8 tasks, 1 run\(s\) \(seed 1\), faults: none, NOP removal on, deterministic \(lockstep\)/,
    );
    expect(r.out).toMatch(/total\s+8\s+[\d.]+ ops\/s/);
    for (const check of [
      'consistency',
      'use-after-free',
      'fetch',
      'nop-removal',
      'func-stack-order',
      'sysfs',
      'forced-not-removable',
      'liveness',
      'heartbeat',
    ]) {
      expect(r.out).toMatch(new RegExp(`\\n  ${check}\\s+\\d+\\s+0\\n`));
    }
    // The CPU-side checks really ran.
    expect(Number(r.out.match(/\n {2}consistency\s+(\d+)/)?.[1])).toBeGreaterThan(0);
    expect(r.out).toMatch(/result: no violation\n$/);
  }, 60_000);

  it('--json gives the same figures to machines', async () => {
    const r = await runCli(['stress', '--ops', '5', '--tasks', '8', '--seed', '3', '--deterministic', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as {
      totals: { ops: number; violations: number; checks: Record<string, number> };
      results: { seed: number; ops: string[] }[];
    };
    expect(j.totals.ops).toBe(5);
    expect(j.totals.violations).toBe(0);
    expect(j.results[0].seed).toBe(3);
    expect(j.results[0].ops).toHaveLength(5);
    expect(j.totals.checks['func-stack-order']).toBe(5);
  }, 60_000);

  it.each([
    [['--inject', 'skip-everything'], /--inject: unknown fault 'skip-everything'/],
    [['--ops', '5', '--duration', '2s'], /give --ops or --duration, not both/],
    [['--duration', 'soon'], /--duration: 'soon' is not a duration/],
    [['--cpus', '0'], /--cpus must be between 1 and 64/],
    [['--replay-ops', 'modprobe stress_lp0; reboot'], /--replay-ops: op 2: not a stress op: 'reboot'/],
  ])('bad input %j: a clear message and exit 2', async (args, message) => {
    const r = await runCli(['stress', ...args]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('a violation prints the seed and a command that replays it, and exits 1; the replay reproduces it', async () => {
    const r = await runCli(['stress', '--ops', '10', '--tasks', '16', '--seed', '2', '--deterministic', '--inject', 'skip-stack-check']);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/result: \d+ violation\(s\) in seed\(s\) 2/);
    expect(r.out).toMatch(/violation: consistency: CPU \d+: stress(_fl|_kt|_hot)?\/\d+:\d+ entered .* while its call chain holds/);
    const replay = r.out.match(/replay: klpsim stress (.*)\n/)?.[1];
    expect(replay).toMatch(/--seed 2 .*--inject skip-stack-check --deterministic$/);
    const again = await runCli(['stress', ...replay!.split(' ')]);
    expect(again.code).toBe(1);
    // Same seed, same lockstep interleaving: the same first violation.
    const first = (s: string): string | undefined => s.match(/violation: (.*)\n/)?.[1];
    expect(first(again.out)).toBe(first(r.out));
  }, 120_000);
});
