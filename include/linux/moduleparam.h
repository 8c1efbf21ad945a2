/* SPDX-License-Identifier: GPL-2.0 */
/*
 * module_param(): a `struct kernel_param` record in the module's __param section, as the kernel's
 * moduleparam.h emits it. klpsim's module loader reads the records (name, ops, perm, arg) at load time:
 * the ops pointer names the type (param_ops_int, param_ops_bool, param_ops_charp, the types klpsim's
 * parameters have), `arg` is the variable the module reads, and `perm` decides whether
 * /sys/module/M/parameters/NAME is there and writable.
 */
#ifndef _LINUX_MODULEPARAM_H
#define _LINUX_MODULEPARAM_H

#include <linux/compiler.h>
#include <linux/init.h>
#include <linux/stringify.h>
#include <linux/types.h>

struct module;
struct kernel_param;

struct kernel_param_ops {
	unsigned int flags;
	int (*set)(const char *val, const struct kernel_param *kp);
	int (*get)(char *buffer, const struct kernel_param *kp);
	void (*free)(void *arg);
};

struct kernel_param {
	const char *name;
	struct module *mod;
	const struct kernel_param_ops *ops;
	const u16 perm;
	s8 level;
	u8 flags;
	union {
		void *arg;
		const void *str;
		const void *arr;
	};
};

/* The parameter types klpsim's kernel implements (kernel/params.c's param_ops_int, _bool, _charp). */
extern const struct kernel_param_ops param_ops_int;
extern const struct kernel_param_ops param_ops_bool;
extern const struct kernel_param_ops param_ops_charp;

/*
 * Compile-time type checks, as the kernel's param_check_<type>(): a variable of the wrong type is gcc's
 * own error ("initialization of 'int *' from incompatible pointer type ...") at the module_param() line.
 */
#define __param_check(name, p, type) static inline type __always_unused *__check_##name(void) { return (p); }
#define param_check_int(name, p) __param_check(name, p, int)
#define param_check_bool(name, p) __param_check(name, p, bool)
#define param_check_charp(name, p) __param_check(name, p, char *)

#define __MODULE_PARAM_PREFIX ""

#define __module_param_call(prefix, name, ops, arg, perm, level, flags)                 \
	static const char __param_str_##name[] = prefix #name;                            \
	static struct kernel_param __param_##name __used __section("__param")             \
		__aligned(sizeof(void *)) = { __param_str_##name, ((struct module *)0), ops, \
					      perm, level, flags, { arg } }

#define module_param_cb(name, ops, arg, perm) \
	__module_param_call(__MODULE_PARAM_PREFIX, name, ops, arg, perm, -1, 0)

#define module_param_named(name, value, type, perm) \
	param_check_##type(name, &(value));          \
	module_param_cb(name, &param_ops_##type, &value, perm)

/* name: the variable (and the parameter's name); type: int, bool or charp; perm: the sysfs file's mode. */
#define module_param(name, type, perm) module_param_named(name, name, type, perm)

#endif /* _LINUX_MODULEPARAM_H */
