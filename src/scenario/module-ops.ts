/**
 * modprobe / insmod / rmmod of the scenario's modules, in the kernel's order (kernel/module.c):
 * load: code and parameters in memory (a symbol no loaded object defines fails it with -ENOENT, as
 * simplify_symbols() does; linking against another module takes a reference on it, use_module()), state
 * COMING, klp_module_coming() (patches that target the module are applied before its init can call
 * anything), the module's init, which for a livepatch module ends with klp_enable_patch(); any failure
 * unwinds through GOING and klp_module_going().
 * unload: refused while in use; state GOING, the module's exit, klp_module_going(), then free_module()
 * after a grace period, which also drops the references this module held on others.
 */
import type { KlpObjectDef, KlpPatchDef } from '../livepatch/klp-types';
import { LoadError, LoadedObject, ObjectSource, SymbolSource } from '../kernel/loader';
import type { Module } from '../kernel/modules';
import type { CodeBlock, CUnit, ModuleDef } from './scenario-types';
import { runActions } from './actions';
import { isLivepatchModule, modinfo, thisModuleObject } from '../kernel/module-elf';
import {
  cannotUnload,
  isCModule,
  moduleElfs,
  moduleFormed,
  moduleFreed,
  parseCArgs,
  registerCParams,
  runCExit,
  runCInit,
  setModuleState,
} from './c-module';
import { paramTruth, parseParam } from '../kernel/module-params';
import { addTaint, Taint } from '../kernel/taint';
import { EINVAL, ENOENT, ENOMEM } from './errno';
import type { SimContext } from './sim-context';

/** The name of a replacement function in its livepatch module, as the kernel selftests name them. */
export const livepatchSymbol = (oldName: string): string => `livepatch_${oldName}`;

/** An object's parts as the loader takes them: assembly symbols, and ELF objects (C bodies, sources, `object:`). */
export interface ObjectParts {
  symbols: SymbolSource[];
  objects: ObjectSource[];
}

/** Adds a block: assembly as a symbol, a C body as its object, `name` (the livepatch one) what it is linked as. */
function addBlock(parts: ObjectParts, b: CodeBlock, name: string, klpObject?: string): void {
  if (b.elf) {
    parts.objects.push({ elf: b.elf, ...(name !== b.name ? { rename: { [b.name]: name } } : {}), ...(klpObject ? { klpObject } : {}) });
    return;
  }
  parts.symbols.push({ name, source: b.source, ...(klpObject ? { klpObject } : {}) });
}

export function objectParts(blocks: CodeBlock[], units: CUnit[]): ObjectParts {
  const parts: ObjectParts = { symbols: [], objects: units.map((u) => ({ elf: u.elf })) };
  for (const b of blocks) addBlock(parts, b, b.name);
  return parts;
}

/** A livepatch's code for a patched module reaches that module through klp relocations (loader.ts). */
function moduleParts(def: ModuleDef): ObjectParts {
  const parts = objectParts(def.functions, def.units);
  for (const obj of def.livepatch?.objects ?? []) {
    const klpObject = obj.name === 'vmlinux' ? undefined : obj.name;
    for (const b of obj.funcs) addBlock(parts, b, b.kind === 'func' ? livepatchSymbol(b.name) : b.name, klpObject);
  }
  return parts;
}

/** load_module()'s failures: each unresolved symbol logged as simplify_symbols() does, then its errno. */
function loadCode(ctx: SimContext, def: ModuleDef, params: Map<string, string>): LoadedObject | number {
  try {
    const parts = moduleParts(def);
    // modpost's .mod.c: the struct module THIS_MODULE points at (C code reads it, callbacks read obj->mod).
    if (hasC(ctx)) parts.objects.push({ elf: thisModuleObject(def.name) });
    return ctx.m.loader.load(def.name, parts.symbols, Object.fromEntries([...params.keys()].map((k) => [k, 0])), parts.objects);
  } catch (e) {
    if (!(e instanceof LoadError)) throw e;
    const unknown = [...new Set(e.diagnostics.flatMap((d) => (d.unknownSymbol ? [d.unknownSymbol] : [])))];
    for (const name of unknown) ctx.m.log(`${def.name}: Unknown symbol ${name} (err ${ENOENT})`);
    return unknown.length > 0 ? ENOENT : ENOMEM;
  }
}

function patchDef(ctx: SimContext, def: ModuleDef): KlpPatchDef {
  const lp = def.livepatch as NonNullable<ModuleDef['livepatch']>;
  // `replace:` is a literal (0, 1, true, false) or one ${param}, read as C reads the variable into
  // klp_patch.replace; a bool parameter's value is Y/N, as param_get_bool() shows it.
  const text = substituteParam(ctx, def.name, lp.replace).trim();
  const replace = text === 'true' || (text !== 'false' && paramTruth(text) === true);
  const objs: KlpObjectDef[] = lp.objects.map((o) => {
    const scope = { module: def.name, object: o.name };
    const cb = (actions: typeof o.callbacks.pre_patch) => (actions ? async () => runActions(ctx, actions, scope) : undefined);
    return {
      name: o.name === 'vmlinux' ? null : o.name,
      funcs: o.funcs
        .filter((b) => b.kind === 'func')
        .map((b) => ({ old_name: b.name, new_name: livepatchSymbol(b.name), old_sympos: b.sympos ?? 0 })),
      callbacks: {
        pre_patch: cb(o.callbacks.pre_patch),
        post_patch: cb(o.callbacks.post_patch),
        pre_unpatch: cb(o.callbacks.pre_unpatch),
        post_unpatch: cb(o.callbacks.post_unpatch),
      },
    };
  });
  return { mod: def.name, replace, objs, states: lp.states.map((st) => ({ id: st.id, version: st.version })) };
}

