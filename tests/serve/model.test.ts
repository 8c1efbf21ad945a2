/**
 * The page's model (web/src/model.ts, plain TypeScript without the DOM) folded over the flagship's real
 * event stream: the patch stack with its NOPs and dynamic object, who runs which version during the
 * replace transition, and the final state after NOP removal.
 */
import { resolve } from 'node:path';
import type { SimEvent } from '../../src/kernel/events';
import { Simulation } from '../../src/scenario/simulation';
import { ORIGINAL, SimModel, SiteEntry, TaskEntry } from '../../web/src/model';

const FLAGSHIP = resolve(__dirname, '../../scenarios/atomic-replace-nops.yaml');
let events: SimEvent[] = [];

beforeAll(async () => {
  const sim = await Simulation.fromFile(FLAGSHIP, { deterministic: true });
  sim.events$.subscribe((e) => events.push(e));
  expect((await sim.run()).exitCode).toBe(0);
}, 60_000);

afterAll(() => {
  events = [];
});

const site = (m: SimModel, func: string): SiteEntry => [...m.sites.values()].find((s) => s.func === func) as SiteEntry;
const task = (m: SimModel, comm: string): TaskEntry => [...m.tasks.values()].find((t) => t.comm === comm) as TaskEntry;

describe('the page model over the flagship', () => {
  it("during klp_patch_c's transition: NOPs, the dynamic object, versions per task, who blocks", () => {
    const m = new SimModel(4);
    const cut = events.findIndex((e) => e.type === 'sh' && e.command === 'modprobe klp_patch_c');
    expect(cut).toBeGreaterThan(0);
    for (const e of events.slice(0, cut + 1)) m.apply(e);

    const c = m.patches.find((p) => p.name === 'klp_patch_c');
    expect(c).toMatchObject({ enabled: true, replace: true, freedAt: null });
    const nops = c?.objects.flatMap((o) =>
      o.funcs.filter((f) => f.nop).map((f) => `${o.name}${o.dynamic ? '(dynamic)' : ''}:${f.func}<-${f.replaces}`),
    );
    expect(nops?.sort()).toEqual([
      'klp_demo_target(dynamic):demo_target_show<-klp_patch_b',
      'vmlinux:cmdline_proc_show<-klp_patch_a',
      'vmlinux:version_proc_show<-klp_patch_b',
    ]);
    // 10 tasks: the 8 readers, demo_worker and modprobe, whose init (C) called klp_enable_patch() and
    // waits in it while the transition starts, as insmod's process does in the kernel.
    expect(m.transition).toMatchObject({ patch: 'klp_patch_c', target: 'patching', outcome: 'running', total: 10 });

    // demo_worker sleeps in klp_patch_b's function: it is the one the transition waits for.
    expect(m.blockingTasks().map((t) => t.comm)).toEqual(['demo_worker']);
    expect(m.switchedCount()).toBe(9); // the readers and modprobe
    const reader = task(m, 'reader/0');
    const worker = task(m, 'demo_worker');
    // The handler's rule: a switched task takes the head (C's NOP: the original code), an unswitched one the entry below.
    expect(m.versionFor(site(m, 'cmdline_proc_show'), reader)).toBe(ORIGINAL);
    expect(m.versionFor(site(m, 'cmdline_proc_show'), worker)).toBe('klp_patch_a');
    expect(m.versionFor(site(m, 'meminfo_proc_show'), reader)).toBe('klp_patch_c');
    expect(m.versionFor(site(m, 'demo_target_show'), worker)).toBe('klp_patch_b');
    expect(m.worldOf(reader)).toBe('klp_patch_c');
    expect(m.worldOf(worker)).toBe('klp_patch_b');
    expect(site(m, 'cmdline_proc_show').stack).toEqual([
      { patch: 'klp_patch_c', nop: true },
      { patch: 'klp_patch_a', nop: false },
    ]);
    expect(site(m, 'cmdline_proc_show').bytes).toMatch(/^e8 /);
    expect(m.cpuLanes).toHaveLength(4);
  });

  it('at the end: NOPs discarded and freed, replaced patches freed, every site a 5-byte NOP again', () => {
    const m = new SimModel();
    for (const e of events) m.apply(e);
    expect(m.events).toBe(events.length);
    expect(m.patches.map((p) => [p.name, p.freedAt !== null])).toEqual([
      ['klp_patch_a', true],
      ['klp_patch_b', true],
      ['klp_patch_c', true],
    ]);
    expect(m.patches.flatMap((p) => p.objects)).toEqual([]);
    const c = m.patches[2];
    expect(c.freed.map((f) => f.text)).toEqual([
      'NOP func cmdline_proc_show (vmlinux)',
      'NOP func version_proc_show (vmlinux)',
      'NOP func demo_target_show (klp_demo_target)',
      'dynamic object klp_demo_target',
    ]);
    // The NOPs were freed before "patching complete", the replaced patches after it.
    const complete = m.transitions.find((t) => t.patch === 'klp_patch_c' && t.target === 'patching');
    expect(complete?.outcome).toBe('complete');
    expect(c.freed.every((f) => f.t <= (complete?.end as number))).toBe(true);
    expect(m.transitions.map((t) => `${t.patch} ${t.target} ${t.outcome}`)).toEqual([
      'klp_patch_a patching complete',
      'klp_patch_b patching complete',
      'klp_patch_c patching complete',
      'klp_patch_c unpatching complete',
    ]);
    for (const s of m.sites.values()) expect([s.func, s.bytes, s.stack, s.registered]).toEqual([s.func, '0f 1f 44 00 00', [], false]);
    expect(m.transition).toBeNull();
    expect(m.gps.every((g) => g.end !== null)).toBe(true);
    expect(m.problems).toEqual([]);
    // Timeline: every CPU ran tasks, in the colours of each patch in turn, redirects marked.
    for (const lane of m.cpuLanes) {
      expect(new Set(lane.segments.map((s) => s.world))).toEqual(new Set(['klp_patch_a', 'klp_patch_b', 'klp_patch_c', ORIGINAL]));
      expect(lane.marks.some((mk) => mk.kind === 'redirect')).toBe(true);
    }
    expect(m.log.map((l) => l.text)).toContain("livepatch: 'klp_patch_c': patching complete");
  });
});
