/**
 * A CPU thread that hangs or crashes in the host (a bug of klpsim, not of the simulated kernel) is
 * detected, reported with its CPU and last RIP, and the run ends with a summary — never a hang. The
 * debug switch GlobalField.DebugCpuFault makes CPU 1's thread spin forever in JS, or throw.
 */
import { DEBUG_CPU_CRASH, DEBUG_CPU_HANG } from '../../src/mem/percpu';
import { runStress } from '../../src/stress/stress-run';
import { renderSummary, totals } from '../../src/stress/summary';

const base = { cpus: 2, tasks: 4, seed: 1, ops: 6, deterministic: false, nopRemoval: true, faults: [] };

describe('the heartbeat watchdog', () => {
  it('reports a CPU thread that stops answering, with its CPU and last RIP, and ends the run', async () => {
    const t0 = performance.now();
    const r = await runStress({ ...base, debugCpuFault: { afterOps: 1, value: 2 | (DEBUG_CPU_HANG << 8) } });
    expect(performance.now() - t0).toBeLessThan(30_000);
    expect(r.hang).toMatch(/^CPU 1, last RIP /);
    expect(r.violationsByCheck.heartbeat).toBe(1);
    expect(r.firstViolations.find((v) => v.check === 'heartbeat')?.message).toMatch(
      /CPU 1 thread stopped answering: no heartbeat for \d+ ms \(last RIP .+\)/,
    );
    expect(r.ops.length).toBeLessThan(base.ops);
    const summary = renderSummary([r], totals([r], r.wallMs));
    expect(summary).toMatch(/seed 1: a CPU thread hung: CPU 1, last RIP/);
    expect(summary).toMatch(/heartbeat\s+1\s+1/);
  }, 40_000);

  it('reports a CPU thread that crashes, and ends the run', async () => {
    const r = await runStress({ ...base, debugCpuFault: { afterOps: 1, value: 1 | (DEBUG_CPU_CRASH << 8) } });
    expect(r.violationsByCheck['cpu-thread']).toBe(1);
    expect(r.firstViolations.find((v) => v.check === 'cpu-thread')?.message).toMatch(
      /CPU 0 thread died: injected crash \(DebugCpuFault\) \(last RIP .+\)/,
    );
    expect(r.error).toMatch(/CPU 0 thread died/);
  }, 40_000);
});
