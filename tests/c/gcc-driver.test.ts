/**
 * The gcc driver: Kbuild's code generation (ftrace sites, __mcount_loc, notrace, frame pointers per
 * unwinder), gcc's errors mapped back into the scenario file, gcc missing, and the content-hash cache.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileCached, CompileRequest } from '../../src/c/compile-cache';
import { runGcc } from '../../src/c/gcc-driver';
import { kernelCflags } from '../../src/c/kernel-cflags';
import { readElfObject } from '../../src/c/elf/elf-reader';
import type { ElfObject } from '../../src/c/elf/elf-types';
import { includeDir } from '../../src/scenario/c-units';
import { parseScenario } from '../../src/scenario/load-scenario';
import { ScenarioError } from '../../src/scenario/scenario-error';
import { describeWithGcc } from './gcc-available';

const SRC = `
#include <linux/printk.h>
#include <linux/delay.h>
int leaf(int x) { return x * 3; }
int caller(int x) { msleep(1); return leaf(x) + 1; }
notrace int quiet(int x) { return x ^ 5; }
`;

function compile(framePointer: boolean, source = SRC): ElfObject {
  const r = runGcc({ source, name: 't.c', flags: kernelCflags({ framePointer, modname: 't', module: true }), include: [includeDir()] });
  if (!r.ok) throw new Error(JSON.stringify(r.diagnostics));
  return readElfObject(r.object, 't.o');
}

const funcBytes = (elf: ElfObject, name: string): Uint8Array => {
  const s = elf.symbols.find((x) => x.name === name) as ElfObject['symbols'][number];
  return elf.sections[s.shndx].data.subarray(s.value, s.value + s.size);
};

/** The function offsets __mcount_loc lists (its R_X86_64_64 relocations against .text). */
const mcountSites = (elf: ElfObject): number[] =>
  (elf.relocations.get((elf.sectionByName.get('__mcount_loc') as { index: number }).index) ?? []).map((r) => r.addend);

const errorsOf = (text: string, file = '/tmp/t.yaml'): string[] => {
  try {
    parseScenario(text, file);
  } catch (e) {
    if (e instanceof ScenarioError) return e.message.split('\n');
    throw e;
  }
  return [];
};

