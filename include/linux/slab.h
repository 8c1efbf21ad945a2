/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kmalloc() and friends, served by klpsim's kernel from the machine's data memory. Freed memory is
 * poisoned (0x6b, POISON_FREE), so a use after kfree() reads poison, as with slub_debug.
 */
#ifndef _LINUX_SLAB_H
#define _LINUX_SLAB_H

#include <linux/compiler.h>
#include <linux/gfp.h>
#include <linux/types.h>

void *kmalloc(size_t size, gfp_t flags) __attribute__((__malloc__, __alloc_size__(1)));
void kfree(const void *objp);

static inline void *kzalloc(size_t size, gfp_t flags)
{
	return kmalloc(size, flags | __GFP_ZERO);
}

static inline void *kmalloc_array(size_t n, size_t size, gfp_t flags)
{
	size_t bytes;

	if (__builtin_mul_overflow(n, size, &bytes))
		return NULL;
	return kmalloc(bytes, flags);
}

static inline void *kcalloc(size_t n, size_t size, gfp_t flags)
{
	return kmalloc_array(n, size, flags | __GFP_ZERO);
}

#endif /* _LINUX_SLAB_H */
