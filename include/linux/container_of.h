/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _LINUX_CONTAINER_OF_H
#define _LINUX_CONTAINER_OF_H

#include <linux/stddef.h>

/* The structure `type` whose `member` is at `ptr` (a statement expression, so `ptr` is evaluated once). */
#define container_of(ptr, type, member)                             \
	({                                                          \
		void *__mptr = (void *)(ptr);                       \
		((type *)((char *)__mptr - offsetof(type, member))); \
	})

#endif /* _LINUX_CONTAINER_OF_H */
