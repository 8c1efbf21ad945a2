/**
 * klp_get_state(patch, id) for C code (kernel/livepatch/state.c): a walk of `patch->states`, the
 * module's own array of struct klp_state (terminated by an entry with id 0), on the calling CPU — it
 * reads nothing of the core's. Returns the entry's address or NULL. Memory the walk cannot read is a
 * fault of the caller, as the kernel's dereference of a bad pointer would be.
 */
import type { CpuHost } from '../kernel/cpu-host';
import { PERM_R } from '../mem/kernel-memory';
import { KLP_PATCH_LAYOUT, KLP_STATE_LAYOUT } from './klp-structs';

/** Guards against an array with no terminator. */
const MAX_STATES = 65536;

function readable(host: CpuHost, addr: number, len: number): boolean {
  const km = host.km;
  if (addr <= 0 || addr + len > km.layout.size) return false;
  for (let a = addr; a < addr + len; a += 4096 - (a % 4096)) if ((km.permsAt(a) & PERM_R) === 0) return false;
  return true;
}

/** The address of patch's state `id`, 0 for none, or null when the patch or its array is not readable. */
export function klpGetStateC(host: CpuHost, patch: number, id: bigint): number | null {
  if (!readable(host, patch + KLP_PATCH_LAYOUT.states, 8)) return null;
  const states = host.km.readU64(patch + KLP_PATCH_LAYOUT.states);
  if (states === 0) return 0;
  for (let i = 0; i < MAX_STATES; i++) {
    const at = states + i * KLP_STATE_LAYOUT.size;
    if (!readable(host, at, KLP_STATE_LAYOUT.size)) return null;
    const sid = BigInt(host.km.readU64(at + KLP_STATE_LAYOUT.id));
    if (sid === 0n) return 0;
    if (sid === BigInt.asUintN(64, id)) return at;
  }
  return 0;
}
