/**
 * `klpsim demo`: the machine on its own, before any livepatch: a small kernel of nested functions, a few
 * kernel threads calling them (with printk and msleep), and the coordinator turning the ftrace site of one
 * function on and off with text_poke_bp while the CPUs run — every step on the event stream.
 */
import { Machine } from '../coordinator/machine';
import { FTRACE_SITE_NOP, ftraceSiteCall } from '../x86/ftrace-site';
import { FTRACE_CALLER } from '../kernel/services';
import type { SimEvent } from '../kernel/events';

export const DEMO_KERNEL: Record<string, string> = {
  sum_to: `
    push rbp
    mov rbp, rsp
    xor eax, eax
  again:
    add rax, rdi
    dec rdi
    jnz again
    pop rbp
    ret`,
  do_work: `
    push rbp
    mov rbp, rsp
    push rbx
    mov rbx, rdi
    mov edi, 50
    call sum_to
    mov rdi, rbx
    pop rbx
    pop rbp
    ret`,
  report: `
    push rbp
    mov rbp, rsp
    call current_pid
    mov rsi, rax
    mov edi, 50
    push rsi
    call sum_to
    pop rsi
    mov rdx, rax
    lea rdi, [rip + report_fmt]
    call printk
    mov edi, 3
    call msleep
    pop rbp
    ret`,
  report_fmt: '.asciz "demo: pid %d computed %ld\\n"',
};

export interface DemoOptions {
  cpus: number;
  deterministic: boolean;
  seed: number;
  pokes: number;
  onEvent(ev: SimEvent): void;
}

export async function runDemo(opts: DemoOptions): Promise<{ violations: number; events: number }> {
  const m = await Machine.create({ cpus: opts.cpus, deterministic: opts.deterministic, seed: opts.seed });
  let events = 0;
  const sub = m.events$.subscribe((ev) => {
    events++;
    opts.onEvent(ev);
  });
  try {
    m.loader.load(
      'vmlinux',
      Object.entries(DEMO_KERNEL).map(([name, source]) => ({ name, source })),
    );
    for (let i = 0; i < opts.cpus * 2; i++) {
      await m.spawn({
        name: `worker/${i}`,
        run: [
          { kind: 'call', func: 'do_work', args: [] },
          { kind: 'sleep', ms: 1 },
        ],
      });
    }
    await m.spawn({
      name: 'reporter',
      run: [
        { kind: 'call', func: 'report', args: [] },
        { kind: 'sleep', ms: 5 },
      ],
    });
    m.log('demo: machine up, tasks running');
    const site = (m.kallsyms.lookup('sum_to') as { addr: number }).addr;
    const call = ftraceSiteCall(site, FTRACE_CALLER);
    for (let i = 0; i < opts.pokes; i++) {
      await m.sleep(2);
      await m.textPoke(site, i % 2 === 0 ? call : FTRACE_SITE_NOP);
    }
    await m.sleep(10);
    m.log(`demo: done, ${m.violations()} violations`);
    return { violations: m.violations(), events };
  } finally {
    await m.dispose();
    sub.unsubscribe();
  }
}
