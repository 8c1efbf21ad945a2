/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel probes, as klpsim has them: on a function's entry only, where the probe goes through ftrace
 * (CONFIG_KPROBES_ON_FTRACE: arm_kprobe_ftrace()). struct kprobe has the kernel's public fields in the
 * kernel's order, so a module reads and writes them where the kernel's would; register_kprobe() and
 * unregister_kprobe() are served by the coordinator, which holds kprobe_mutex and the ftrace ops.
 * A probe with a post_handler is armed on an IPMODIFY ftrace ops (5.4+), so it cannot share its function
 * with a live patch. klpsim builds no pt_regs: the handlers are called with regs NULL.
 */
#ifndef _LINUX_KPROBES_H
#define _LINUX_KPROBES_H

#include <linux/compiler.h>
#include <linux/list.h>
#include <linux/types.h>

struct kprobe;
struct pt_regs;

typedef int (*kprobe_pre_handler_t) (struct kprobe *, struct pt_regs *);
typedef void (*kprobe_post_handler_t) (struct kprobe *, struct pt_regs *, unsigned long flags);

typedef u8 kprobe_opcode_t;

struct kprobe {
	struct hlist_node hlist;
	struct list_head list;
	unsigned long nmissed;
	/* the probed address: set by register_kprobe() when symbol_name names it */
	kprobe_opcode_t *addr;
	const char *symbol_name;
	unsigned int offset;
	kprobe_pre_handler_t pre_handler;
	kprobe_post_handler_t post_handler;
	kprobe_opcode_t opcode;
	u32 flags;
};

/*
 * The kernel puts these in .kprobes.text, which kprobes refuse to probe; klpsim probes only ftrace sites
 * and has no such blacklist, so the handlers stay in .text.
 */
#define __kprobes

int register_kprobe(struct kprobe *p);
void unregister_kprobe(struct kprobe *p);

#endif /* _LINUX_KPROBES_H */
