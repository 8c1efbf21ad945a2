/** Every wait is bounded: a transition that cannot complete is reported with who blocks it and where. */
import { resolve } from 'path';
import { describeBlockingTask } from '../../src/livepatch/transition';
import { runScenario } from './helpers';

const FIXTURE = resolve(__dirname, 'fixtures', 'wait-timeout.yaml');

// Worker mode three times: the time skip it guards against (below) happened in about half of the runs.
it.each([true, false, false, false])(
  'a timed-out wait names the blocking task and its stack, and the run fails (deterministic: %s)',
  async (deterministic) => {
    const r = await runScenario(FIXTURE, { deterministic });
    expect(r.result.exitCode).toBe(1);
    const messages = r.result.failures.map((f) => f.message);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(
      /^timed out after 2500 ms waiting for the transition of 'lp' to complete; tasks still blocking it: sleeper:\d+ \(msleep\+0x0\/0x10 <- slow_fn\+0x\w+\/0x\w+ <- outer_fn\+0x\w+\/0x\w+\)$/,
    );
    // Enabling the patch pokes its site with sync-core IPIs while every CPU is idle, the only task asleep
    // for 60 s: acknowledging an IPI takes no simulated time, so the transition starts at once (it used to
    // start at 60 s on worker threads when the acknowledgements came in just before the coordinator's
    // idle-machine time skip).
    const start = r.log.findIndex((l) => l === "livepatch: 'lp': starting patching transition");
    expect(r.times[start]).toBeLessThan(10_000_000);
  },
  30_000,
);

it('describeBlockingTask: frames innermost first, or the pseudo-frame alone', () => {
  expect(describeBlockingTask({ pid: 3, comm: 'k', frames: ['a+0x1/0x10', 'b+0x5/0x20'] })).toBe('k:3 (a+0x1/0x10 <- b+0x5/0x20)');
  expect(describeBlockingTask({ pid: 4, comm: 't', frames: ['(running)'] })).toBe('t:4 (running)');
  expect(describeBlockingTask({ pid: 5, comm: 'z', frames: [] })).toBe('z:5 (no frames)');
});
