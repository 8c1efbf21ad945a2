#include "types.h"
struct item { u8 kind; s16 delta; u32 flags; u64 value; struct item *next; };
struct big { u64 w[40]; };
static struct item pool[16];
static struct big gbig;
u64 walk(struct item *it)
{
	u64 s = 0;
	for (; it; it = it->next) {
		if (it->kind == 3)
			s += (u64)(s64)it->delta;
		else if (it->flags & 0x10)
			s ^= it->value;
		else
			s += it->value >> (it->kind & 7);
	}
	return s;
}
void link_pool(void)
{
	int i;
	for (i = 0; i < 15; i++) {
		pool[i].next = &pool[i + 1];
		pool[i].kind = i;
		pool[i].delta = -i * 300;
		pool[i].flags = i * 0x11;
		pool[i].value = (u64)i * 0x123456789ULL;
	}
	pool[15].next = 0;
}
u64 sum_pool(void) { link_pool(); return walk(pool); }
void copy_big(struct big *dst) { *dst = gbig; }
void clear_big(struct big *b) { struct big z = {0}; *b = z; }
u64 big_ret(int k) { struct big b = gbig; b.w[k & 31] = 7; copy_big(&gbig); return b.w[3] + b.w[k & 31]; }
struct pair { s32 a, b; };
struct pair mkpair(s32 x) { struct pair p = { x, -x }; return p; }
s64 pairsum(s32 x) { struct pair p = mkpair(x); return (s64)p.a * p.b; }
