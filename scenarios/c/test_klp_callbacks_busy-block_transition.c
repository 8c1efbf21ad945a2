// SPDX-License-Identifier: GPL-2.0
/*
 * klpsim's version of test_klp_callbacks_busy.c as newer test-callbacks.sh loads it (block_transition=Y|N
 * instead of 5.1's sleep_secs=): init queues a work item and waits on a completion until the work
 * function has printed its first line, so the log's order does not depend on the scheduler. With
 * block_transition set the work function keeps polling it in a msleep(20) loop, inside
 * busymod_work_func() — the function test_klp_callbacks_demo replaces — so a patching transition stalls
 * on the kworker until the module's exit clears the flag and waits for the work.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/sched.h>
#include <linux/workqueue.h>
#include <linux/completion.h>
#include <linux/delay.h>

static bool block_transition;
module_param(block_transition, bool, 0644);
MODULE_PARM_DESC(block_transition, "block_transition (default=false)");

static void busymod_work_func(struct work_struct *work);
static DECLARE_WORK(work, busymod_work_func);
static DECLARE_COMPLETION(busymod_work_started);

static void busymod_work_func(struct work_struct *work)
{
	pr_info("%s enter\n", __func__);
	complete(&busymod_work_started);

	/* Poll, so that the module's exit can end the loop by clearing the flag. */
	while (READ_ONCE(block_transition))
		msleep(20);

	pr_info("%s exit\n", __func__);
}

static int test_klp_callbacks_busy_init(void)
{
	pr_info("%s\n", __func__);
	schedule_work(&work);

	/* The work function's first line comes before init returns. */
	wait_for_completion(&busymod_work_started);

	/* Not blocking: its last line too, so the whole run of the work is logged before modprobe ends. */
	if (!block_transition)
		flush_work(&work);

	return 0;
}

static void test_klp_callbacks_busy_exit(void)
{
	WRITE_ONCE(block_transition, false);
	flush_work(&work);
	pr_info("%s\n", __func__);
}

module_init(test_klp_callbacks_busy_init);
module_exit(test_klp_callbacks_busy_exit);
MODULE_LICENSE("GPL");
MODULE_AUTHOR("klpsim");
MODULE_DESCRIPTION("Livepatch test: busy target module");
