/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _LINUX_KERNEL_H
#define _LINUX_KERNEL_H

#include <linux/compiler.h>
#include <linux/container_of.h>
#include <linux/stddef.h>
#include <linux/stringify.h>
#include <linux/types.h>
#include <linux/printk.h>

#define ARRAY_SIZE(arr) (sizeof(arr) / sizeof((arr)[0]))

#define min(x, y)                               \
	({                                      \
		__typeof__(x) __min_x = (x);    \
		__typeof__(y) __min_y = (y);    \
		__min_x < __min_y ? __min_x : __min_y; \
	})
#define max(x, y)                               \
	({                                      \
		__typeof__(x) __max_x = (x);    \
		__typeof__(y) __max_y = (y);    \
		__max_x > __max_y ? __max_x : __max_y; \
	})

#define DIV_ROUND_UP(n, d) (((n) + (d) - 1) / (d))

#define INT_MAX ((int)(~0U >> 1))
#define INT_MIN (-INT_MAX - 1)
#define UINT_MAX (~0U)
#define LONG_MAX ((long)(~0UL >> 1))
#define LONG_MIN (-LONG_MAX - 1)
#define ULONG_MAX (~0UL)

#endif /* _LINUX_KERNEL_H */