function substituteParam(ctx: SimContext, mod: string, text: string): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (w, n: string) => ctx.modules.get(mod)?.params.get(n) ?? w);
}

/** Loads a module; returns 0 or a negative errno (init's or klp_enable_patch()'s). */
export async function loadModule(ctx: SimContext, def: ModuleDef, args: Record<string, string | null>): Promise<number> {
  // check_modinfo_livepatch(), in layout_and_allocate(): before anything can fail the load, so even a
  // livepatch module that is then refused leaves the kernel tainted.
  const c = isCModule(def);
  const livepatch = !!def.livepatch || (c && isLivepatchModule(modinfo(moduleElfs(def))));
  if (livepatch && addTaint(ctx.m.global, Taint.Livepatch)) ctx.m.log(`${def.name}: tainting kernel with TAINT_LIVEPATCH`);
  const given: Record<string, string> = {};
  // parse_args(), before the module's code is live: a value its parameter's type rejects fails the load.
  // A C module's parameters are its __param records, parsed once its code is in memory (below).
  for (const [k, v] of Object.entries(c ? {} : args)) {
    if (!(k in def.params)) {
      ctx.m.log(`${def.name}: unknown parameter '${k}' ignored`);
      continue;
    }
    // No equals: param_set_bool() reads it as "1"; every other setter refuses a NULL value.
    const text = v ?? (def.paramTypes[k] === 'bool' ? '1' : null);
    if (text === null || parseParam(def.paramTypes[k], text) === null) {
      ctx.m.log(`${def.name}: \`${v ?? ''}' invalid for parameter \`${k}'`);
      return EINVAL;
    }
    given[k] = text;
  }
  const params = new Map(Object.entries({ ...def.params, ...given }));
  const loaded = loadCode(ctx, def, params);
  if (typeof loaded === 'number') return loaded;
  const size = loaded.textEnd - loaded.textStart + loaded.dataEnd - loaded.dataStart;
  const mod: Module = {
    name: def.name,
    state: 'COMING',
    holders: new Set(),
    params: new Map<string, string>(),
    paramTypes: new Map(Object.entries(def.paramTypes)),
    livepatch,
    size,
  };
  ctx.modules.add(mod);
  moduleFormed(ctx, mod, loaded);
  for (const used of loaded.uses) ctx.modules.get(used)?.holders.add(def.name);
  for (const [k, v] of params) if (k in def.params) ctx.modules.setParam(mod, k, v);
  // prepare_coming_module(): if klp_module_coming() refuses the module, it has already cleaned up after
  // itself, and load_module() frees the module without calling klp_module_going().
  let ret = await ctx.klp.moduleComing(def.name);
  if (ret !== 0) {
    await freeModule(ctx, def.name);
    return ret;
  }
  // parse_args() of load_module(), after prepare_coming_module(): a refused value unwinds through GOING.
  if (c) ret = registerCParams(ctx, mod, loaded) ? parseCArgs(ctx, mod, args) : EINVAL;
  if (ret === 0) ret = await runActions(ctx, def.init, { module: def.name });
  if (ret === 0 && c) ret = await runCInit(ctx, def, loaded);
  if (ret === 0 && def.livepatch) ret = await ctx.klp.enablePatch(patchDef(ctx, def), ctx.modules);
  if (ret !== 0) {
    setModuleState(ctx, mod, 'GOING');
    await ctx.klp.moduleGoing(def.name);
    await freeModule(ctx, def.name);
    return ret;
  }
  setModuleState(ctx, mod, 'LIVE');
  return 0;
}

/** 'busy': delete_module() says -EBUSY (a module with an init but no exit cannot be removed). */
export type UnloadResult = 'ok' | 'not-loaded' | 'in-use' | 'busy';

export async function unloadModule(ctx: SimContext, def: ModuleDef | undefined, name: string): Promise<UnloadResult> {
  const mod = ctx.modules.get(name);
  if (!mod || !def) return 'not-loaded';
  if (mod.holders.size > 0 || ctx.klp.moduleInUse(name)) return 'in-use';
  if (isCModule(def) && cannotUnload(def)) return 'busy';
  setModuleState(ctx, mod, 'GOING');
  await runActions(ctx, def.exit, { module: name });
  if (isCModule(def)) await runCExit(ctx, def);
  await ctx.klp.moduleGoing(name);
  await freeModule(ctx, name);
  return 'ok';
}

async function freeModule(ctx: SimContext, name: string): Promise<void> {
  await ctx.klp.releaseModule(name);
  // module_unload_free(): the references this module took with use_module() go with it.
  for (const used of ctx.m.loader.objects.get(name)?.uses ?? []) ctx.modules.get(used)?.holders.delete(name);
  ctx.m.loader.unload(name);
  // Drop decoded copies of the module's code on every CPU before its addresses could mean anything else.
  await ctx.m.syncCore();
  ctx.modules.remove(name);
  moduleFreed(ctx, name);
}

/** Whether the scenario has C anywhere: then every module gets its struct module (THIS_MODULE, obj->mod). */
const hasC = (ctx: SimContext): boolean =>
  ctx.scenario.units.length > 0 || ctx.scenario.modules.some((m) => isCModule(m) || m.functions.some((b) => b.elf));
