/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Completions (kernel/sched/completion.c). `done` lives here, as in the kernel; the waiters are queued by
 * klpsim's coordinator, which serves complete(), complete_all() and wait_for_completion() (so `wait` only
 * keeps the kernel's layout). A waiter sleeps uninterruptibly, inside wait_for_completion(), until a
 * complete() hands it one `done`.
 */
#ifndef _LINUX_COMPLETION_H
#define _LINUX_COMPLETION_H

#include <linux/compiler.h>
#include <linux/list.h>
#include <linux/types.h>

struct swait_queue_head {
	u32 lock;
	struct list_head task_list;
};

struct completion {
	unsigned int done;
	struct swait_queue_head wait;
};

#define COMPLETION_INITIALIZER(work) { 0, { 0, LIST_HEAD_INIT((work).wait.task_list) } }
#define DECLARE_COMPLETION(work) struct completion work = COMPLETION_INITIALIZER(work)

static inline void init_completion(struct completion *x)
{
	x->done = 0;
	INIT_LIST_HEAD(&x->wait.task_list);
}

static inline void reinit_completion(struct completion *x)
{
	x->done = 0;
}

/* Whether a complete() is there for a waiter to take (without taking it). */
static inline bool completion_done(struct completion *x)
{
	return READ_ONCE(x->done) != 0;
}

void wait_for_completion(struct completion *x);
void complete(struct completion *x);
void complete_all(struct completion *x);

#endif /* _LINUX_COMPLETION_H */
