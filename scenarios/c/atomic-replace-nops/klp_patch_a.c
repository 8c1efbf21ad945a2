// SPDX-License-Identifier: GPL-2.0
/* The flagship's first patch: new cmdline_proc_show() and meminfo_proc_show(). */
#include <linux/module.h>
#include <linux/livepatch.h>
#include <linux/seq_file.h>

static int livepatch_cmdline_proc_show(struct seq_file *m, void *v)
{
	seq_puts(m, "klp_patch_a: cmdline\n");
	return 0;
}

static int livepatch_meminfo_proc_show(struct seq_file *m, void *v)
{
	seq_puts(m, "klp_patch_a: meminfo\n");
	return 0;
}

static struct klp_func funcs[] = {
	{ .old_name = "cmdline_proc_show", .new_func = livepatch_cmdline_proc_show },
	{ .old_name = "meminfo_proc_show", .new_func = livepatch_meminfo_proc_show },
	{}
};

static struct klp_object objs[] = {
	{ /* vmlinux */ .funcs = funcs },
	{}
};

static struct klp_patch patch = {
	.mod = THIS_MODULE,
	.objs = objs,
	.replace = false,
};

static int klp_patch_a_init(void)
{
	return klp_enable_patch(&patch);
}

static void klp_patch_a_exit(void)
{
}

module_init(klp_patch_a_init);
module_exit(klp_patch_a_exit);
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
