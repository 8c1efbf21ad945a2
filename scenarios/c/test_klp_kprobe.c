// SPDX-License-Identifier: GPL-2.0
/*
 * klpsim's test_klp_kprobe: a kprobe on cmdline_proc_show(), registered at init and removed at exit.
 * With has_post_handler (the default) the probe has a post_handler that does nothing, which makes
 * kprobes arm it on an IPMODIFY ftrace ops; with has_post_handler=false it has no handler at all.
 * Written for klpsim from test-kprobe.sh's description of the upstream module.
 */
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/kprobes.h>

static bool has_post_handler = true;
module_param(has_post_handler, bool, 0444);
MODULE_PARM_DESC(has_post_handler, "give the kprobe a post_handler (default: true)");

/* Called after the probed instruction; the test only needs it to exist. */
static void __kprobes probe_post(struct kprobe *p, struct pt_regs *regs, unsigned long flags)
{
}

static struct kprobe probe = {
	.symbol_name = "cmdline_proc_show",
};

static int __init test_klp_kprobe_init(void)
{
	if (has_post_handler)
		probe.post_handler = probe_post;
	return register_kprobe(&probe);
}

static void __exit test_klp_kprobe_exit(void)
{
	unregister_kprobe(&probe);
}

module_init(test_klp_kprobe_init);
module_exit(test_klp_kprobe_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Livepatch test: a kprobe on a function a live patch replaces");
