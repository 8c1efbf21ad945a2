/**
 * The loader's side of ELF objects: sections placed with their permissions, globals and locals in
 * kallsyms (notrace functions without an ftrace site), SHN_COMMON, an undefined weak reference as NULL,
 * calls between C and assembly, and clear errors for relocations it does not link.
 */
import { Machine } from '../../src/coordinator/machine';
import { readElfObject } from '../../src/c/elf/elf-reader';
import type { ElfObject } from '../../src/c/elf/elf-types';
import { runGcc } from '../../src/c/gcc-driver';
import { kernelCflags } from '../../src/c/kernel-cflags';
import type { SimEvent } from '../../src/kernel/events';
import { LoadError } from '../../src/kernel/loader';
import { KsymKind } from '../../src/mem/kallsyms';
import { PERM_R, PERM_W, PERM_X } from '../../src/x86/cpu-types';
import { includeDir } from '../../src/scenario/c-units';
import { logs } from '../coordinator/helpers';
import { describeWithGcc } from './gcc-available';

function cc(source: string, extra: string[] = []): ElfObject {
  const r = runGcc({
    source,
    name: 'u.c',
    flags: [...kernelCflags({ framePointer: false, modname: 'vmlinux', module: false }), ...extra],
    include: [includeDir()],
  });
  if (!r.ok) throw new Error(JSON.stringify(r.diagnostics));
  return readElfObject(r.object, 'u.o');
}

const UNIT = `
#include <linux/printk.h>
int shared_counter;            /* SHN_COMMON with -fcommon */
extern int optional_hook(void) __attribute__((weak));
extern long asm_double(long);
static const char greeting[] = "from C";
noinline long c_triple(long x) { return 3 * x; }
notrace long c_untraced(long x) { return x - 1; }
long c_entry(long x)
{
	shared_counter++;
	pr_info("c_entry: %ld %s %d %d\\n", asm_double(c_triple(x)), greeting, optional_hook ? 1 : 0, shared_counter);
	return 0;
}
`;

describeWithGcc('loading ELF objects', () => {
  it('places sections, lists symbols, links C with assembly both ways, and a weak undefined is NULL', async () => {
    const elf = cc(UNIT, ['-fcommon']);
    expect(elf.symbols.find((s) => s.name === 'shared_counter')?.shndx).toBe(0xfff2);
    const m = await Machine.create({ cpus: 1, deterministic: true });
    const events: SimEvent[] = [];
    m.events$.subscribe((e) => events.push(e));
    try {
      const obj = m.loader.load(
        'vmlinux',
        [
          { name: 'asm_double', source: 'lea rax, [rdi + rdi]\nret' },
          { name: 'asm_main', source: 'push rbp\nmov rbp, rsp\nmov edi, 7\ncall c_entry\npop rbp\nret' },
        ],
        {},
        [{ elf }],
      );
      const perm = (addr: number): number => m.km.perms[addr >>> 12];
      const sec = (n: string) => obj.sections.find((s) => s.name === n) as { addr: number };
      expect(perm(sec('.text').addr) & (PERM_R | PERM_X | PERM_W)).toBe(PERM_R | PERM_X);
      expect(perm(sec('.rodata').addr) & (PERM_R | PERM_X | PERM_W)).toBe(PERM_R);
      const ks = (n: string) => m.kallsyms.lookupAll(n, 'vmlinux')[0];
      expect(ks('c_entry').kind).toBe(KsymKind.Func);
      expect(ks('c_triple').kind).toBe(KsymKind.Func);
      expect(ks('c_untraced').kind).toBe(KsymKind.FuncNotrace);
      expect(ks('shared_counter').kind).toBe(KsymKind.Data);
      expect(ks('greeting').kind).toBe(KsymKind.Data);
      expect(perm(ks('shared_counter').addr) & PERM_W).toBe(PERM_W);
      await m.spawn({
        name: 't',
        cpu: 0,
        run: [
          { kind: 'call', func: 'asm_main', args: [] },
          { kind: 'sleep', ms: 100000 },
        ],
      });
      await m.sleep(5);
      expect(logs(events)).toContain('c_entry: 42 from C 0 1');
    } finally {
      await m.dispose();
    }
  });

  const loadError = async (elf: ElfObject): Promise<string> => {
    const m = await Machine.create({ cpus: 1, deterministic: true });
    try {
      m.loader.load('vmlinux', [], {}, [{ elf }]);
      return 'loaded';
    } catch (e) {
      if (e instanceof LoadError) return e.diagnostics.map((d) => `${d.file}: ${d.message}`).join('\n');
      throw e;
    } finally {
      await m.dispose();
    }
  };

  it('refuses a relocation type it does not link, by name, and an unknown symbol', async () => {
    const elf = cc('extern int v; int get(void) { return v; }');
    const text = elf.sectionByName.get('.text') as { index: number };
    const rel = (elf.relocations.get(text.index) ?? []).find((r) => elf.symbols[r.symbol].name === 'v');
    expect(await loadError(elf)).toBe("u.o: unknown symbol 'v'");
    (rel as { type: number }).type = 9;
    expect(await loadError(elf)).toMatch(
      /^u\.o: unsupported relocation R_X86_64_GOTPCREL at \.text\+0x[0-9a-f]+ \(klpsim links R_X86_64_64, 32, 32S, PC32 and PLT32\)$/,
    );
  });

  it('reports a relocation whose value does not fit its field', async () => {
    const elf = cc('char buf[16]; char *at(void) { return buf; }');
    const text = elf.sectionByName.get('.text') as { index: number };
    const rel = (elf.relocations.get(text.index) ?? [])[0];
    expect(rel.type).toBe(10); // R_X86_64_32: `mov eax, offset buf`
    // An addend past 4 GiB: the zero-extended 32-bit field cannot hold the address.
    rel.addend = 2 ** 32;
    expect(await loadError(elf)).toMatch(
      /^u\.o: overflow in relocation R_X86_64_32 at \.text\+0x[0-9a-f]+ against '(buf|\.bss)': 0x1[0-9a-f]{8}$/,
    );
  });

  it('refuses two strong definitions of one global in one object', async () => {
    const m = await Machine.create({ cpus: 1, deterministic: true });
    try {
      expect(() => m.loader.load('vmlinux', [{ name: 'dup', source: 'ret' }], {}, [{ elf: cc('int dup(void) { return 1; }') }])).toThrow(
        /multiple definition of 'dup' in vmlinux/,
      );
    } finally {
      await m.dispose();
    }
  });
});
