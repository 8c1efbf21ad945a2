/**
 * Object callbacks (include/linux/livepatch.h, core.h): pre_patch may veto patching an object; its
 * success is what enables post_unpatch later, so an object whose pre_patch failed is not "unpatched".
 */
import type { KlpObject } from './klp-types';

export async function klpPrePatchCallback(obj: KlpObject): Promise<number> {
  let ret = 0;
  if (obj.callbacks.pre_patch) ret = (await obj.callbacks.pre_patch(obj)) ?? 0;
  obj.callbacks.post_unpatch_enabled = ret === 0;
  return ret;
}

export async function klpPostPatchCallback(obj: KlpObject): Promise<void> {
  if (obj.callbacks.post_patch) await obj.callbacks.post_patch(obj);
}

export async function klpPreUnpatchCallback(obj: KlpObject): Promise<void> {
  if (obj.callbacks.pre_unpatch) await obj.callbacks.pre_unpatch(obj);
}

export async function klpPostUnpatchCallback(obj: KlpObject): Promise<void> {
  if (obj.callbacks.post_unpatch_enabled && obj.callbacks.post_unpatch) await obj.callbacks.post_unpatch(obj);
  obj.callbacks.post_unpatch_enabled = false;
}
