#include "types.h"
u32 rotl32(u32 x, unsigned r) { return (x << (r & 31)) | (x >> ((-r) & 31)); }
u64 rotr64(u64 x, unsigned r) { return (x >> (r & 63)) | (x << ((-r) & 63)); }
u16 rotl16(u16 x) { return (u16)((x << 3) | (x >> 13)); }
u8 rotr8(u8 x) { return (u8)((x >> 1) | (x << 7)); }
int test_bit(u64 w, int n) { return (w >> (n & 63)) & 1; }
u64 set_bit(u64 w, int n) { return w | (1ULL << (n & 63)); }
u64 clear_bit(u64 w, int n) { return w & ~(1ULL << (n & 63)); }
u64 flip_bit(u64 w, int n) { return w ^ (1ULL << (n & 63)); }
void set_bit_mem(u64 *w, int n) { w[n >> 6] |= 1ULL << (n & 63); }
int ctz(u64 x) { return x ? __builtin_ctzll(x) : 64; }
int clz(u32 x) { return x ? __builtin_clz(x) : 32; }
int ffs_(int x) { return __builtin_ffs(x); }
int fls64(u64 x) { return x ? 64 - __builtin_clzll(x) : 0; }
u32 bswap(u32 x) { return __builtin_bswap32(x); }
u64 bswap64(u64 x) { return __builtin_bswap64(x); }
u16 bswap16(u16 x) { return __builtin_bswap16(x); }
u64 shl128hi(u64 hi, u64 lo, unsigned n) { unsigned __int128 v = ((unsigned __int128)hi << 64) | lo; return (u64)((v << (n & 63)) >> 64); }
u64 mulhi(u64 a, u64 b) { return (u64)(((unsigned __int128)a * b) >> 64); }
s64 smulhi(s64 a, s64 b) { return (s64)(((__int128)a * b) >> 64); }
u64 add128(u64 a, u64 b, u64 c, u64 d) { unsigned __int128 x = ((unsigned __int128)a << 64) | b, y = ((unsigned __int128)c << 64) | d; return (u64)((x + y) >> 64) ^ (u64)(x - y); }
int sgn(s64 x) { return (x > 0) - (x < 0); }
u32 abs32(s32 x) { return x < 0 ? -(u32)x : (u32)x; }
s8 sat8(int x) { return x > 127 ? 127 : x < -128 ? -128 : x; }
u8 hi_byte(u16 x) { return x >> 8; }
u32 parity(u32 x) { x ^= x >> 16; x ^= x >> 8; x ^= x >> 4; return (0x6996 >> (x & 15)) & 1; }
int overflows(s32 a, s32 b) { s32 r; return __builtin_add_overflow(a, b, &r); }
int umul_ovf(u64 a, u64 b) { u64 r; return __builtin_mul_overflow(a, b, &r); }
