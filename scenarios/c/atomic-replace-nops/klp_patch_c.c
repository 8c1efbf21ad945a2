// SPDX-License-Identifier: GPL-2.0
/*
 * The cumulative patch: it keeps only meminfo_proc_show() changed. cmdline_proc_show() and
 * version_proc_show() get NOPs in its vmlinux object; demo_target_show() a NOP in a dynamic object.
 */
#include <linux/module.h>
#include <linux/livepatch.h>
#include <linux/seq_file.h>

static int livepatch_meminfo_proc_show(struct seq_file *m, void *v)
{
	seq_puts(m, "klp_patch_c: meminfo\n");
	return 0;
}

static struct klp_func funcs[] = {
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
	.replace = true,
};

static int klp_patch_c_init(void)
{
	return klp_enable_patch(&patch);
}

static void klp_patch_c_exit(void)
{
}

module_init(klp_patch_c_init);
module_exit(klp_patch_c_exit);
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
