/**
 * System states (kernel/livepatch/state.c, 5.5+): a livepatch declares the system state changes it makes
 * (`struct klp_state`: an id, a version, and a data pointer of its own), so that a cumulative patch
 * replacing it can take them over and a patch that cannot handle them is refused.
 *
 * - klp_get_state(patch, id): the patch's own state of that id;
 * - klp_get_prev_state(id): the newest state of that id among the patches on klp_patches before the one
 *   in transition — what the callbacks of a replacing (or reverted) patch inherit. Outside a transition
 *   the kernel WARNs once and returns NULL;
 * - klp_is_patch_compatible(): every state of every installed patch must be one the new patch handles
 *   (same id, version >= the installed one); a non-cumulative patch may leave a state alone, a
 *   cumulative one, which replaces all of them, may not.
 *
 * The states live in the patch (coordinator memory); their `data` is the module's own pointer, which
 * klpsim's YAML actions do not model (C modules would keep it in their klp_state).
 */
import type { KlpState } from './klp-state';
import type { KlpPatch, KlpStateDef } from './klp-types';

/** klp_get_state(): `patch`'s state `id`, or null. */
export function klpGetState(patch: Pick<KlpPatch, 'states'>, id: number): KlpStateDef | null {
  return patch.states.find((st) => st.id === id) ?? null;
}

/**
 * klp_get_prev_state(): the state `id` of the newest patch older than the transition patch, or null
 * (also when there is no transition: the kernel's WARN_ON_ONCE case).
 */
export function klpGetPrevState(s: KlpState, id: number): { patch: KlpPatch; state: KlpStateDef } | null {
  if (!s.transitionPatch) return null;
  let last: { patch: KlpPatch; state: KlpStateDef } | null = null;
  for (const patch of s.patches) {
    if (patch === s.transitionPatch) break;
    const state = klpGetState(patch, id);
    if (state) last = { patch, state };
  }
  return last;
}

/** klp_is_state_compatible(): can `patch` deal with `old`, a state an installed patch made? */
function klpIsStateCompatible(patch: Pick<KlpPatch, 'replace' | 'states'>, old: KlpStateDef): boolean {
  const state = patch.states.find((st) => st.id === old.id);
  if (!state) return !patch.replace;
  return state.version >= old.version;
}

/**
 * klp_is_patch_compatible(): the first installed state `patch` cannot handle, or null when it handles
 * them all (checked by klp_enable_patch() before the patch is initialised).
 */
export function klpIncompatibleState(
  s: KlpState,
  patch: Pick<KlpPatch, 'replace' | 'states'>,
): { patch: KlpPatch; state: KlpStateDef } | null {
  for (const old of s.patches) {
    for (const state of old.states) if (!klpIsStateCompatible(patch, state)) return { patch: old, state };
  }
  return null;
}
