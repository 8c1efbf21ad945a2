/* klpsim bench: gcc-compiled kernel-style code (src/bench/gcc-workload.ts holds its bytes) */
typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
struct pkt { u16 len; u8 proto; u8 flags; u32 seq; u64 stamp; };
static u32 crc_step(u32 c, u8 b)
{
	c ^= b;
	for (int k = 0; k < 8; k++)
		c = (c >> 1) ^ (0xedb88320u & -(c & 1));
	return c;
}
u64 bench_run(struct pkt *p, u8 *buf, u32 n)
{
	u64 acc = 0;
	for (u32 i = 0; i < n; i++) {
		struct pkt *q = &p[i & 15];
		u32 c = ~0u;
		for (u32 j = 0; j < 16; j++)
			c = crc_step(c, buf[(i + j) & 255]);
		switch (q->proto & 7) {
		case 0: acc += c; break;
		case 1: acc ^= (u64)c << 7; break;
		case 2: acc -= q->seq; break;
		case 3: acc += q->len * 3u; break;
		case 4: acc = (acc << 3) | (acc >> 61); break;
		case 5: acc += q->stamp / (q->len | 1); break;
		default: acc ^= q->flags;
		}
		q->seq += c & 0xff;
		q->flags = (u8)(q->flags + 1);
		buf[i & 255] ^= (u8)acc;
	}
	return acc;
}
