/**
 * The gcc flags klpsim compiles C with: Kbuild's for x86-64 (Makefile, arch/x86/Makefile,
 * scripts/Makefile.lib), except the code model. The kernel builds with -mcmodel=kernel because it runs in
 * the top 2 GiB of the address space; klpsim's text and data sit low (text at 0x100000, src/mem/layout.ts),
 * below 2 GiB, which is what the small model assumes: absolute addresses become R_X86_64_32 / 32S, calls
 * and rip-relative accesses R_X86_64_PLT32 / PC32 — all of which the loader links.
 */

/** Code generation as Kbuild has it: ftrace sites (-pg -mfentry: `0f 1f 44 00 00` at each entry), no FPU/SSE, no red zone. */
export const KBUILD_CFLAGS: readonly string[] = [
  '-std=gnu11',
  '-O2',
  '-pg',
  '-mfentry',
  '-mrecord-mcount',
  '-mnop-mcount',
  '-mno-red-zone',
  '-mno-sse',
  '-mno-mmx',
  '-mno-sse2',
  '-mno-3dnow',
  '-mno-avx',
  '-mno-80387',
  '-mno-fp-ret-in-387',
  '-mskip-rax-setup',
  '-mpreferred-stack-boundary=3',
  '-mcmodel=small',
  '-fno-asynchronous-unwind-tables',
  '-fcf-protection=none',
  '-fno-stack-protector',
  '-fno-pic',
  '-fno-pie',
  '-ffreestanding',
  '-fno-common',
  '-fno-strict-aliasing',
  '-fno-delete-null-pointer-checks',
  '-fno-strict-overflow',
  '-nostdinc',
  '-Werror=implicit-function-declaration',
  '-Werror=implicit-int',
  '-Werror=return-type',
  '-Werror=strict-prototypes',
  '-D__KERNEL__',
];

export interface CFlagsOptions {
  /** CONFIG_FRAME_POINTER (the frame-pointer unwinder) or not (ORC, whose tables come from the code). */
  framePointer: boolean;
  /** KBUILD_MODNAME: the module's name, or for vmlinux code the object file's base name. */
  modname: string;
  /** A module (-DMODULE, as Kbuild passes for obj-m), not code built into vmlinux. */
  module: boolean;
}

/** The flags that decide the object gcc writes (include paths aside: the headers' contents count instead). */
export function kernelCflags(o: CFlagsOptions): string[] {
  return [
    ...KBUILD_CFLAGS,
    // Kbuild: CONFIG_FRAME_POINTER adds both (a sibling call would drop the caller's frame). Without it,
    // a kernel with the function tracer passes nothing (gcc refuses -pg with -fomit-frame-pointer) and
    // -O2 omits frame pointers anyway, as ORC kernels are built.
    ...(o.framePointer ? ['-fno-omit-frame-pointer', '-fno-optimize-sibling-calls'] : []),
    ...(o.module ? ['-DMODULE'] : []),
    `-DKBUILD_MODNAME="${o.modname}"`,
    `-DKBUILD_BASENAME="${o.modname}"`,
  ];
}
