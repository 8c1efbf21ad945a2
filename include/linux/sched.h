/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The current task and the scheduler calls. `current` is get_current(), a klpsim kernel service returning
 * the running task's task_struct (the kernel reads it from a per-CPU variable; klpsim's CPUs have no %gs
 * base). Modules may read a task's pid and comm; the rest of the structure is klpsim's scheduler state,
 * mapped read-only to modules.
 */
#ifndef _LINUX_SCHED_H
#define _LINUX_SCHED_H

#include <linux/compiler.h>
#include <linux/types.h>

/* klpsim keeps up to 63 characters of a task's name (the kernel 15): thread names are not cut. */
#define TASK_COMM_LEN 64

#define MAX_SCHEDULE_TIMEOUT ((long)(~0UL >> 1))

struct task_struct {
	pid_t pid;
	/* klpsim's own words (src/mem/task-struct.ts): lock, state, saved frame, patch_state, ... */
	int __klpsim_sched[31];
	char comm[TASK_COMM_LEN];
};

struct task_struct *get_current(void);
#define current get_current()

void schedule(void);
/* Sleeps `timeout` jiffies in TASK_INTERRUPTIBLE; returns the jiffies left when a signal woke it. */
long schedule_timeout_interruptible(long timeout);
/* A voluntary preemption point (also where a kthread may switch its patch state, since 6.4). */
int cond_resched(void);
int wake_up_process(struct task_struct *p);

static inline pid_t task_pid_nr(struct task_struct *tsk)
{
	return tsk->pid;
}

#endif /* _LINUX_SCHED_H */
