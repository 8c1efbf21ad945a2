// SPDX-License-Identifier: GPL-2.0
/* The flagship's second patch: a new version_proc_show(), and a fix in module klp_demo_target. */
#include <linux/module.h>
#include <linux/delay.h>
#include <linux/livepatch.h>
#include <linux/seq_file.h>

static int livepatch_version_proc_show(struct seq_file *m, void *v)
{
	seq_puts(m, "klp_patch_b: version\n");
	return 0;
}

/*
 * The fixed version waits much longer: demo_worker is nearly always asleep inside it, so klp_patch_c's
 * transition must wait for it to leave ("is sleeping on function").
 */
static int livepatch_demo_target_show(struct seq_file *m, void *v)
{
	msleep(1500);
	seq_puts(m, "klp_patch_b: demo target\n");
	return 0;
}

static struct klp_func vmlinux_funcs[] = {
	{ .old_name = "version_proc_show", .new_func = livepatch_version_proc_show },
	{}
};

static struct klp_func target_funcs[] = {
	{ .old_name = "demo_target_show", .new_func = livepatch_demo_target_show },
	{}
};

static struct klp_object objs[] = {
	{ /* vmlinux */ .funcs = vmlinux_funcs },
	{ .name = "klp_demo_target", .funcs = target_funcs },
	{}
};

static struct klp_patch patch = {
	.mod = THIS_MODULE,
	.objs = objs,
	.replace = false,
};

static int klp_patch_b_init(void)
{
	return klp_enable_patch(&patch);
}

static void klp_patch_b_exit(void)
{
}

module_init(klp_patch_b_init);
module_exit(klp_patch_b_exit);
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
