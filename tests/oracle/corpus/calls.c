#include "types.h"
typedef u64 (*op_fn)(u64, u64);
static u64 op_add(u64 a, u64 b) { return a + b; }
static u64 op_xor(u64 a, u64 b) { return a ^ b; }
static u64 op_mul(u64 a, u64 b) { return a * b; }
static op_fn ops[3] = { op_add, op_xor, op_mul };
struct ops_s { op_fn f; int arg; };
static struct ops_s opv = { op_add, 3 };
u64 apply(int i, u64 a, u64 b) { return ops[i % 3](a, b); }
u64 applyp(op_fn f, u64 a) { return f(a, a + 1); }
u64 applys(struct ops_s *o, u64 a) { return o->f(a, o->arg); }
u64 tail(op_fn f, u64 a) { return f(a, 1); }
u64 use(void) { return apply(1, 2, 3) + applys(&opv, 4) + applyp(op_mul, 5); }
static __attribute__((noinline)) s32 many(s32 a, s32 b, s32 c, s32 d, s32 e, s32 f, s32 g, s32 h) { return a - b + c - d + e - f + g * h; }
s32 call_many(s32 x) { return many(x, 2, 3, 4, 5, 6, x, 8) + many(1, x, 1, x, 1, x, 1, x); }
u64 loop_calls(int n) { u64 s = 0; int i; for (i = 0; i < n; i++) s += apply(i, s, i); return s; }
