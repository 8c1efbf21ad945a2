#include "types.h"
u32 udiv(u32 a, u32 b) { return b ? a / b : 0; }
s32 sdiv(s32 a, s32 b) { return (b && !(a == -2147483647 - 1 && b == -1)) ? a / b : 0; }
u64 umod64(u64 a, u64 b) { return b ? a % b : a; }
s64 smod64(s64 a, s64 b) { return (b && b != -1) ? a % b : 0; }
u16 udiv16(u16 a, u16 b) { return b ? a / b : 0; }
s16 sdiv16(s16 a, s16 b) { return b ? (s16)(a / b) : 0; }
u8 udiv8(u8 a, u8 b) { return b ? a / b : 0; }
s8 smod8(s8 a, s8 b) { return b ? (s8)(a % b) : 0; }
u32 div7(u32 a) { return a / 7; }
s32 sdiv7(s32 a) { return a / 7; }
s64 sdiv8(s64 a) { return a / 8; }
u64 div10(u64 a) { return a / 10 + a % 10; }
u64 mul3(u64 a) { return a * 3 + a * 5 + a * 9; }
s64 mulw(s32 a, s32 b) { return (s64)a * b; }
u64 umulw(u32 a, u32 b) { return (u64)a * b; }
s16 mul16(s16 a, s16 b) { return (s16)(a * b); }
u8 mul8(u8 a, u8 b) { return (u8)(a * b); }
s32 sext(s8 a, s16 b) { return a + b; }
u64 zext(u8 a, u16 b, u32 c) { return (u64)a + b + c; }
s64 sext64(s32 a) { return a; }
int cmp_lt(s64 a, s64 b) { return a < b; }
int cmp_ult(u64 a, u64 b) { return a < b; }
int cmp_eq8(u8 a, u8 b) { return a == b; }
s32 max(s32 a, s32 b) { return a > b ? a : b; }
u64 umin(u64 a, u64 b) { return a < b ? a : b; }
s16 neg16(s16 a) { return -a; }
u64 fact(u64 n) { return n <= 1 ? 1 : n * fact(n - 1); }
u64 fib(unsigned n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
int ack(int m, int n) { if (!m) return n + 1; if (!n) return ack(m - 1, 1); return ack(m - 1, ack(m, n - 1)); }
u64 gcd(u64 a, u64 b) { while (b) { u64 t = a % b; a = b; b = t; } return a; }
