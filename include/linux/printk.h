/* SPDX-License-Identifier: GPL-2.0 */
/*
 * printk and the pr_*() wrappers. printk() is a klpsim kernel service: it formats %s %d %i %u %x %ld %lu
 * %lx %p %c %% (with widths and flags, as lib/vsprintf.c), drops the KERN_<LEVEL> prefix and logs one line
 * per trailing newline.
 */
#ifndef _LINUX_PRINTK_H
#define _LINUX_PRINTK_H

#include <linux/compiler.h>
#include <linux/types.h>

#define KERN_SOH "\001"
#define KERN_SOH_ASCII '\001'

#define KERN_EMERG KERN_SOH "0"
#define KERN_ALERT KERN_SOH "1"
#define KERN_CRIT KERN_SOH "2"
#define KERN_ERR KERN_SOH "3"
#define KERN_WARNING KERN_SOH "4"
#define KERN_NOTICE KERN_SOH "5"
#define KERN_INFO KERN_SOH "6"
#define KERN_DEBUG KERN_SOH "7"
#define KERN_DEFAULT ""
#define KERN_CONT KERN_SOH "c"

__printf(1, 2) __cold int printk(const char *fmt, ...);

/*
 * A module defines pr_fmt before its first #include to prefix every pr_*() line, as the selftest modules
 * do with `#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt` (klpsim passes -DKBUILD_MODNAME as Kbuild does).
 */
#ifndef pr_fmt
#define pr_fmt(fmt) fmt
#endif

/* Checks the format against its arguments and prints nothing: a disabled pr_debug() still type-checks. */
#define no_printk(fmt, ...)                          \
	({                                           \
		if (0)                               \
			printk(fmt, ##__VA_ARGS__);  \
		0;                                   \
	})

#define pr_emerg(fmt, ...) printk(KERN_EMERG pr_fmt(fmt), ##__VA_ARGS__)
#define pr_alert(fmt, ...) printk(KERN_ALERT pr_fmt(fmt), ##__VA_ARGS__)
#define pr_crit(fmt, ...) printk(KERN_CRIT pr_fmt(fmt), ##__VA_ARGS__)
#define pr_err(fmt, ...) printk(KERN_ERR pr_fmt(fmt), ##__VA_ARGS__)
#define pr_warn(fmt, ...) printk(KERN_WARNING pr_fmt(fmt), ##__VA_ARGS__)
#define pr_notice(fmt, ...) printk(KERN_NOTICE pr_fmt(fmt), ##__VA_ARGS__)
#define pr_info(fmt, ...) printk(KERN_INFO pr_fmt(fmt), ##__VA_ARGS__)
#define pr_cont(fmt, ...) printk(KERN_CONT fmt, ##__VA_ARGS__)

/*
 * As in a kernel without dynamic debug: pr_debug() prints only in a file compiled with DEBUG defined
 * (klpsim's dynamic debug covers the livepatch core's own lines, not a module's).
 */
#ifdef DEBUG
#define pr_debug(fmt, ...) printk(KERN_DEBUG pr_fmt(fmt), ##__VA_ARGS__)
#else
#define pr_debug(fmt, ...) no_printk(KERN_DEBUG pr_fmt(fmt), ##__VA_ARGS__)
#endif

/* The console's log level (kernel/printk/printk.c): a vmlinux variable; a scenario's kernel defines it. */
extern int console_loglevel;
#define CONSOLE_LOGLEVEL_MOTORMOUTH 15 /* You can't shut this one up */

#endif /* _LINUX_PRINTK_H */
