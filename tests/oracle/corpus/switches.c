#include "types.h"
/* dense switches: gcc makes jump tables (jmp [reg*8+table]) */
int dense(int x)
{
	switch (x) {
	case 0: return 11;
	case 1: return 23;
	case 2: return x * 7 + 1;
	case 3: return 99;
	case 4: return -4;
	case 5: return 1000;
	case 6: return x << 3;
	case 7: return 77;
	case 8: return 5;
	case 9: return 0x1234;
	default: return -1;
	}
}
u64 dense_u64(u64 x, u64 y)
{
	switch (x & 15) {
	case 0: y += 3; break;
	case 1: y ^= 0x55; break;
	case 2: y *= 9; break;
	case 3: y >>= 2; break;
	case 4: y = ~y; break;
	case 5: y -= x; break;
	case 6: y |= 1ULL << 40; break;
	case 7: y &= 0xffff; break;
	case 8: y = y * y; break;
	case 9: y += x << 7; break;
	case 10: y = (y << 13) | (y >> 51); break;
	case 11: y = -y; break;
	default: y += 1;
	}
	return y;
}
static int sparse(unsigned x)
{
	switch (x) {
	case 1: return 1;
	case 100: return 2;
	case 1000: return 3;
	case 10000: return 4;
	case 100000: return 5;
	}
	return 0;
}
int use_sparse(unsigned x) { return sparse(x) + sparse(x * 10); }
