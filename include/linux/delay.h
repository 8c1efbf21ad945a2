/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Sleeping delays (klpsim kernel services): msleep() sleeps uninterruptibly; msleep_interruptible()
 * returns early, with the milliseconds left, when a signal (livepatch's fake signal) wakes the task.
 */
#ifndef _LINUX_DELAY_H
#define _LINUX_DELAY_H

#include <linux/types.h>

void msleep(unsigned int msecs);
unsigned long msleep_interruptible(unsigned int msecs);

static inline void ssleep(unsigned int seconds)
{
	msleep(seconds * 1000);
}

#endif /* _LINUX_DELAY_H */
