/**
 * The offsets src/livepatch/klp-structs.ts reads struct klp_patch & co. at are gcc's own layout of
 * include/linux/livepatch.h and module.h: each is a _Static_assert compiled with the kernel flags.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  KLP_CALLBACKS_LAYOUT,
  KLP_FUNC_LAYOUT,
  KLP_OBJECT_LAYOUT,
  KLP_PATCH_LAYOUT,
  KLP_STATE_LAYOUT,
  MODULE_LAYOUT,
} from '../../src/livepatch/klp-structs';
import { describeGcc, gcc } from './gcc-helpers';

const STRUCTS: [string, Record<string, number>][] = [
  ['struct klp_func', KLP_FUNC_LAYOUT],
  ['struct klp_callbacks', KLP_CALLBACKS_LAYOUT],
  ['struct klp_object', KLP_OBJECT_LAYOUT],
  ['struct klp_state', KLP_STATE_LAYOUT],
  ['struct klp_patch', KLP_PATCH_LAYOUT],
  ['struct module', MODULE_LAYOUT],
];

describeGcc('klp structures in emulated memory', () => {
  it('are laid out as gcc lays out livepatch.h and module.h', () => {
    const lines = ['#include <linux/livepatch.h>'];
    for (const [type, layout] of STRUCTS)
      for (const [field, v] of Object.entries(layout)) {
        if (field === 'size') lines.push(`_Static_assert(sizeof(${type}) == ${v}, "sizeof(${type})");`);
        else if (field === 'nameLen') lines.push(`_Static_assert(sizeof(((${type} *)0)->name) == ${v}, "${type}.name");`);
        else lines.push(`_Static_assert(__builtin_offsetof(${type}, ${field}) == ${v}, "${type}.${field}");`);
      }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'klpsim-structs-'));
    try {
      const r = gcc(lines.join('\n') + '\n', 'layout.c', ['-fsyntax-only', '-DKBUILD_MODNAME="t"'], dir);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
