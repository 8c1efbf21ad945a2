/**
 * Found by the fuzz test (seed 1259102553, input 2718): `modprobe test_klp_callbacks_busy sleep_secs=-19`
 * puts its work thread in msleep(-19000) — 4294948296 ms, msleep's unsigned int — and the rmmod that
 * follows waits in kthread_stop() for it. The kernel would block there for 49 days (khungtaskd reporting
 * it after 120 s); klpsim had waited its 30 s real-time bound, and the fuzz test's 10 s bound called it a
 * hang. A kthread_stop() that an uninterruptible sleep would hold past the hung-task report now fails at
 * once, naming the thread and when it would wake — also when the thread goes into that sleep after it was
 * asked to stop (seed 543330149, input 6105); a short sleep is still waited out.
 * Both sleeps are int-negative msecs, which msecs_to_jiffies() turns into MAX_JIFFY_OFFSET: the kernel's
 * msleep() never returns, so the thread's wake-up is klpsim's NEVER (2^62 ns, 4611686018.427 s).
 */
import { readFileSync } from 'fs';
import { resolve } from 'path';
import { parseScenario, Simulation } from '../../src';

const FILE = resolve(__dirname, '../../scenarios/test-callbacks.yaml');

describe.each([true, false])('kthread_stop() of a thread in a long msleep (deterministic: %s)', (deterministic) => {
  let sim: Simulation;
  beforeEach(async () => {
    sim = await Simulation.create(parseScenario(readFileSync(FILE, 'utf8'), FILE), { deterministic });
    await sim.startTasks();
  });
  afterEach(() => sim.dispose());

  it('is reported at once when the sleep outlasts the hung-task timeout', async () => {
    expect((await sim.shell('modprobe test_klp_callbacks_busy sleep_secs=-19')).exit).toBe(0);
    await sim.machine.sleep(10);
    await expect(sim.shell('rmmod test_klp_callbacks_busy')).rejects.toThrow(
      /^kthread_stop\(\) of busymod_work \(pid \d+\) would block for 461168601\d\.\d{3} s: the thread sleeps in msleep\(\) \(uninterruptible\) until 4611686018\.427 s, past the kernel's hung-task report at 120 s/,
    );
  }, 30_000);

  // Seed 543330149, input 6105: the rmmod came before the work thread had run, so it was runnable when
  // asked to stop and only then went into msleep(2147483647 * 1000), truncated to 4294966296 ms.
  it('is reported when the thread goes into the long sleep after it was asked to stop', async () => {
    expect((await sim.shell('modprobe test_klp_callbacks_busy sleep_secs=2147483647')).exit).toBe(0);
    await expect(sim.shell('rmmod test_klp_callbacks_busy')).rejects.toThrow(
      /^kthread_stop\(\) of busymod_work \(pid \d+\) would block for 4611686018\.\d{3} s: the thread sleeps in msleep\(\)/,
    );
  }, 30_000);

  it('is waited out when the sleep is shorter', async () => {
    expect((await sim.shell('modprobe test_klp_callbacks_busy sleep_secs=2')).exit).toBe(0);
    await sim.machine.sleep(10);
    const r = await sim.shell('rmmod test_klp_callbacks_busy');
    expect(r.exit).toBe(0);
    expect(sim.machine.now).toBeGreaterThanOrEqual(2e9);
  }, 30_000);
});
