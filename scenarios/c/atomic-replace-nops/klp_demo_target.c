// SPDX-License-Identifier: GPL-2.0
/*
 * An ordinary module whose function klp_patch_b also patches: after the replace, klp_patch_c needs a
 * dynamic klp_object for it, holding one NOP. Its kernel thread (started by the scenario's init
 * actions, which pass it a seq_file) calls demo_target_show() once a second.
 */
#include <linux/module.h>
#include <linux/delay.h>
#include <linux/seq_file.h>

/* Waits 10 ms for "the device", then reports. */
int demo_target_show(struct seq_file *m, void *v)
{
	msleep(10);
	seq_puts(m, "klp_demo_target: original\n");
	return 0;
}

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("klpsim flagship: a livepatch target module");
