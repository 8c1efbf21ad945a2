/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel threads, as klpsim tasks of kind kthread: they never return to user space, so only a clean
 * stack check (or force, or cond_resched() since 6.4) switches their patch state.
 */
#ifndef _LINUX_KTHREAD_H
#define _LINUX_KTHREAD_H

#include <linux/compiler.h>
#include <linux/err.h>
#include <linux/sched.h>
#include <linux/types.h>

#define NUMA_NO_NODE (-1)

__printf(4, 5) struct task_struct *kthread_create_on_node(int (*threadfn)(void *data), void *data, int node,
							   const char namefmt[], ...);

#define kthread_create(threadfn, data, namefmt, arg...) \
	kthread_create_on_node(threadfn, data, NUMA_NO_NODE, namefmt, ##arg)

/* Creates the thread and wakes it: the new task pointer, or an ERR_PTR. */
#define kthread_run(threadfn, data, namefmt, ...)                                         \
	({                                                                                \
		struct task_struct *__k = kthread_create(threadfn, data, namefmt, ##__VA_ARGS__); \
		if (!IS_ERR(__k))                                                         \
			wake_up_process(__k);                                             \
		__k;                                                                      \
	})

bool kthread_should_stop(void);
/* Asks the thread to stop, wakes it and waits for threadfn to return; its return value. */
int kthread_stop(struct task_struct *k);

#endif /* _LINUX_KTHREAD_H */
