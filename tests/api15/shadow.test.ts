/**
 * Shadow variables (src/livepatch/shadow.ts) from emulated code, beyond the selftest: the kernel's
 * messages for a duplicate klp_shadow_alloc() and a failing constructor, the size limit of a record,
 * get_or_alloc() returning the existing variable without running its constructor, a constructor that
 * sleeps (under klp_shadow_lock: "scheduling while atomic"), the events, and 4 CPUs allocating and
 * freeing variables of one object (one hash chain) concurrently on worker threads without a lost,
 * duplicated or freed-while-read variable.
 */
import { mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { Simulation } from '../../src/scenario/simulation';
import { runScenario } from '../scenarios/helpers';

function file(text: string): string {
  const f = join(mkdtempSync(join(tmpdir(), 'klpsim-shadow-')), 's.yaml');
  writeFileSync(f, text);
  return f;
}

const CALLS = `
name: shadow API edges
cpus: 1
modules:
  m:
    functions:
      fail_ctor: |
        mov eax, -12
        ret
      sleepy_ctor: |
        mov edi, 1
        call msleep
        xor eax, eax
        ret
      count_ctor: |
        mov rax, [rip + ctor_runs]
        inc rax
        mov [rip + ctor_runs], rax
        xor eax, eax
        ret
      run: |
        push rbx
        push r12
        mov edi, 4096
        mov esi, 1
        mov edx, 8
        xor ecx, ecx
        lea r8, [rip + count_ctor]
        xor r9d, r9d
        call klp_shadow_alloc
        mov rbx, rax
        mov edi, 4096
        mov esi, 1
        mov edx, 8
        xor ecx, ecx
        xor r8d, r8d
        xor r9d, r9d
        call klp_shadow_alloc
        mov rsi, rax
        lea rdi, [rip + fmt_dup]
        call printk
        mov edi, 4096
        mov esi, 2
        mov edx, 8
        xor ecx, ecx
        lea r8, [rip + fail_ctor]
        xor r9d, r9d
        call klp_shadow_alloc
        mov rsi, rax
        lea rdi, [rip + fmt_ctor]
        call printk
        mov edi, 4096
        mov esi, 3
        mov edx, 300
        xor ecx, ecx
        xor r8d, r8d
        xor r9d, r9d
        call klp_shadow_alloc
        mov rsi, rax
        lea rdi, [rip + fmt_big]
        call printk
        mov edi, 4096
        mov esi, 1
        mov edx, 8
        xor ecx, ecx
        lea r8, [rip + count_ctor]
        xor r9d, r9d
        call klp_shadow_get_or_alloc
        xor esi, esi
        cmp rax, rbx
        sete sil
        mov rdx, [rip + ctor_runs]
        lea rdi, [rip + fmt_same]
        call printk
        mov edi, 4096
        mov esi, 4
        mov edx, 8
        xor ecx, ecx
        lea r8, [rip + sleepy_ctor]
        xor r9d, r9d
        call klp_shadow_alloc
        mov edi, 1
        xor esi, esi
        call klp_shadow_free_all
        pop r12
        pop rbx
        ret
      ctor_runs: '.quad 0'
      fmt_dup: '.asciz "m: duplicate -> %lx\\n"'
      fmt_ctor: '.asciz "m: failing ctor -> %lx\\n"'
      fmt_big: '.asciz "m: 300 bytes -> %lx\\n"'
      fmt_same: '.asciz "m: get_or_alloc same=%d ctor_runs=%ld\\n"'
    init: [ { call: run } ]
steps:
  - sh: modprobe m
`;

describe('shadow variables', () => {
  it('prints the kernel messages, refuses what the kernel refuses, and runs a constructor only for a new variable', async () => {
    const sim = await Simulation.fromFile(file(CALLS), { deterministic: true });
    const log: string[] = [];
    const events: string[] = [];
    sim.events$.subscribe((e) => {
      if (e.type === 'log') log.push(String(e.text));
      if (e.type === 'shadow.alloc' || e.type === 'shadow.free') events.push(`${e.type} ${String(e.obj)} ${String(e.id)}`);
    });
    const r = await sim.run();
    const i = log.indexOf('------------[ cut here ]------------');
    expect(log.slice(i, i + 3)).toEqual([
      '------------[ cut here ]------------',
      'Duplicate shadow variable <0000000000001000, 1>',
      'm: duplicate -> 0',
    ]);
    expect(log).toContain('livepatch: Failed to construct shadow variable <0000000000001000, 2> (-12)');
    expect(log).toContain('m: failing ctor -> 0');
    expect(log).toContain('m: 300 bytes -> 0');
    expect(log).toContain('m: get_or_alloc same=1 ctor_runs=1');
    // msleep() in a constructor, which runs under klp_shadow_lock with interrupts off.
    expect(log.some((l) => /^BUG: scheduling while atomic: m\/\d+\/0x00000002$/.test(l))).toBe(true);
    expect(r.violations).toBe(1);
    expect(events).toEqual(['shadow.alloc 0x1000 0x1', 'shadow.alloc 0x1000 0x4', 'shadow.free 0x1000 0x1']);
  });

  it('4 CPUs attach, check and free their own variables of one object at once, on worker threads', async () => {
    // Task i uses <shared, i>: every variable is in the same hash chain, so each lookup walks past the
    // others' records while they are allocated and freed. A lookup that does not find its own variable,
    // or finds other data in it, ends in ud2 (a fault, counted as a violation).
    const worker = (i: number): string => `
      - name: t${i}
        cpu: ${i}
        kind: kthread
        run: [ { call: { func: churn, args: [${i + 1}] } }, { sleep_ms: 0 } ]`;
    const text = `
name: shadow churn
cpus: 4
kernel:
  functions:
    churn: |
      push rbx
      push r12
      mov r12, rdi
      mov ebx, 100
      .Lloop:
      lea rdi, [rip + shared]
      mov rsi, r12
      mov edx, 8
      xor ecx, ecx
      xor r8d, r8d
      xor r9d, r9d
      call klp_shadow_alloc
      test rax, rax
      je .Lbad
      mov [rax], r12
      lea rdi, [rip + shared]
      mov rsi, r12
      call klp_shadow_get
      test rax, rax
      je .Lbad
      mov rdx, [rax]
      cmp rdx, r12
      jne .Lbad
      lea rdi, [rip + shared]
      mov rsi, r12
      xor edx, edx
      call klp_shadow_free
      lea rdi, [rip + shared]
      mov rsi, r12
      call klp_shadow_get
      test rax, rax
      jne .Lbad
      dec ebx
      jne .Lloop
      pop r12
      pop rbx
      ret
      .Lbad:
      ud2
    shared: '.quad 0'
tasks:${[0, 1, 2, 3].map(worker).join('')}
steps:
  - sleep_ms: 10
`;
    const r = await runScenario(file(text), { deterministic: false });
    expect(r.result.violations).toBe(0);
    expect(r.result.exitCode).toBe(0);
  }, 60_000);
});
