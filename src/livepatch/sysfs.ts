/**
 * /sys/kernel/livepatch as the kernel lays it out (core.c "Sysfs Interface"):
 *   /sys/kernel/livepatch/<patch>/{enabled,transition,force,replace}
 *   /sys/kernel/livepatch/<patch>/<object>/patched
 *   /sys/kernel/livepatch/<patch>/<object>/<function,sympos>/
 * Reads give the attribute's text; writes go to the store functions of core.c. Errors are negative
 * errnos, turned into the shell's messages by the caller. `replace` (6.11), `stack_order` (6.13) and
 * `OBJ/patched` (6.0) exist only in the releases that have them (src/kernel/kernel-version.ts).
 */
import type { KlpState } from './klp-state';
import { EINVAL, ENOENT, funcSysfsName, klpEnabledStore, klpForceStore } from './core';
import { KlpObject, KlpPatch, objName } from './klp-types';

export const EACCES = -13;
export const EISDIR = -21;
export const ENOTDIR = -20;
export const LIVEPATCH_ROOT = '/sys/kernel/livepatch';

type PatchAttr = 'enabled' | 'transition' | 'force' | 'replace' | 'stack_order';

type Node = { kind: 'dir'; entries: string[] } | { kind: 'attr'; patch: KlpPatch; name: PatchAttr } | { kind: 'patched'; obj: KlpObject };

function resolve(s: KlpState, path: string): Node | null {
  const clean = path.replace(/\/+$/, '');
  if (clean === LIVEPATCH_ROOT) return { kind: 'dir', entries: [...s.byName.keys()] };
  if (!clean.startsWith(LIVEPATCH_ROOT + '/')) return null;
  const [pname, oname, third, ...rest] = clean.slice(LIVEPATCH_ROOT.length + 1).split('/');
  const patch = s.byName.get(pname);
  if (!patch) return null;
  const v = s.m.version;
  const attrs = [
    'enabled',
    'transition',
    'force',
    ...(v.hasReplaceAttr ? ['replace'] : []),
    ...(v.hasStackOrderAttr ? ['stack_order'] : []),
  ];
  if (oname === undefined) return { kind: 'dir', entries: [...attrs, ...patch.objs.map(objName)].sort() };
  if (third === undefined && attrs.includes(oname)) return { kind: 'attr', patch, name: oname as PatchAttr };
  const obj = patch.objs.find((o) => objName(o) === oname);
  if (!obj) return null;
  if (third === undefined)
    return { kind: 'dir', entries: [...(v.hasPatchedAttr ? ['patched'] : []), ...obj.funcs.map(funcSysfsName)].sort() };
  if (third === 'patched' && rest.length === 0 && v.hasPatchedAttr) return { kind: 'patched', obj };
  if (rest.length === 0 && obj.funcs.some((f) => funcSysfsName(f) === third)) return { kind: 'dir', entries: [] };
  return null;
}

/**
 * stack_order_show(): the patch's 1-based place on klp_patches, counted under klp_mutex (klpsim's sysfs
 * reads run on the coordinator, between the livepatch core's steps). A patch no longer on the list —
 * replaced, its free work still pending — counts every listed patch, as the kernel's loop runs off the end.
 */
function stackOrder(s: KlpState, patch: KlpPatch): number {
  const i = s.patches.indexOf(patch);
  return i >= 0 ? i + 1 : s.patches.length;
}

export type SysfsResult = { ok: true; text: string } | { ok: false; errno: number };

/**
 * The attributes' modes, as core.c declares them (`__ATTR_RW(enabled)`, `__ATTR_RO(transition)`,
 * `__ATTR_WO(force)`, `__ATTR_RO(replace)`, `__ATTR_RO(stack_order)`, `__ATTR_RO(patched)`): kernfs_fop_open()
 * refuses to open an attribute for a kind of access its mode lacks, even for root.
 */
const ATTR_MODE: Record<PatchAttr | 'patched', number> = {
  enabled: 0o644,
  transition: 0o444,
  force: 0o200,
  replace: 0o444,
  stack_order: 0o444,
  patched: 0o444,
};

export type SysfsNode = { kind: 'dir'; entries: string[] } | { kind: 'attr'; mode: number };

/** What a path names under /sys/kernel/livepatch: a directory, an attribute with its mode, or nothing. */
export function sysfsLookup(s: KlpState, path: string): SysfsNode | null {
  const node = resolve(s, path);
  if (!node) return null;
  if (node.kind === 'dir') return node;
  return { kind: 'attr', mode: ATTR_MODE[node.kind === 'patched' ? 'patched' : node.name] };
}

export function sysfsRead(s: KlpState, path: string): SysfsResult {
  const node = resolve(s, path);
  if (!node) return { ok: false, errno: ENOENT };
  switch (node.kind) {
    case 'dir':
      return { ok: false, errno: EISDIR };
    case 'patched':
      return { ok: true, text: `${node.obj.patched ? 1 : 0}\n` };
    case 'attr':
      if (node.name === 'enabled') return { ok: true, text: `${node.patch.enabled ? 1 : 0}\n` };
      if (node.name === 'transition') return { ok: true, text: `${node.patch === s.transitionPatch ? 1 : 0}\n` };
      if (node.name === 'replace') return { ok: true, text: `${node.patch.replace ? 1 : 0}\n` };
      if (node.name === 'stack_order') return { ok: true, text: `${stackOrder(s, node.patch)}\n` };
      return { ok: false, errno: EACCES }; // force is write-only
  }
}

export function sysfsList(s: KlpState, path: string): { ok: true; entries: string[] } | { ok: false; errno: number } {
  const node = resolve(s, path);
  if (!node) return { ok: false, errno: ENOENT };
  if (node.kind !== 'dir') return { ok: false, errno: ENOTDIR };
  return { ok: true, entries: node.entries };
}

export async function sysfsWrite(s: KlpState, path: string, value: string): Promise<number> {
  const node = resolve(s, path);
  if (!node) return ENOENT;
  if (node.kind !== 'attr' || node.name === 'transition' || node.name === 'replace' || node.name === 'stack_order')
    return node.kind === 'dir' ? EISDIR : EACCES;
  const b = s.m.version.kstrtobool(value);
  if (b === null) return EINVAL;
  if (node.name === 'enabled') return klpEnabledStore(s, node.patch, b);
  return b ? klpForceStore(s, node.patch) : 0;
}
