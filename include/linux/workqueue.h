/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Work items. klpsim runs a queued work item as a kernel worker thread of its own (a one-shot klpsim
 * task named after the function, on the queueing CPU), once its delay has passed: the thread calls
 * work->func(work) and ends. cancel_*_sync() and flush_*() wait for a running item as the kernel's do,
 * so a module's exit can wait for its work before its text goes away.
 */
#ifndef _LINUX_WORKQUEUE_H
#define _LINUX_WORKQUEUE_H

#include <linux/compiler.h>
#include <linux/container_of.h>
#include <linux/jiffies.h>
#include <linux/list.h>
#include <linux/types.h>

struct work_struct;
typedef void (*work_func_t)(struct work_struct *work);

struct work_struct {
	atomic_long_t data;
	struct list_head entry;
	work_func_t func;
};

struct timer_list {
	struct hlist_node entry;
	unsigned long expires;
	void (*function)(struct timer_list *);
	u32 flags;
};

struct workqueue_struct;

struct delayed_work {
	struct work_struct work;
	struct timer_list timer;
	struct workqueue_struct *wq;
	int cpu;
};

#define __WORK_INITIALIZER(n, f) { .data = { 0 }, .entry = { &(n).entry, &(n).entry }, .func = (f) }
#define __DELAYED_WORK_INITIALIZER(n, f, tflags) { .work = __WORK_INITIALIZER((n).work, (f)), .timer = { .flags = (tflags) } }

#define DECLARE_WORK(n, f) struct work_struct n = __WORK_INITIALIZER(n, f)
#define DECLARE_DELAYED_WORK(n, f) struct delayed_work n = __DELAYED_WORK_INITIALIZER(n, f, 0)

#define INIT_WORK(_work, _func)                       \
	do {                                          \
		(_work)->data.counter = 0;            \
		INIT_LIST_HEAD(&(_work)->entry);      \
		(_work)->func = (_func);              \
	} while (0)

#define INIT_DELAYED_WORK(_work, _func)               \
	do {                                          \
		INIT_WORK(&(_work)->work, (_func));   \
		(_work)->timer.entry.next = NULL;     \
		(_work)->timer.entry.pprev = NULL;    \
		(_work)->timer.expires = 0;           \
		(_work)->timer.function = NULL;       \
		(_work)->timer.flags = 0;             \
		(_work)->wq = NULL;                   \
		(_work)->cpu = 0;                     \
	} while (0)

static inline struct delayed_work *to_delayed_work(struct work_struct *work)
{
	return container_of(work, struct delayed_work, work);
}

/* False when the item was already pending (queued, not yet running), as the kernel's. */
bool schedule_work(struct work_struct *work);
bool schedule_delayed_work(struct delayed_work *dwork, unsigned long delay);
/* True when the item was pending and is now cancelled; waits for a running item to finish. */
bool cancel_work_sync(struct work_struct *work);
bool cancel_delayed_work_sync(struct delayed_work *dwork);
/* Runs a pending item's delay out and waits for it; false when nothing was pending or running. */
bool flush_work(struct work_struct *work);
bool flush_delayed_work(struct delayed_work *dwork);

#endif /* _LINUX_WORKQUEUE_H */
