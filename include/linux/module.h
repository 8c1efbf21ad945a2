/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A loadable module as klpsim's loader sees it, laid out as the kernel's: module_init()/module_exit()
 * name init_module and cleanup_module (aliases of the module's functions), MODULE_*() are .modinfo
 * strings ("license=GPL", "livepatch=Y"), module_param() is a __param record, and THIS_MODULE is the
 * module's `struct module` (__this_module), which klpsim allocates in the module's data when it loads it
 * and whose `state` follows the loader: COMING while init runs, LIVE after it, GOING in rmmod.
 */
#ifndef _LINUX_MODULE_H
#define _LINUX_MODULE_H

#include <linux/compiler.h>
#include <linux/errno.h>
#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/list.h>
#include <linux/moduleparam.h>
#include <linux/stringify.h>
#include <linux/types.h>

#define MODULE_NAME_LEN (64 - sizeof(unsigned long))

enum module_state {
	MODULE_STATE_LIVE,	/* Normal state. */
	MODULE_STATE_COMING,	/* Full formed, running module_init. */
	MODULE_STATE_GOING,	/* Going away. */
	MODULE_STATE_UNFORMED,	/* Still setting it up. */
};

/* The head of the kernel's struct module, in its order: what code outside the loader reads. */
struct module {
	enum module_state state;
	struct list_head list;
	char name[MODULE_NAME_LEN];
};

#ifdef MODULE
extern struct module __this_module;
#define THIS_MODULE (&__this_module)
#else
/* Code built into vmlinux has no module. */
#define THIS_MODULE ((struct module *)0)
#endif

#define __MODULE_INFO(tag, name, info) \
	static const char __UNIQUE_ID(name)[] __used __section(".modinfo") __aligned(1) = __stringify(tag) "=" info

#define MODULE_INFO(tag, info) __MODULE_INFO(tag, tag, info)
#define MODULE_LICENSE(_license) MODULE_INFO(license, _license)
#define MODULE_AUTHOR(_author) MODULE_INFO(author, _author)
#define MODULE_DESCRIPTION(_description) MODULE_INFO(description, _description)
#define MODULE_VERSION(_version) MODULE_INFO(version, _version)
#define MODULE_ALIAS(_alias) MODULE_INFO(alias, _alias)
#define MODULE_SOFTDEP(_softdep) MODULE_INFO(softdep, _softdep)
#define MODULE_PARM_DESC(_parm, desc) __MODULE_INFO(parm, _parm, #_parm ":" desc)

/*
 * As the kernel's module_init() for a loadable module: init_module is an alias of initfn, and the
 * __inittest function makes gcc check that initfn is an `int (*)(void)`.
 */
#define module_init(initfn)                                                        \
	static inline initcall_t __maybe_unused __inittest(void) { return initfn; } \
	int init_module(void) __copy(initfn) __attribute__((__alias__(#initfn)))

#define module_exit(exitfn)                                                        \
	static inline exitcall_t __maybe_unused __exittest(void) { return exitfn; } \
	void cleanup_module(void) __copy(exitfn) __attribute__((__alias__(#exitfn)))

#endif /* _LINUX_MODULE_H */
