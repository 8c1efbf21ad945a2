/**
 * The shadow-variable part of the stress workload (`--workload shadow`, implied by
 * `--inject shadow-free-no-rcu`): what a livepatch that adds a field to a live structure does.
 *
 * vmlinux gains stress_sv_churn, which in the unpatched kernel only spins: the "field" exists only for
 * patched code. Every livepatch (cumulative or not) carries its own version of it, which, on the object
 * stress_sv_obj, in rounds: attaches the calling task's shadow variable <stress_sv_obj, own id> with a
 * constructor that stores the id (so the record is published with its data, as shadow.c runs the ctor
 * before hash_add_rcu()), reads it back and checks the value, looks up a neighbour's variable
 * <stress_sv_obj, next id>, frees its own and checks it is gone. All ids hang off one object, hence one hash chain: every
 * lookup walks past the records the other CPUs are attaching and freeing right then, which is where a
 * record freed without a grace period (shadow-free-no-rcu) is met by a reader — shadow.ts reports the
 * poisoned node (or a chain linking to poison) as a use-after-free.
 *
 * One task per CPU (stress_sv/N, pinned to CPU N) calls it back to back, so the chain is walked in
 * parallel on worker threads. Its checks print `stress_sv: …` lines, as a kernel test module's
 * pr_err() would; the run's shadow check (shadow-check.ts) turns each into a violation.
 *
 * Nothing here draws from the workload's seeded generator: the default workload is unchanged, and with
 * this part on, the rest of the scenario is the same as without it.
 */

export const SHADOW_FUNC = 'stress_sv_churn';
/** What the workload's checks print, a prefix shadow-check.ts looks for. */
export const SHADOW_LOG_PREFIX = 'stress_sv: ';
/** Rounds of alloc/get/free per call: long enough to overlap other CPUs' rounds, short enough to be preempted often. */
const ROUNDS = 20;

/** Unpatched: no field, a spin of the same order as a patched round. */
const unpatched = (): string => ['mov ecx, 200', 'spin:', 'dec ecx', 'jnz spin', 'xor eax, eax', 'ret'].join('\n') + '\n';

/** A livepatch's version `version` (1…): edi = own id, esi = the neighbour's id. Returns the version. */
function patched(version: number): string {
  const obj = 'lea rdi, [rip + stress_sv_obj]';
  // rdx still holds the value read, for the "holds %lx" message.
  const report = (label: string, fmt: string, idReg: string): string[] => [
    `${label}:`,
    `mov rsi, ${idReg}`,
    `lea rdi, [rip + ${fmt}]`,
    'call printk',
    'jmp .Lout',
  ];
  return (
    [
      'push rbp',
      'mov rbp, rsp',
      'push rbx',
      'push r12',
      'push r13',
      'push r14',
      'mov r12, rdi',
      'mov r13, rsi',
      `mov ebx, ${ROUNDS}`,
      '.Lloop:',
      obj,
      'mov rsi, r12',
      'mov edx, 8',
      'xor ecx, ecx',
      'lea r8, [rip + stress_sv_ctor]',
      // ctor_data: the value to store, carried in the pointer itself.
      'mov r9, r12',
      'call klp_shadow_alloc',
      'test rax, rax',
      'jz .Lnull',
      obj,
      'mov rsi, r12',
      'call klp_shadow_get',
      'test rax, rax',
      'jz .Llost',
      'mov rdx, [rax]',
      'cmp rdx, r12',
      'jne .Lbadown',
      // Only whether the neighbour's variable is there: its data is the neighbour's to free, and a
      // caller may dereference what klp_shadow_get() returns only while it keeps the variable alive.
      obj,
      'mov rsi, r13',
      'call klp_shadow_get',
      obj,
      'mov rsi, r12',
      'xor edx, edx',
      'call klp_shadow_free',
      obj,
      'mov rsi, r12',
      'call klp_shadow_get',
      'test rax, rax',
      'jnz .Lstill',
      '.Lnext:',
      'dec ebx',
      'jnz .Lloop',
      `mov eax, ${version}`,
      '.Lret:',
      'pop r14',
      'pop r13',
      'pop r12',
      'pop rbx',
      'pop rbp',
      'ret',
      // NULL from klp_shadow_alloc(): a duplicate if the variable is there (shadow.c WARNs too), else
      // kzalloc() failed — records freed with kfree_rcu() wait for a grace period, and busy CPUs make
      // it long — which the caller must handle, as kernel code does: skip the round.
      '.Lnull:',
      obj,
      'mov rsi, r12',
      'call klp_shadow_get',
      'test rax, rax',
      'jz .Lnext',
      // The error paths print, detach the task's own variable (whatever is left of it) and leave: the
      // next call starts afresh instead of repeating the first failure on every round.
      ...report('.Lnoalloc', 'stress_sv_fmt_noalloc', 'r12'),
      ...report('.Llost', 'stress_sv_fmt_lost', 'r12'),
      ...report('.Lbadown', 'stress_sv_fmt_bad', 'r12'),
      ...report('.Lstill', 'stress_sv_fmt_still', 'r12'),
      '.Lout:',
      obj,
      'mov rsi, r12',
      'xor edx, edx',
      'call klp_shadow_free',
      'xor eax, eax',
      'jmp .Lret',
    ].join('\n') + '\n'
  );
}

/** vmlinux's part: the function, the object the variables hang off, the constructor and the messages. */
export function shadowKernelFunctions(): Record<string, string> {
  return {
    [SHADOW_FUNC]: unpatched(),
    // int ctor(void *obj, void *shadow_data, void *ctor_data): runs under klp_shadow_lock, before publishing.
    stress_sv_ctor: ['mov [rsi], rdx', 'xor eax, eax', 'ret'].join('\n') + '\n',
    stress_sv_obj: '.quad 0',
    stress_sv_fmt_noalloc: `.asciz "${SHADOW_LOG_PREFIX}klp_shadow_alloc(stress_sv_obj, %ld) failed: the variable was already attached\\n"`,
    stress_sv_fmt_lost: `.asciz "${SHADOW_LOG_PREFIX}shadow variable %ld lost: klp_shadow_get() found nothing after klp_shadow_alloc()\\n"`,
    stress_sv_fmt_bad: `.asciz "${SHADOW_LOG_PREFIX}shadow variable %ld holds %lx, not the value stored\\n"`,
    stress_sv_fmt_still: `.asciz "${SHADOW_LOG_PREFIX}shadow variable %ld still found after klp_shadow_free()\\n"`,
  };
}

/** A livepatch's part (patch number k, version k+1). */
export const shadowPatchFunctions = (k: number): Record<string, string> => ({ [SHADOW_FUNC]: patched(k + 1) });

/**
 * One task per CPU, pinned; ids 1…cpus, each looking up the next one's variable. User tasks: they are
 * inside stress_sv_churn nearly all the time, so a kthread (switched only by a clean stack check) would
 * hold every transition up; a user task switches on its way back to user space after each call.
 */
export function shadowTasks(cpus: number): Record<string, unknown>[] {
  return Array.from({ length: cpus }, (_, i) => ({
    name: `stress_sv/${i}`,
    cpu: i,
    run: [{ call: { func: SHADOW_FUNC, args: [i + 1, ((i + 1) % cpus) + 1] } }],
  }));
}
