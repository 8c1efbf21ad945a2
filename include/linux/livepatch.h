/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A live patch as a module declares it, laid out as the kernel's include/linux/livepatch.h: the module's
 * init passes its `struct klp_patch` to klp_enable_patch(), and klpsim's livepatch core reads the patch,
 * its objects (up to the one with a NULL name and no funcs) and their funcs (up to the one with a NULL
 * old_name) from the module's memory, with the callbacks' function pointers, which it calls on a CPU in
 * the kernel's order. The "internal" fields are the core's: it sets klp_object.mod to the object's
 * struct module while that module is loaded (NULL for vmlinux), so a callback reads obj->mod->name and
 * obj->mod->state as in the kernel; klpsim keeps its other bookkeeping outside the module's memory.
 */
#ifndef _LINUX_LIVEPATCH_H
#define _LINUX_LIVEPATCH_H

#include <linux/compiler.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/types.h>
#include <linux/gfp.h>

#define KLP_UNDEFINED -1
#define KLP_UNPATCHED 0
#define KLP_PATCHED 1

struct klp_object;

/*
 * old_name: the function to replace; new_func: its replacement; old_sympos: which of several local
 * symbols of that name (0: the only one, 1: the first, ...).
 */
struct klp_func {
	const char *old_name;
	void *new_func;
	unsigned long old_sympos;
};

/* Called with the object as it is patched/unpatched; a pre_patch failure stops the patching of it. */
struct klp_callbacks {
	int (*pre_patch)(struct klp_object *obj);
	void (*post_patch)(struct klp_object *obj);
	void (*pre_unpatch)(struct klp_object *obj);
	void (*post_unpatch)(struct klp_object *obj);
	bool post_unpatch_enabled;
};

/* name: NULL for vmlinux, else the module's name. */
struct klp_object {
	const char *name;
	struct klp_func *funcs;
	struct klp_callbacks callbacks;
	/* internal */
	struct module *mod;
};

/*
 * A system state a patch sets up (kernel 5.5): the array ends with an entry whose id is 0. klpsim's core
 * checks the states of a patch against the installed ones on klp_enable_patch(), and klp_get_state() /
 * klp_get_prev_state() hand out pointers to these structs (so `data` is the module's own).
 */
struct klp_state {
	unsigned long id;
	unsigned int version;
	void *data;
};

/* replace: an atomic-replace (cumulative) patch, which takes over from every patch before it. */
struct klp_patch {
	struct module *mod;
	struct klp_object *objs;
	struct klp_state *states;
	bool replace;
};

int klp_enable_patch(struct klp_patch *patch);

/* kernel/livepatch/state.c (5.5) */
struct klp_state *klp_get_state(struct klp_patch *patch, unsigned long id);
struct klp_state *klp_get_prev_state(unsigned long id);

/* kernel/livepatch/shadow.c: data attached to <obj, id>, found again by any CPU. */
typedef int (*klp_shadow_ctor_t)(void *obj, void *shadow_data, void *ctor_data);
typedef void (*klp_shadow_dtor_t)(void *obj, void *shadow_data);

void *klp_shadow_get(void *obj, unsigned long id);
void *klp_shadow_alloc(void *obj, unsigned long id, size_t size, gfp_t gfp_flags, klp_shadow_ctor_t ctor, void *ctor_data);
void *klp_shadow_get_or_alloc(void *obj, unsigned long id, size_t size, gfp_t gfp_flags, klp_shadow_ctor_t ctor,
			      void *ctor_data);
void klp_shadow_free(void *obj, unsigned long id, klp_shadow_dtor_t dtor);
void klp_shadow_free_all(unsigned long id, klp_shadow_dtor_t dtor);

#endif /* _LINUX_LIVEPATCH_H */
