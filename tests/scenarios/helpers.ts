/**
 * Running shipped scenarios through the library API and reading their kernel log the way the kernel
 * selftests' check_result() does: keep the lines that mention `livepatch:` or `test_klp` (and the `% `
 * command lines the selftests' log helper writes), without timestamps.
 */
import { existsSync, readFileSync } from 'fs';
import { resolve } from 'path';
import { Simulation, RunResult, SimulationOptions } from '../../src/scenario/simulation';

export const SCENARIOS = resolve(__dirname, '../../scenarios');
export const EXPECTED = resolve(__dirname, 'expected');

export interface ScenarioRun {
  result: RunResult;
  /** Every kernel log line, in order. */
  log: string[];
  /** The simulated time (ns) of each log line. */
  times: number[];
}

export async function runScenario(file: string, options: SimulationOptions = {}): Promise<ScenarioRun> {
  const sim = await Simulation.fromFile(file.includes('/') ? file : resolve(SCENARIOS, file), { deterministic: true, ...options });
  const log: string[] = [];
  const times: number[] = [];
  sim.events$.subscribe((e) => {
    if (e.type === 'log') {
      log.push(String(e.text));
      times.push(Number(e.t));
    }
  });
  const result = await sim.run();
  return { result, log, times };
}

/** check_result()'s filter. */
export function filterLog(lines: readonly string[]): string[] {
  return lines.filter((l) => !l.includes('tainting') && (l.includes('livepatch:') || l.includes('test_klp') || l.startsWith('% ')));
}

const MARKER = /^===== TEST: (.*) =====$/;

/** The log split at the scenarios' `===== TEST: title =====` marker lines, each part filtered. */
export function sections(lines: readonly string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current: string[] | null = null;
  for (const l of lines) {
    const m = MARKER.exec(l);
    if (m) {
      current = [];
      out.set(m[1], current);
    } else if (current) current.push(l);
  }
  for (const [k, v] of out) out.set(k, filterLog(v));
  return out;
}

export const slug = (title: string): string =>
  title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');

/** An expected block: one line each, as in the selftests' check_result "..." strings. */
export function expected(name: string): string[] {
  return readFileSync(resolve(EXPECTED, name), 'utf8').replace(/\n$/, '').split('\n');
}

export const expectedExists = (name: string): boolean => existsSync(resolve(EXPECTED, name));

/**
 * A selftest scenario's run holds every expectation, with no invariant violation (jest test cases: call it
 * inside a describe whose beforeAll sets the run).
 */
export function expectClean(get: () => ScenarioRun): void {
  it('holds every expectation, without invariant violations', () => {
    const { result } = get();
    expect(result.failures.map((f) => `${f.pos.line}: ${f.message}`)).toEqual([]);
    expect(result.violations).toBe(0);
    expect(result.exitCode).toBe(0);
  });
}

/** Each `===== TEST: title =====` part of the run's log is expected/<dir>/<slug(title)>.dmesg, line for line. */
export function compareSections(dir: string, titles: string[], get: () => ScenarioRun): void {
  for (const title of titles) {
    it(`"${title}" logs the expected lines`, () => {
      const got = sections(get().log).get(title);
      expect(got).toBeDefined();
      expect(got).toEqual(expected(`${dir}/${slug(title)}.dmesg`));
    });
  }
}
