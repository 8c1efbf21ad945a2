// SPDX-License-Identifier: GPL-2.0
/*
 * klpsim's version of lib/livepatch/test_klp_shadow_vars.c, written from test-shadow-vars.sh's expected
 * output: the module's init attaches two shadow variables (ids 0x1234 and 0x1235) to each of three
 * objects with a constructor, looks them up, asks klp_shadow_get_or_alloc() for existing ones, frees the
 * first id of each object with a destructor and the second id of all at once, checking every step. It
 * never prints a raw pointer: ptr_id() numbers pointers in the order it first sees them (PTR0 is NULL).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/list.h>
#include <linux/slab.h>
#include <linux/livepatch.h>

struct shadow_ptr {
	void *ptr;
	int id;
	struct list_head list;
};

static LIST_HEAD(ptr_list);

static int ptr_id(void *ptr)
{
	static int count;
	struct shadow_ptr *sp;

	list_for_each_entry(sp, &ptr_list, list) {
		if (sp->ptr == ptr)
			return sp->id;
	}
	sp = kmalloc(sizeof(*sp), GFP_ATOMIC);
	if (!sp)
		return -ENOMEM;
	sp->ptr = ptr;
	sp->id = count++;
	list_add(&sp->list, &ptr_list);
	return sp->id;
}

static void free_ptr_list(void)
{
	struct shadow_ptr *sp, *tmp;

	list_for_each_entry_safe(sp, tmp, &ptr_list, list) {
		list_del(&sp->list);
		kfree(sp);
	}
}

/* Each wrapper logs its call with pointers as ids, as the selftest expects. */
static void *shadow_get(void *obj, unsigned long id)
{
	void *sv = klp_shadow_get(obj, id);

	pr_info("klp_%s(obj=PTR%d, id=0x%lx) = PTR%d\n", __func__, ptr_id(obj), id, ptr_id(sv));
	return sv;
}

static void *shadow_alloc(void *obj, unsigned long id, size_t size, gfp_t gfp_flags, klp_shadow_ctor_t ctor,
			  void *ctor_data)
{
	int **var = ctor_data;
	void *sv = klp_shadow_alloc(obj, id, size, gfp_flags, ctor, var);
	int o = ptr_id(obj), c = ptr_id(ctor), d = ptr_id(*var), s = ptr_id(sv);

	pr_info("klp_%s(obj=PTR%d, id=0x%lx, size=%lx, gfp_flags=GFP_KERNEL), ctor=PTR%d, ctor_data=PTR%d = PTR%d\n",
		__func__, o, id, (unsigned long)size, c, d, s);
	return sv;
}

static void *shadow_get_or_alloc(void *obj, unsigned long id, size_t size, gfp_t gfp_flags, klp_shadow_ctor_t ctor,
				 void *ctor_data)
{
	int **var = ctor_data;
	void *sv = klp_shadow_get_or_alloc(obj, id, size, gfp_flags, ctor, var);
	int o = ptr_id(obj), c = ptr_id(ctor), d = ptr_id(*var), s = ptr_id(sv);

	pr_info("klp_%s(obj=PTR%d, id=0x%lx, size=%lx, gfp_flags=GFP_KERNEL), ctor=PTR%d, ctor_data=PTR%d = PTR%d\n",
		__func__, o, id, (unsigned long)size, c, d, s);
	return sv;
}

static void shadow_free(void *obj, unsigned long id, klp_shadow_dtor_t dtor)
{
	klp_shadow_free(obj, id, dtor);
	pr_info("klp_%s(obj=PTR%d, id=0x%lx, dtor=PTR%d)\n", __func__, ptr_id(obj), id, ptr_id(dtor));
}

static void shadow_free_all(unsigned long id, klp_shadow_dtor_t dtor)
{
	klp_shadow_free_all(id, dtor);
	pr_info("klp_%s(id=0x%lx, dtor=PTR%d)\n", __func__, id, ptr_id(dtor));
}

/* The constructor keeps a pointer in the new variable (under klp_shadow_lock). */
static int shadow_ctor(void *obj, void *shadow_data, void *ctor_data)
{
	int **sv = shadow_data;
	int **var = ctor_data;
	int s, d;

	if (!var)
		return -EINVAL;
	*sv = *var;
	s = ptr_id(sv);
	d = ptr_id(*var);
	pr_info("%s: PTR%d -> PTR%d\n", __func__, s, d);
	return 0;
}

