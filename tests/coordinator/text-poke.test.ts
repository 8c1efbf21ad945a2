import { CALL_REL32_OPCODE, FTRACE_SITE_NOP } from '../../src/x86/ftrace-site';
import { FTRACE_CALLER } from '../../src/kernel/services';
import type { Machine } from '../../src/coordinator/machine';
import { withMachine } from './helpers';

const KERNEL: Record<string, string> = {
  target: `
    push rbp
    mov rbp, rsp
    lea rax, [rdi + 1]
    pop rbp
    ret`,
  hammer: `
    push rbp
    mov rbp, rsp
    push rbx
    mov ebx, 200
  again:
    mov edi, ebx
    call target
    dec ebx
    jnz again
    pop rbx
    pop rbp
    ret`,
};

function callBytes(site: number): number[] {
  const rel = FTRACE_CALLER - (site + 5);
  return [CALL_REL32_OPCODE, rel & 0xff, (rel >> 8) & 0xff, (rel >> 16) & 0xff, (rel >>> 24) & 0xff];
}

async function hammerWhilePoking(m: Machine, pokes: number, protocol: boolean): Promise<void> {
  for (let cpu = 0; cpu < m.cpus; cpu++) await m.spawn({ name: `hammer/${cpu}`, cpu, run: [{ kind: 'call', func: 'hammer', args: [] }] });
  const site = (m.kallsyms.lookup('target') as { addr: number }).addr;
  const call = callBytes(site);
  for (let i = 0; i < pokes; i++) {
    await m.textPoke(site, i % 2 === 0 ? call : FTRACE_SITE_NOP, protocol);
    if (!protocol) await m.sleep(0.05);
  }
  await m.sleep(1);
}

describe('text_poke_bp on a live ftrace site', () => {
  it('4 CPUs call the function in a loop while its site is patched 1000 times: no torn fetch, no fault', async () => {
    await withMachine({ cpus: 4 }, KERNEL, async (m, events) => {
      await hammerWhilePoking(m, 1000, true);
      const pokes = events.filter((e) => e.type === 'text.poke');
      expect(pokes.length).toBe(3000);
      expect(events.filter((e) => e.type === 'violation' || e.type === 'fault')).toEqual([]);
      expect(m.violations()).toBe(0);
      const calls = m.pcpus.map((p) => p.get(2 /* SyncReq */));
      expect(calls.every((n) => n >= 3000)).toBe(true);
    });
  }, 120_000);

  it('without the int3 protocol, the stale or torn fetch is detected', async () => {
    await withMachine({ cpus: 4 }, KERNEL, async (m, events) => {
      await hammerWhilePoking(m, 200, false);
      const v = events.filter((e) => e.type === 'violation');
      expect(v.length).toBeGreaterThan(0);
      expect(v.every((e) => ['stale-fetch', 'torn-fetch'].includes((e as { check: string }).check))).toBe(true);
    });
  }, 120_000);

  it('an int3 outside code patching is a #BP oops', async () => {
    await withMachine({ cpus: 1, deterministic: true }, { bp: 'int3' }, async (m, events) => {
      await m.spawn({ name: 'bp', run: [{ kind: 'call', func: 'bp', args: [] }] });
      await m.sleep(1);
      expect(events.some((e) => e.type === 'fault' && (e as { vector: string }).vector === '#BP')).toBe(true);
    });
  });
});
