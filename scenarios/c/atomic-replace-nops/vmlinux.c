// SPDX-License-Identifier: GPL-2.0
/* The flagship's kernel: three /proc show functions, as fs/proc/{cmdline,meminfo,version}.c have them. */
#include <linux/kernel.h>
#include <linux/seq_file.h>

int cmdline_proc_show(struct seq_file *m, void *v)
{
	seq_puts(m, "BOOT_IMAGE=/boot/vmlinuz root=/dev/vda1 ro quiet\n");
	return 0;
}

int meminfo_proc_show(struct seq_file *m, void *v)
{
	seq_printf(m, "MemTotal:       %lu kB\n", 24576000UL);
	return 0;
}

int version_proc_show(struct seq_file *m, void *v)
{
	seq_puts(m, "Linux version 6.12.0-klpsim\n");
	return 0;
}
