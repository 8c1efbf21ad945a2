/* SPDX-License-Identifier: GPL-2.0 */
/*
 * klpsim's kernel headers: what a module needs of the kernel's compiler glue. Written for klpsim (the
 * machine every object runs on is klpsim's emulated x86-64, built by gcc with Kbuild's x86-64 flags).
 */
#ifndef _LINUX_COMPILER_H
#define _LINUX_COMPILER_H

#define __section(s) __attribute__((__section__(s)))
#define __used __attribute__((__used__))
#define __maybe_unused __attribute__((__unused__))
#define __always_unused __attribute__((__unused__))
#define __aligned(x) __attribute__((__aligned__(x)))
#define __packed __attribute__((__packed__))
#define __cold __attribute__((__cold__))
#define __noreturn __attribute__((__noreturn__))
#define __weak __attribute__((__weak__))
#define __printf(a, b) __attribute__((__format__(printf, a, b)))
#define __always_inline inline __attribute__((__always_inline__))
#define noinline __attribute__((__noinline__))
#define __must_check __attribute__((__warn_unused_result__))
#define __alias(symbol) __attribute__((__alias__(#symbol)))
#define __copy(symbol) __attribute__((__copy__(symbol)))

/*
 * The kernel's notrace: no ftrace site at the function's entry (gcc emits no __fentry__ call, so no
 * __mcount_loc entry and no 5-byte NOP), so such a function cannot be live patched.
 */
#define notrace __attribute__((__no_instrument_function__))

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define barrier() __asm__ __volatile__("" : : : "memory")

/* Concatenation that expands its arguments first (the kernel's ___PASTE / __PASTE). */
#define ___PASTE(a, b) a##b
#define __PASTE(a, b) ___PASTE(a, b)
/* A name unique in this translation unit, as the kernel's __UNIQUE_ID() makes for .modinfo entries. */
#define __UNIQUE_ID(prefix) __PASTE(__PASTE(__UNIQUE_ID_, prefix), __COUNTER__)

/*
 * One access of exactly the object's size that the compiler may neither tear, merge nor repeat: what
 * code shared between CPUs (each klpsim CPU is a thread on the same memory) relies on.
 */
#define READ_ONCE(x) (*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, val)                                \
	do {                                              \
		*(volatile __typeof__(x) *)&(x) = (val);  \
	} while (0)

#define BUILD_BUG_ON(cond) _Static_assert(!(cond), "BUILD_BUG_ON failed: " #cond)

#endif /* _LINUX_COMPILER_H */
