/**
 * The first try of a transition cannot complete while CPUs have something running: each CPU runs either
 * a task or its idle task, and klp_try_switch_task() cannot check a running task. An idle task switches
 * in its idle loop — at the end of do_idle(), reached when the CPU runs out of work or a reschedule IPI
 * wakes it — not at every wake-up of the CPU thread: that let the first try succeed in about 1 worker-mode
 * run in 4 (the bench's 512-task latency read 0 ms). Measured with the bench's own transition-latency code.
 */
import { measureTransition } from '../../src/bench/transition-latency';

it('with 128 busy tasks on 4 CPU workers, enable -> "patching complete" takes the one retry, every time', async () => {
  const simMs: number[] = [];
  for (let i = 0; i < 6; i++) simMs.push((await measureTransition(128)).simMs);
  // The retry one simulated second later completes; its grace periods (klp_synchronize_transition())
  // may wait some µs for a CPU in the middle of a tick's batch of wake-ups (timer-wheel.ts).
  for (const ms of simMs) {
    expect(ms).toBeGreaterThanOrEqual(1000);
    expect(ms).toBeLessThan(1001);
  }
}, 120_000);
