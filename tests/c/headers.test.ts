/**
 * klpsim's include/linux headers: each compiles alone and with all the others under the kernel's flags;
 * the selftest modules in scenarios/c build against them into the objects a module loader expects
 * (init_module / cleanup_module, .modinfo, __param, an ftrace site at every traceable function); a source
 * using something the headers lack fails with gcc's own error at its file:line:col.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { C_SCENARIOS, INCLUDE, describeGcc, gcc, gccFile } from './gcc-helpers';

const HEADERS = fs
  .readdirSync(path.join(INCLUDE, 'linux'))
  .filter((f) => f.endsWith('.h'))
  .sort();
const MODULES = fs
  .readdirSync(C_SCENARIOS)
  .filter((f) => /^test_klp_.*\.c$/.test(f))
  .sort();

describeGcc('include/linux headers', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'klpsim-headers-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('has the headers a module needs', () => {
    for (const h of [
      'module.h',
      'kernel.h',
      'printk.h',
      'seq_file.h',
      'delay.h',
      'sched.h',
      'slab.h',
      'workqueue.h',
      'kthread.h',
      'list.h',
      'string.h',
      'types.h',
      'compiler.h',
      'errno.h',
      'livepatch.h',
    ])
      expect(HEADERS).toContain(h);
  });

  it.each(HEADERS)('%s compiles alone, without warnings', (h) => {
    const r = gcc(`#include <linux/${h}>\n`, `only-${h}.c`, ['-fsyntax-only', '-Werror', '-DKBUILD_MODNAME="t"'], dir);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('compiles with every header included, in either order', () => {
    const all = HEADERS.map((h) => `#include <linux/${h}>`);
    for (const src of [all, [...all].reverse()]) {
      const r = gcc(src.join('\n') + '\n', 'all.c', ['-fsyntax-only', '-Werror', '-DKBUILD_MODNAME="t"'], dir);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    }
  });

  it.each(MODULES)('%s builds into a module object', (file) => {
    const name = file.replace(/\.c$/, '');
    const out = path.join(dir, `${name}.o`);
    const r = gccFile(path.join(C_SCENARIOS, file), out, name);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const syms = execFileSync('nm', [out], { encoding: 'utf8' });
    expect(syms).toMatch(/ T init_module$/m);
    expect(syms).toMatch(/ T cleanup_module$/m);
    const bin = path.join(dir, `${name}.modinfo`);
    execFileSync('objcopy', ['-O', 'binary', '--only-section=.modinfo', out, bin]);
    const modinfo = fs.readFileSync(bin, 'latin1');
    const tags = modinfo.split('\0').filter((s) => s !== '');
    expect(tags).toContain('license=GPL');
    expect(tags.includes('livepatch=Y')).toBe(/klp_(livepatch|atomic_replace|callbacks_demo|state)/.test(name));
    const sections = execFileSync('readelf', ['-SW', out], { encoding: 'utf8' });
    const hasParam = /module_param\(/.test(fs.readFileSync(path.join(C_SCENARIOS, file), 'utf8'));
    expect(/ __param /.test(sections)).toBe(hasParam);
    // Every function gcc made traceable starts with the 5-byte NOP Kbuild's flags leave at its ftrace site
    // (a cold part, `F.cold`, is not entered by a call: it is F's unlikely paths, and has none).
    const dis = execFileSync('objdump', ['-d', out], { encoding: 'utf8' });
    const entries = [...dis.matchAll(/^[0-9a-f]+ <([^>]+)>:\n\s+[0-9a-f]+:\s+((?:[0-9a-f]{2} )+)/gm)];
    expect(entries.length).toBeGreaterThan(0);
    for (const m of entries.filter((e) => !/\.cold(\.\d+)?$/.test(e[1]))) expect([m[1], m[2].trim()]).toEqual([m[1], '0f 1f 44 00 00']);
  });

  it("a module_param of the wrong type is gcc's error at the module_param line", () => {
    const src = ['#include <linux/module.h>', 'static long count;', 'module_param(count, int, 0644);', ''].join('\n');
    const r = gcc(src, 'param.c', ['-fsyntax-only', '-Werror', '-DKBUILD_MODNAME="t"'], dir);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/error: returning 'long int \*' from a function with incompatible return type 'int \*'/);
    expect(r.stderr).toMatch(/^param\.c:3:1: note: in expansion of macro 'module_param'$/m);
  });

  it.each([
    [
      'a header klpsim does not have',
      '#include <linux/proc_fs.h>\n',
      /^missing\.c:1:10: fatal error: linux\/proc_fs\.h: No such file or directory$/m,
    ],
    [
      'a field task_struct lacks',
      '#include <linux/sched.h>\nvoid *f(void)\n{\n\treturn current->mm;\n}\n',
      /^missing\.c:4:18: error: 'struct task_struct' has no member named 'mm'/m,
    ],
    [
      'a function no header declares',
      '#include <linux/kernel.h>\nint f(void)\n{\n\treturn proc_create();\n}\n',
      /^missing\.c:4:9: error: implicit declaration of function 'proc_create'/m,
    ],
  ])("%s fails with gcc's own error at file:line:col", (_what, src, want) => {
    const r = gcc(src, 'missing.c', ['-fsyntax-only', '-DKBUILD_MODNAME="t"'], dir);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(want);
  });
});
