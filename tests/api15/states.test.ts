/**
 * System states (kernel/livepatch/state.c, 5.5+) from YAML: `states:` in a livepatch, the
 * klp_get_state / klp_get_prev_state actions, the compatibility check on enable, the `state.*` events,
 * and the checks that refuse them where the kernel has no such thing.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { resolve } from 'path';
import { errorsOf } from '../scenario/helpers';
import { runScenario } from '../scenarios/helpers';
import { Simulation } from '../../src/scenario/simulation';

const SHIPPED = readFileSync(resolve(__dirname, '../../scenarios/test-state.yaml'), 'utf8');

const lp = (body: string, version = '5.5'): string =>
  ['name: states', 'cpus: 1', `kernel_version: "${version}"`, 'modules:', '  lp:', '    livepatch:', '      replace: true', body].join(
    '\n',
  ) + '\n';

describe('system states', () => {
  it('before 5.5 a patch has no states: check refuses them, and the lookups, at their place', () => {
    const errs = errorsOf(SHIPPED.replace('kernel_version: "5.5"', 'kernel_version: "5.4"'), 'state.yaml');
    expect(errs).toContain("state.yaml:30:17: states (struct klp_state) need kernel_version 5.5 or later; this scenario's is 5.4");
    expect(errs.some((e) => /klp_get_state\(\) needs kernel_version 5\.5 or later/.test(e))).toBe(true);
    expect(errs.some((e) => /klp_get_prev_state\(\) needs kernel_version 5\.5 or later/.test(e))).toBe(true);
  });

  it('klp_get_prev_state() only in callbacks; the lookups only in livepatch modules; ids once', () => {
    const errs = errorsOf(
      lp(
        [
          '      states: [ { id: 1, version: 1 }, { id: 1, version: 2 } ]',
          '  plain:',
          '    init: [ { klp_get_state: { id: 1 } } ]',
          '  lp2:',
          '    init: [ { klp_get_prev_state: { id: 1 } } ]',
          '    livepatch: { objects: {} }',
        ].join('\n'),
      ),
    );
    expect(errs).toEqual([
      'test.yaml:8:40: state id 1 is declared twice in this patch',
      "test.yaml:10:13: klp_get_state() is for a livepatch module's init, exit and callbacks (it reads the module's klp_patch)",
      'test.yaml:12:13: klp_get_prev_state() works only during a transition: call it from a callback',
    ]);
  });

  it('emits state.get for each lookup and state.incompatible for the refused patch', async () => {
    const sim = await Simulation.fromFile(resolve(__dirname, '../../scenarios/test-state.yaml'), { deterministic: true });
    const events: Record<string, unknown>[] = [];
    sim.events$.subscribe((e) => {
      if (e.type === 'state.get' || e.type === 'state.incompatible') events.push({ ...e, t: undefined, seq: undefined, cpu: undefined });
    });
    const r = await sim.run();
    expect(r.exitCode).toBe(0);
    // test_klp_state2's pre_patch while test_klp_state (version 1) is installed: it takes the state over.
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'state.get', patch: 'test_klp_state2', id: 1, prev: true, found: 'test_klp_state', version: 1 }),
    );
    expect(events.filter((e) => e.type === 'state.incompatible')).toEqual([
      expect.objectContaining({ patch: 'test_klp_state', id: 1, version: 1, installed: 'test_klp_state2', installedVersion: 2 }),
    ]);
  });

  it('a non-cumulative patch may leave an installed state alone; a missing state fails pre_patch (-EINVAL)', async () => {
    const text = SHIPPED.replace(/steps:[\s\S]*$/, '')
      .replace('      states: [ { id: 1, version: 1 } ]   # CONSOLE_LOGLEVEL_STATE, version 1: no migration\n', '')
      .concat(
        [
          'steps:',
          '  - sh: modprobe test_klp_state2',
          '  - wait: transition',
          '  - sh: modprobe test_klp_state',
          '  - wait: transition',
          '',
        ].join('\n'),
      );
    const file = resolve(mkdtempSync(resolve(tmpdir(), 'klpsim-states-')), 's.yaml');
    writeFileSync(file, text);
    const r = await runScenario(file);
    // test_klp_state without its state is cumulative: it must handle state 1 and cannot.
    expect(r.log).toContain('livepatch: Livepatch patch (test_klp_state) is not compatible with the already installed livepatches.');
    const again = text.replace(/(test_klp_state:\n {4}livepatch:\n {6}replace:) true/, '$1 false');
    writeFileSync(file, again);
    const r2 = await runScenario(file);
    expect(r2.log).not.toContain('livepatch: Livepatch patch (test_klp_state) is not compatible with the already installed livepatches.');
    // … and its own klp_get_state() finds nothing: allocate_loglevel_state() returns -EINVAL.
    expect(r2.log).toContain("livepatch: pre-patch callback failed for object 'vmlinux'");
    expect(r2.log).toContain("modprobe: ERROR: could not insert 'test_klp_state': Invalid argument");
  });
});
