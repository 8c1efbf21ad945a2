/**
 * A failure report shows the events leading to the failure without the scheduler's churn (the events
 * `--format pretty` folds), and says so when nothing else happened before it.
 */
import { resolve } from 'path';
import { runScenario } from './helpers';
import { runCli } from '../cli/run-cli';

const FIXTURE = resolve(__dirname, 'fixtures', 'failure-report.yaml');

it('a failure is reported with the livepatch events before it, not task wake-ups', async () => {
  const r = await runScenario(FIXTURE);
  expect(r.result.failures.map((f) => f.message)).toEqual(['work is patched, expected not patched']);
  const recent = r.result.failures[0].recent;
  expect(recent.filter((e) => e.type === 'task.state')).toEqual([]);
  expect(recent.map((e) => (e.type === 'log' ? e.text : e.type))).toContain("livepatch: 'lp': patching complete");
  // the sampled redirects of `work` stand as one event, so they do not crowd out the transition
  expect(recent.map((e) => e.type)).toEqual(expect.arrayContaining(['sh', 'transition.start', 'transition.complete']));
  expect(recent.filter((e) => e.type === 'call.redirect').length).toBeLessThanOrEqual(1);
});

it('the CLI says when only task state changes came before a failure', async () => {
  const r = await runCli(['run', FIXTURE, '--deterministic', '--format', 'dmesg']);
  expect(r.code).toBe(1);
  expect(r.err).toContain('events leading to it (task state changes left out):');
  expect(r.err).not.toMatch(/^ +.*task\.state/m);
  expect(r.err).toMatch(/livepatch: 'lp': patching complete/);

  const first = await runCli(['run', FIXTURE.replace('failure-report', 'failure-report-first'), '--deterministic', '--format', 'dmesg']);
  expect(first.code).toBe(1);
  expect(first.err).toContain('events leading to it: none since the run started, besides task state changes (--format ndjson shows them)');
});

it('a fault is reported with the events leading to it too', async () => {
  const r = await runCli(['run', resolve(__dirname, 'fixtures', 'oops.yaml'), '--deterministic', '--format', 'dmesg']);
  expect(r.code).toBe(1);
  const report = r.err.slice(r.err.indexOf('klpsim: 6 invariant violation(s)'));
  expect(report).toMatch(/^ {2}\[ *[\d.]+\] cpu0 +fault +vector=#PF .*comm=a$/m);
  expect(report).toMatch(/^ {4}\[ *[\d.]+\] cpu0 +log +Oops: 0000 \[#1\] SMP$/m);
  expect(report.match(/events leading to it/g)).toHaveLength(3);
});
