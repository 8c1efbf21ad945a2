#include "types.h"
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
__attribute__((optimize("no-tree-loop-distribute-patterns")))
void *memset(void *d, int c, size_t n) { u8 *p = d; while (n--) *p++ = c; return d; }
__attribute__((optimize("no-tree-loop-distribute-patterns")))
void *memcpy(void *d, const void *s, size_t n) { u8 *p = d; const u8 *q = s; while (n--) *p++ = *q++; return d; }
static u64 table[64];
static u8 bytes[300];
u64 fill_and_sum(u64 seed)
{
	u64 local[48];
	int i;
	u64 s = 0;
	__builtin_memset(local, 0, sizeof(local));
	for (i = 0; i < 48; i++)
		local[i] = seed * i;
	__builtin_memcpy(table, local, sizeof(local));
	for (i = 0; i < 64; i++)
		s += table[i];
	return s;
}
u32 bytesum(const u8 *p, int n) { u32 s = 0; while (n-- > 0) s = s * 31 + *p++; return s; }
u32 strlen_(const char *s) { const char *p = s; while (*p) p++; return p - s; }
int strcmp_(const char *a, const char *b) { while (*a && *a == *b) { a++; b++; } return (u8)*a - (u8)*b; }
u32 csum(void) { int i; for (i = 0; i < 300; i++) bytes[i] = i * 7; return bytesum(bytes, 300); }
u16 csum16(const u16 *p, int n) { u32 s = 0; while (n--) s += *p++; while (s >> 16) s = (s & 0xffff) + (s >> 16); return ~s; }
