/**
 * klp_init_func()'s kobject_add() of `FUNC,SYMPOS` (sympos 0 shown as 1): a patch that names one function
 * twice, as sympos 0 and as sympos 1, is refused with -EEXIST before anything is patched.
 */
import { withKlp } from './helpers';

it('a patch naming a function with sympos 0 and 1 fails with -EEXIST and leaves nothing behind', async () => {
  await withKlp({ kernel: { f1: 'xor eax, eax\nret' } }, async ({ m, klp, events }) => {
    m.loader.load('lp', [{ name: 'lp_f1', source: 'mov eax, 1\nret' }]);
    const funcs = [
      { old_name: 'f1', new_name: 'lp_f1', old_sympos: 0 },
      { old_name: 'f1', new_name: 'lp_f1', old_sympos: 1 },
    ];
    const ret = await klp.enablePatch({ mod: 'lp', replace: false, objs: [{ name: null, funcs }] }, { isLoaded: () => true });
    expect(ret).toBe(-17);
    const logs = events.flatMap((e) => (e.type === 'log' ? [String(e.text)] : []));
    expect(logs).toEqual([
      "sysfs: cannot create duplicate filename '/kernel/livepatch/lp/vmlinux/f1,1'",
      "kobject_add_internal failed for f1,1 with -EEXIST, don't try to register things with the same name in the same directory.",
    ]);
    expect(klp.list('/sys/kernel/livepatch')).toEqual({ ok: true, entries: [] });
    expect(klp.isPatched('f1')).toBe(false);
  });
});