static void shadow_dtor(void *obj, void *shadow_data)
{
	int o = ptr_id(obj), s = ptr_id(shadow_data);

	pr_info("%s(obj=PTR%d, shadow_data=PTR%d)\n", __func__, o, s);
}

#define NUM_OBJS 3
#define SV_ID1 0x1234
#define SV_ID2 0x1235

struct test_object {
	struct shadow_ptr sp; /* something to point at; the new fields are the shadow variables */
};

static void expect_ptr(void *sv, void *want_sv, void *want)
{
	if (sv == want_sv && *(void **)sv == want) {
		int s = ptr_id(sv), w = ptr_id(*(void **)sv);

		pr_info("  got expected PTR%d -> PTR%d result\n", s, w);
	}
}

static int test_klp_shadow_vars_init(void)
{
	static struct test_object objs[NUM_OBJS];
	static char nfields1[NUM_OBJS];
	static int nfields2[NUM_OBJS];
	static char *pnfields1[NUM_OBJS], *pndup[NUM_OBJS];
	static int *pnfields2[NUM_OBJS];
	static void *sv1[NUM_OBJS], *sv2[NUM_OBJS];
	void *sv;
	int i;

	ptr_id(NULL);

	if (!shadow_get(&objs[0], SV_ID1))
		pr_info("  got expected NULL result\n");

	/* a char* and an int* variable for each object */
	for (i = 0; i < NUM_OBJS; i++) {
		pnfields1[i] = &nfields1[i];
		ptr_id(pnfields1[i]);
		if (i % 2)
			sv1[i] = shadow_alloc(&objs[i], SV_ID1, sizeof(pnfields1[i]), GFP_KERNEL, shadow_ctor, &pnfields1[i]);
		else
			sv1[i] = shadow_get_or_alloc(&objs[i], SV_ID1, sizeof(pnfields1[i]), GFP_KERNEL, shadow_ctor,
						     &pnfields1[i]);
		if (!sv1[i])
			goto out;

		pnfields2[i] = &nfields2[i];
		ptr_id(pnfields2[i]);
		sv2[i] = shadow_alloc(&objs[i], SV_ID2, sizeof(pnfields2[i]), GFP_KERNEL, shadow_ctor, &pnfields2[i]);
		if (!sv2[i])
			goto out;
	}

	/* each is found again, pointing where its constructor made it */
	for (i = 0; i < NUM_OBJS; i++) {
		expect_ptr(shadow_get(&objs[i], SV_ID1), sv1[i], pnfields1[i]);
		expect_ptr(shadow_get(&objs[i], SV_ID2), sv2[i], pnfields2[i]);
	}

	/* get_or_alloc returns the existing variable; its constructor does not run */
	for (i = 0; i < NUM_OBJS; i++) {
		pndup[i] = &nfields1[i];
		ptr_id(pndup[i]);
		sv = shadow_get_or_alloc(&objs[i], SV_ID1, sizeof(pndup[i]), GFP_KERNEL, shadow_ctor, &pndup[i]);
		expect_ptr(sv, sv1[i], pnfields1[i]);
	}

	/* free the first id of each object, with the destructor */
	for (i = 0; i < NUM_OBJS; i++) {
		shadow_free(&objs[i], SV_ID1, shadow_dtor);
		if (!shadow_get(&objs[i], SV_ID1))
			pr_info("  got expected NULL result\n");
	}

	/* the second id is still there */
	for (i = 0; i < NUM_OBJS; i++)
		expect_ptr(shadow_get(&objs[i], SV_ID2), sv2[i], pnfields2[i]);

	/* and goes at once for all objects */
	shadow_free_all(SV_ID2, NULL);
	for (i = 0; i < NUM_OBJS; i++) {
		if (!shadow_get(&objs[i], SV_ID2))
			pr_info("  got expected NULL result\n");
	}

	free_ptr_list();
	return 0;
out:
	shadow_free_all(SV_ID1, NULL);
	shadow_free_all(SV_ID2, NULL);
	free_ptr_list();
	return -ENOMEM;
}

static void test_klp_shadow_vars_exit(void)
{
}

module_init(test_klp_shadow_vars_init);
module_exit(test_klp_shadow_vars_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Livepatch test: shadow variables (klpsim)");
