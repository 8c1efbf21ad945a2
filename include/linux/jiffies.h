/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _LINUX_JIFFIES_H
#define _LINUX_JIFFIES_H

#include <linux/types.h>

/* klpsim's tick is 1 ms (CONFIG_HZ_1000), so a jiffy is a millisecond. */
#define HZ 1000
#define MAX_JIFFY_OFFSET ((long)(~0UL >> 1) - 1)

static inline unsigned long msecs_to_jiffies(const unsigned int m)
{
	return m;
}

static inline unsigned int jiffies_to_msecs(const unsigned long j)
{
	return (unsigned int)j;
}

#endif /* _LINUX_JIFFIES_H */
