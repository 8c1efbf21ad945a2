/**
 * The shadow-variable stress workload (src/stress/shadow-workload.ts): patched code on every CPU attaches,
 * reads and frees shadow variables of one object while patches are enabled and replaced. With
 * `shadow-free-no-rcu` (a freed record poisoned at once, not after a grace period) a reader walking the
 * hash chain meets a poisoned record; without it, nothing is lost, duplicated or read after free.
 * Worker threads only: in a lockstep run a service runs atomically, so no reader is ever inside
 * klp_shadow_get() while another CPU frees, and the fault cannot show.
 */
import { parse } from 'yaml';
import { stressCommand, StressUsageError } from '../../src/cli/stress-command';
import { parseOp, StressOp } from '../../src/stress/ops';
import { SHADOW_FUNC } from '../../src/stress/shadow-workload';
import { runStress } from '../../src/stress/stress-run';
import { renderSummary, replayCommand, totals } from '../../src/stress/summary';
import { buildWorkload, LIVEPATCHES, patchName } from '../../src/stress/workload';

const isPatch = (m: string): boolean => Array.from({ length: LIVEPATCHES }, (_, k) => patchName(k)).includes(m);
const ops = (texts: string[]): StressOp[] =>
  texts.map((t) => {
    const p = parseOp(t, isPatch);
    if (typeof p === 'string') throw new Error(p);
    return p;
  });
// Enable, then replace cumulatively: the shadow code runs in one patch's version, then in the next one's.
const OPS = ops(['modprobe stress_lp0', 'sleep 10', 'modprobe stress_lp1 replace=1', 'sleep 10']);
interface WorkloadDoc {
  kernel: { functions: Record<string, string> };
  modules: Record<string, { livepatch: { objects: { vmlinux: { funcs: Record<string, string> } } } }>;
  tasks: { name: string; cpu?: number }[];
}

const base = { cpus: 4, tasks: 4, deterministic: false, nopRemoval: true, shadow: true, replay: OPS };

describe('stress: shadow variables', () => {
  it('leaves the default workload as it was: the shadow part only adds', () => {
    const o = { cpus: 4, tasks: 16, seed: 7, nopRemoval: true };
    const plain = parse(buildWorkload(o).yaml) as WorkloadDoc;
    const shadow = parse(buildWorkload({ ...o, shadow: true }).yaml) as WorkloadDoc;
    expect(buildWorkload({ ...o, shadow: false }).yaml).toBe(buildWorkload(o).yaml);
    for (const f of Object.keys(shadow.kernel.functions)) if (f.startsWith('stress_sv_')) delete shadow.kernel.functions[f];
    for (let k = 0; k < LIVEPATCHES; k++) {
      const funcs = shadow.modules[patchName(k)].livepatch.objects.vmlinux.funcs;
      expect(funcs[SHADOW_FUNC]).toBeDefined();
      delete funcs[SHADOW_FUNC];
    }
    expect(shadow.tasks.slice(16).map((t) => `${t.name}@${t.cpu}`)).toEqual([
      'stress_sv/0@0',
      'stress_sv/1@1',
      'stress_sv/2@2',
      'stress_sv/3@3',
    ]);
    shadow.tasks = shadow.tasks.slice(0, 16);
    expect(shadow).toEqual(plain);
  });

  it('catches shadow-free-no-rcu on worker threads', async () => {
    // Worker threads interleave differently on every run: a few seeds, stopping at the first that catches
    // it (in our runs the first always did, within about a second).
    let caught = null;
    for (const seed of [1, 2, 3]) {
      const r = await runStress({ ...base, seed, faults: ['shadow-free-no-rcu'], stopOnViolation: true });
      if (r.violationsByCheck['use-after-free'] || r.violationsByCheck.shadow) {
        caught = r;
        break;
      }
    }
    expect(caught).not.toBeNull();
    expect(caught?.firstViolations.map((v) => v.message).join('\n')).toMatch(
      /klp_shadow_get\(\) on CPU \d+ read a freed shadow variable|a bucket of klp_shadow_hash links to 0x6b6b6b6b|stress_sv: /,
    );
  }, 60_000);

  it('runs clean without the fault, with the shadow check fed', async () => {
    const r = await runStress({ ...base, seed: 1, faults: [] });
    expect(r.firstViolations).toEqual([]);
    expect(r.error).toBeNull();
    // Every shadow.alloc and shadow.free was checked: the patched code did run.
    expect(r.checks.shadow).toBeGreaterThan(100);
    // The report shows the check and replays with the workload.
    expect(renderSummary([r], totals([r], r.wallMs))).toMatch(/^ {2}shadow +\d+ +0$/m);
    expect(renderSummary([r], totals([r], r.wallMs))).toContain('faults: none, shadow workload, NOP removal on');
    expect(replayCommand(r, 4)).toContain(' --workload shadow');
  }, 60_000);

  it('is a --inject choice, and --workload is checked', async () => {
    const cli = {
      cpus: 4,
      tasks: 16,
      seed: 1,
      deterministic: true,
      nopRemoval: true,
      unwinder: 'orc' as const,
      json: true,
      shrink: false,
      ops: 0,
    };
    const out = { write: () => true } as unknown as typeof process.stdout;
    const err = { write: () => true } as unknown as typeof process.stderr;
    await expect(stressCommand({ ...cli, inject: ['shadow-free-no-rcu'] }, out, err)).resolves.toBe(0);
    await expect(stressCommand({ ...cli, inject: [], workload: 'shadows' }, out, err)).rejects.toThrow(
      new StressUsageError("--workload: unknown workload 'shadows' (one of default, shadow)"),
    );
    await expect(stressCommand({ ...cli, tasks: 200, inject: [], workload: 'shadow' }, out, err)).rejects.toThrow(StressUsageError);
  });
});
