/* SPDX-License-Identifier: GPL-2.0 */
/*
 * seq_file output, as a /proc show function writes it: klpsim's `cat /proc/NAME` calls the function with
 * a seq_file of the reading task. The structure is the kernel's business, so it is opaque here.
 */
#ifndef _LINUX_SEQ_FILE_H
#define _LINUX_SEQ_FILE_H

#include <linux/compiler.h>
#include <linux/types.h>

struct seq_file;

void seq_puts(struct seq_file *m, const char *s);
__printf(2, 3) void seq_printf(struct seq_file *m, const char *fmt, ...);

#endif /* _LINUX_SEQ_FILE_H */
