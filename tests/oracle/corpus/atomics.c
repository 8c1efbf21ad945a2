#include "types.h"
static int counter;
static u64 word;
int atomic_inc(void) { return __atomic_add_fetch(&counter, 1, __ATOMIC_SEQ_CST); }
void atomic_add(int v) { __atomic_fetch_add(&counter, v, __ATOMIC_RELAXED); }
void atomic_or(u64 v) { __atomic_fetch_or(&word, v, __ATOMIC_SEQ_CST); }
void atomic_and(u64 v) { __atomic_fetch_and(&word, v, __ATOMIC_SEQ_CST); }
int atomic_dec_and_test(void) { return __atomic_sub_fetch(&counter, 1, __ATOMIC_SEQ_CST) == 0; }
u64 xchg(u64 v) { return __atomic_exchange_n(&word, v, __ATOMIC_SEQ_CST); }
int cas(int old, int new) { return __sync_bool_compare_and_swap(&counter, old, new); }
u64 cas64(u64 old, u64 new) { return __sync_val_compare_and_swap(&word, old, new); }
u8 cas8(u8 *p, u8 o, u8 n) { return __sync_val_compare_and_swap(p, o, n); }
int xadd(int v) { return __atomic_fetch_add(&counter, v, __ATOMIC_SEQ_CST); }
int test_and_set_bit(int nr, u64 *addr) { u64 m = 1ULL << (nr & 63); return (__atomic_fetch_or(addr, m, __ATOMIC_SEQ_CST) & m) != 0; }
void barrier_(void) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
void cpu_relax(void) { __asm__ volatile("pause"); }
void dir(void) { __asm__ volatile("cld; std; cld"); }
void bug(void) { __builtin_trap(); }
int readonce(int *p) { return *(volatile int *)p; }
