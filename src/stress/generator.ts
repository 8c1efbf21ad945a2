/**
 * The seeded workload generator: picks the next operation from the machine's current state, so most ops
 * are meaningful (enable a patch that is not loaded, disable one that is enabled, reverse or force the
 * transition that is running), with a share of ops that the kernel must refuse (enabling while another
 * transition runs: -EBUSY; removing a forced patch's module: in use) to exercise its error paths too.
 *
 * The same seed gives the same sequence for the same states: with --deterministic a whole run replays.
 */
import type { Livepatch } from '../livepatch/livepatch';
import type { Modules } from '../kernel/modules';
import { Prng } from '../util/prng';
import { op, StressOp } from './ops';
import { LIVEPATCHES, patchName, TARGET_MODULE } from './workload';

export interface GeneratorView {
  klp: Livepatch;
  modules: Modules;
  /** How long the running transition has run, simulated ms. */
  transitionAgeMs: number;
}

/**
 * `force` marks every patch forced (v5.1), and a forced patch's module can never be removed: forcing
 * early and often would soon leave every livepatch module stuck. So, as an administrator would, the
 * generator forces only a transition that has been blocked for a while.
 */
const FORCE_AFTER_MS = 100;
/**
 * A `sleep` op lets 1 … SLEEP_MAX_MS of simulated time pass: up to two retry periods (STRESS_RETRY_MS),
 * so a sleep during a transition ends before or after its retry about equally often. (It was 1 … 10 ms:
 * up to five retries, so most transitions were over before the next op, and three quarters of a run's
 * simulated time — busy CPUs emulating, nothing else — went to sleeps.)
 */
const SLEEP_MAX_MS = 4;

type Choice = [weight: number, make: () => StressOp | null];

export class OpGenerator {
  private readonly rng: Prng;

  constructor(seed: number) {
    this.rng = new Prng(seed);
  }

  private pick<T>(xs: T[]): T | undefined {
    return xs.length === 0 ? undefined : xs[this.rng.int(0, xs.length - 1)];
  }

  next(v: GeneratorView): StressOp {
    const all = Array.from({ length: LIVEPATCHES }, (_, k) => patchName(k));
    const loaded = all.filter((p) => v.modules.isLoaded(p));
    const notLoaded = all.filter((p) => !v.modules.isLoaded(p));
    const enabled = loaded.filter((p) => v.klp.patch(p)?.enabled);
    // A livepatch module whose patch is gone (disabled and freed, or replaced) can be removed; a forced
    // one never can, and trying is part of the test.
    const removable = loaded.filter((p) => !v.klp.patch(p) && !v.klp.state.forcedModules.has(p));
    const forced = loaded.filter((p) => v.klp.state.forcedModules.has(p));
    const tp = v.klp.transitionPatch();
    const modLoaded = v.modules.isLoaded(TARGET_MODULE);
    const choices: Choice[] = tp
      ? [
          [12, () => op.reverse(tp.mod, tp.enabled ? 0 : 1)],
          [v.transitionAgeMs > FORCE_AFTER_MS ? 8 : 0, () => op.force(tp.mod)],
          [6, () => op.signal()],
          [30, () => op.sleep(this.rng.int(1, SLEEP_MAX_MS))],
          [30, () => op.wait()],
          [4, () => (notLoaded.length ? op.enable(this.pick(notLoaded) as string) : null)],
          [6, () => (modLoaded ? op.moduleUnload(TARGET_MODULE) : op.moduleLoad(TARGET_MODULE))],
        ]
      : [
          [20, () => (notLoaded.length ? op.enable(this.pick(notLoaded) as string) : null)],
          [24, () => (notLoaded.length ? op.replace(this.pick(notLoaded) as string) : null)],
          [16, () => (enabled.length ? op.disable(this.pick(enabled) as string) : null)],
          [12, () => (removable.length ? op.rmmodPatch(this.pick(removable) as string) : null)],
          [2, () => (forced.length ? op.rmmodPatch(this.pick(forced) as string) : null)],
          [10, () => (modLoaded ? op.moduleUnload(TARGET_MODULE) : op.moduleLoad(TARGET_MODULE))],
          [12, () => op.sleep(this.rng.int(1, SLEEP_MAX_MS))],
        ];
    for (let tries = 0; tries < 16; tries++) {
      const total = choices.reduce((n, [w]) => n + w, 0);
      let r = this.rng.int(0, total - 1);
      const c = choices.find(([w]) => (r -= w) < 0) as Choice;
      const made = c[1]();
      if (made) return made;
    }
    return op.sleep(10);
  }
}