describeWithGcc('the gcc driver', () => {
  it('compiles with ftrace sites: every traceable function starts with 0f 1f 44 00 00 and is in __mcount_loc', () => {
    const elf = compile(false);
    const offset = (n: string) => (elf.symbols.find((x) => x.name === n) as { value: number }).value;
    for (const f of ['leaf', 'caller']) expect([...funcBytes(elf, f).subarray(0, 5)]).toEqual([0x0f, 0x1f, 0x44, 0x00, 0x00]);
    expect(mcountSites(elf).sort()).toEqual([offset('leaf'), offset('caller')].sort());
  });

  it('honours notrace: no ftrace site, no __mcount_loc entry', () => {
    const elf = compile(false);
    const q = elf.symbols.find((x) => x.name === 'quiet') as { value: number };
    expect([...funcBytes(elf, 'quiet').subarray(0, 5)]).not.toEqual([0x0f, 0x1f, 0x44, 0x00, 0x00]);
    expect(mcountSites(elf)).not.toContain(q.value);
  });

  it('keeps frame pointers for the frame-pointer unwinder and omits them for ORC', () => {
    const PUSH_RBP_MOV_RBP_RSP = [0x55, 0x48, 0x89, 0xe5];
    expect([...funcBytes(compile(true), 'caller').subarray(5, 9)]).toEqual(PUSH_RBP_MOV_RBP_RSP);
    expect([...funcBytes(compile(false), 'caller').subarray(5, 9)]).not.toEqual(PUSH_RBP_MOV_RBP_RSP);
    expect(kernelCflags({ framePointer: true, modname: 'x', module: false })).toEqual(
      expect.arrayContaining(['-fno-omit-frame-pointer', '-fno-optimize-sibling-calls']),
    );
    expect(kernelCflags({ framePointer: false, modname: 'x', module: false })).not.toContain('-fno-omit-frame-pointer');
  });

  it('passes Kbuild x86-64 code generation flags', () => {
    const f = kernelCflags({ framePointer: false, modname: 'm', module: true });
    for (const flag of [
      '-O2',
      '-pg',
      '-mfentry',
      '-mrecord-mcount',
      '-mnop-mcount',
      '-mno-red-zone',
      '-mno-sse',
      '-mno-mmx',
      '-mno-80387',
      '-fno-asynchronous-unwind-tables',
      '-fcf-protection=none',
      '-fno-stack-protector',
      '-fno-pic',
      '-ffreestanding',
      '-nostdinc',
      '-mcmodel=small',
      '-DMODULE',
      '-DKBUILD_MODNAME="m"',
    ])
      expect(f).toContain(flag);
  });

  it("maps gcc's errors back into the scenario file: a { c: } body, an inline c: block, a sources: file", () => {
    const dir = mkdtempSync(join(tmpdir(), 'klpsim-cerr-'));
    writeFileSync(join(dir, 'bad.c'), 'int ok(void) { return 0; }\nint bad(void)\n{\n\treturn missing;\n}\n');
    const yaml = [
      'name: errors', //                                          1
      'kernel:', //                                               2
      '  functions:', //                                          3
      '    f: { c: "int f(void) { return nope; }" }', //          4
      '  sources: [bad.c]', //                                    5
      'modules:', //                                              6
      '  m:', //                                                  7
      '    c: |', //                                              8
      '      int g(void)', //                                     9
      '      {', //                                              10
      '              return undeclared_thing;', //               11
      '      }', //                                              12
    ].join('\n');
    const file = join(dir, 's.yaml');
    expect(errorsOf(yaml, file)).toEqual([
      `${join(dir, 'bad.c')}:4:16: error: 'missing' undeclared (first use in this function)`,
      `${join(dir, 'bad.c')}:5:1: error: control reaches end of non-void function [-Werror=return-type]`,
      // Column 13 is the string's opening quote: 'nope' is its 22nd character.
      `${file}:4:35: error: 'nope' undeclared (first use in this function)`,
      `${file}:4:41: error: control reaches end of non-void function [-Werror=return-type]`,
      // The block's text is indented by 6: gcc's column 16 is the file's 22.
      `${file}:11:22: error: 'undeclared_thing' undeclared (first use in this function)`,
      `${file}:12:7: error: control reaches end of non-void function [-Werror=return-type]`,
    ]);
  });

  it('says a header klpsim lacks the way gcc does, at the #include', () => {
    const yaml = ['name: h', 'kernel:', '  c: |', '    #include <linux/nonexistent.h>', '    int x;'].join('\n');
    expect(errorsOf(yaml)).toEqual(['/tmp/t.yaml:4:14: fatal error: linux/nonexistent.h: No such file or directory']);
  });

  it('without gcc: FILE:LINE:COL: C functions need gcc (apt-get install gcc), exit 2', () => {
    const dir = mkdtempSync(join(tmpdir(), 'klpsim-nogcc-'));
    const file = join(dir, 's.yaml');
    writeFileSync(file, ['name: nogcc', 'kernel:', '  functions:', '    f: { c: "int f(void) { return 1; }" }'].join('\n'));
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, '../../src/cli/main.ts'), 'check', file], {
      encoding: 'utf8',
      env: { ...process.env, PATH: dir, XDG_CACHE_HOME: dir },
      timeout: 60_000,
    });
    // At the C body (column 13): the first C of the file, said once.
    expect(r.stderr).toBe(`${file}:4:13: C functions need gcc (apt-get install gcc)\n`);
    expect(r.status).toBe(2);
  }, 60_000);

  it('compiles once per content: a miss, then a hit; a changed header is a miss again', () => {
    const dir = mkdtempSync(join(tmpdir(), 'klpsim-cache-'));
    const inc = join(dir, 'include');
    mkdirSync(inc);
    cpSync(includeDir(), inc, { recursive: true });
    const old = process.env.XDG_CACHE_HOME;
    process.env.XDG_CACHE_HOME = join(dir, 'cache');
    try {
      const req: CompileRequest = {
        source: SRC,
        name: 't.c',
        flags: kernelCflags({ framePointer: false, modname: 't', module: true }),
        include: [inc],
      };
      const first = compileCached(req);
      const second = compileCached(req);
      expect([first.ok && first.from, second.ok && second.from]).toEqual(['gcc', 'cache']);
      expect(second.ok && first.ok && Buffer.from(second.object).equals(Buffer.from(first.object))).toBe(true);
      const delay = join(inc, 'linux', 'delay.h');
      writeFileSync(delay, readFileSync(delay, 'utf8') + '\n/* changed */\n');
      const third = compileCached(req);
      expect(third.ok && third.from).toBe('gcc');
      const other = compileCached({ ...req, flags: kernelCflags({ framePointer: true, modname: 't', module: true }) });
      expect(other.ok && other.from).toBe('gcc');
    } finally {
      if (old === undefined) delete process.env.XDG_CACHE_HOME;
      else process.env.XDG_CACHE_HOME = old;
    }
  });

  it('two processes compiling the same unit at once both get a complete object', () => {
    const dir = mkdtempSync(join(tmpdir(), 'klpsim-race-'));
    const script = join(dir, 'c.ts');
    writeFileSync(
      script,
      [
        `import { compileCached } from ${JSON.stringify(join(__dirname, '../../src/c/compile-cache'))};`,
        `import { kernelCflags } from ${JSON.stringify(join(__dirname, '../../src/c/kernel-cflags'))};`,
        `import { readElfObject } from ${JSON.stringify(join(__dirname, '../../src/c/elf/elf-reader'))};`,
        `const r = compileCached({ source: 'int race(void) { return 1; }', name: 'r.c', flags: kernelCflags({ framePointer: false, modname: 'r', module: true }), include: [] });`,
        `if (!r.ok) process.exit(3);`,
        `readElfObject(r.object, 'r.o');`,
        `process.stdout.write(r.from);`,
      ].join('\n'),
    );
    const env = { ...process.env, XDG_CACHE_HOME: join(dir, 'cache') };
    const run = () =>
      new Promise<string>((resolve, reject) => {
        const p = require('node:child_process').spawn(process.execPath, ['--import', 'tsx', script], { env });
        let out = '';
        p.stdout.on('data', (d: Buffer) => (out += d));
        p.on('exit', (code: number) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}`))));
      });
    return Promise.all([run(), run()]).then((froms) => {
      for (const f of froms) expect(['gcc', 'cache']).toContain(f);
    });
  }, 60_000);
});
