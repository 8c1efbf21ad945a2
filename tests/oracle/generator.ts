/**
 * Random C programs for the differential oracle (issue 14 item 4): kernel-style integer code whose result is
 * defined by the C standard (plus gcc's documented implementation-defined choices: conversions to signed types
 * wrap, >> of a negative value is arithmetic), so the program compiled natively and the same program compiled
 * with the kernel's flags and run on klpsim must agree.
 *
 * How undefined behaviour is kept out:
 *  - +, -, * and unary - are computed in u32 or u64 (never in int after promotion, never signed) and cast back;
 *  - shift counts are masked to the width, and the shifted value is u32/u64 (or s32/s64 for >>);
 *  - signed / and % go through sdivNN()/smodNN(), which return 0 for a zero divisor and for MIN / -1;
 *    unsigned ones divide by (d | 1);
 *  - array indices are masked to the array's power-of-two length, pointers only point into arrays;
 *  - loops have constant or masked trip counts, recursion a masked depth, calls only go to earlier functions.
 * Inputs come from volatile globals so gcc cannot fold the whole program into a constant.
 *
 * Seeded (xorshift32): the same seed always gives the same program.
 */

export interface Program {
  seed: number;
  /** the program: `u64 run(void)` and what it calls, no headers (freestanding) */
  kernel: string;
  /** the same program plus a main() that prints run()'s result in decimal */
  native: string;
}

type T = 'u8' | 'u16' | 'u32' | 'u64' | 's8' | 's16' | 's32' | 's64';
const TYPES: T[] = ['u8', 'u16', 'u32', 'u64', 's8', 's16', 's32', 's64'];
const bits = (t: T): number => Number(t.slice(1));
const signed = (t: T): boolean => t[0] === 's';
/** the unsigned type arithmetic on t is done in */
const wide = (t: T): T => (bits(t) === 64 ? 'u64' : 'u32');

const PRELUDE = `typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef signed char s8;
typedef short s16;
typedef int s32;
typedef long long s64;
#define NOINLINE __attribute__((noinline))
static inline s32 sdiv32(s32 a, s32 b) { return (b == 0 || (a == (-2147483647 - 1) && b == -1)) ? 0 : a / b; }
static inline s32 smod32(s32 a, s32 b) { return (b == 0 || b == -1) ? 0 : a % b; }
static inline s64 sdiv64(s64 a, s64 b) { return (b == 0 || (a == (-9223372036854775807LL - 1) && b == -1)) ? 0 : a / b; }
static inline s64 smod64(s64 a, s64 b) { return (b == 0 || b == -1) ? 0 : a % b; }
static inline s16 sdiv16(s16 a, s16 b) { return b == 0 ? 0 : (s16)(a / b); }
static inline s8 smod8(s8 a, s8 b) { return b == 0 ? 0 : (s8)(a % b); }
struct rec { u8 tag; s16 delta; u32 flags; u64 value; s8 small; struct rec *next; };
`;

class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
    for (let i = 0; i < 4; i++) this.next();
  }
  next(): number {
    let s = this.s;
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    this.s = s;
    return s;
  }
  int(n: number): number {
    return this.next() % n;
  }
  pick<X>(a: readonly X[]): X {
    return a[this.int(a.length)];
  }
  chance(p: number): boolean {
    return this.next() / 4294967296 < p;
  }
  /** an interesting constant of type t, as a C literal */
  constant(t: T): string {
    const b = bits(t);
    const r = this.int(8);
    let v: bigint;
    if (r === 0) v = 0n;
    else if (r === 1) v = 1n;
    else if (r === 2)
      v = (1n << BigInt(b)) - 1n; // all ones
    else if (r === 3)
      v = 1n << BigInt(b - 1); // the sign bit
    else if (r === 4) v = (1n << BigInt(b - 1)) - 1n;
    else if (r === 5) v = BigInt(this.int(256));
    else v = ((BigInt(this.next()) << 32n) | BigInt(this.next())) & ((1n << BigInt(b)) - 1n);
    return `(${t})${v}ULL`;
  }
}

interface Var {
  name: string;
  t: T;
  /** a loop counter: read, never assigned (the trip count stays bounded) */
  ro?: boolean;
}

const GLOBALS = `static volatile u64 in0 = IN0ULL, in1 = IN1ULL, in2 = IN2ULL;
static u64 g64[8] = { G64 };
static u32 g32[16];
static s16 g16[8] = { G16 };
static u8 g8[32];
static const u32 ktab[8] = { KTAB };
static struct rec recs[4];
`;

class Gen {
  private readonly out: string[] = [];
  private depth = 0;
  private loopVar = 0;
  /** call sites left in this function: two at most, so the call tree stays small (f_i calls only f_j, j < i) */
  private calls = 2;
  constructor(
    private readonly r: Rng,
    private readonly nfuncs: number,
  ) {}

  /** An expression of type t over the variables in scope. */
  expr(t: T, vars: Var[], d: number): string {
    const r = this.r;
    if (d <= 0 || r.chance(0.25)) return this.leaf(t, vars);
    const k = r.int(18);
    const u = wide(t);
    const a = (): string => this.expr(r.pick(TYPES), vars, d - 1);
    const same = (): string => this.expr(t, vars, d - 1);
    switch (k) {
      case 0:
      case 1:
      case 2: {
        const op = r.pick(['+', '-', '*']);
        return `(${t})((${u})${same()} ${op} (${u})${a()})`;
      }
      case 3:
        return `(${t})(${same()} ${r.pick(['&', '|', '^'])} ${same()})`;
      case 4:
        return `(${t})~${same()}`;
      case 5:
        return `(${t})(-(${u})${same()})`;
      case 6: {
        const w = bits(u);
        return `(${t})((${u})${same()} << (${a()} & ${w - 1}))`;
      }
      case 7: {
        const w = bits(u);
        const st = signed(t) ? (w === 64 ? 's64' : 's32') : u;
        return `(${t})((${st})${same()} >> (${a()} & ${w - 1}))`;
      }
      case 8: {
        // unsigned division by an odd divisor, or by a constant (strength-reduced by gcc)
        if (r.chance(0.4)) return `(${t})((${u})${same()} ${r.pick(['/', '%'])} ${1 + r.int(1000)}U)`;
        return `(${t})((${u})${same()} ${r.pick(['/', '%'])} ((${u})${a()} | 1))`;
      }
      case 9: {
        const f = r.pick(['sdiv32', 'smod32', 'sdiv64', 'smod64', 'sdiv16', 'smod8']);
        const at = f.endsWith('64') ? 's64' : f.endsWith('32') ? 's32' : f.endsWith('16') ? 's16' : 's8';
        return `(${t})${f}((${at})${a()}, (${at})${a()})`;
      }
      case 10: {
        const ct = r.pick(TYPES);
        return `(${t})(${this.expr(ct, vars, d - 1)} ${r.pick(['<', '<=', '>', '>=', '==', '!='])} ${this.expr(ct, vars, d - 1)})`;
      }
      case 11: {
        const ct = r.pick(TYPES);
        return `(${this.expr(ct, vars, d - 1)} ${r.pick(['<', '>', '==', '!='])} ${this.expr(ct, vars, d - 1)} ? ${same()} : ${same()})`;
      }
      case 12:
        return `(${t})${this.arrayRead(vars, d)}`;
      case 13:
        return `(${t})(${a()})`;
      case 14: {
        // rotate (gcc recognises it: rol/ror)
        const w = bits(u);
        const v = `(${u})${same()}`;
        const c = `(${a()} & ${w - 1})`;
        return `(${t})((${v} << ${c}) | (${v} >> ((${w} - ${c}) & ${w - 1})))`;
      }
      case 15: {
        const f = this.r.int(Math.max(1, this.nfuncs));
        if (this.nfuncs > 0 && this.depth === 0 && this.calls > 0) {
          this.calls--;
          return `(${t})f${f}(${this.args(vars, d - 1)})`;
        }
        return same();
      }
      case 16:
        return `(${t})(!${same()})`;
      default: {
        // bit test / set / clear on a 64-bit value
        const n = `(${a()} & 63)`;
        const form = r.int(3);
        if (form === 0) return `(${t})(((u64)${same()} >> ${n}) & 1)`;
        if (form === 1) return `(${t})((u64)${same()} | (1ULL << ${n}))`;
        return `(${t})((u64)${same()} & ~(1ULL << ${n}))`;
      }
    }
  }

  args(vars: Var[], d: number): string {
    return `${this.expr('u64', vars, d)}, ${this.expr('u32', vars, d)}, ${this.expr('s32', vars, d)}`;
  }

  leaf(t: T, vars: Var[]): string {
    const r = this.r;
    const k = r.int(10);
    if (k < 6 && vars.length > 0) {
      const v = r.pick(vars);
      return v.t === t ? v.name : `(${t})${v.name}`;
    }
    if (k < 8) return r.constant(t);
    return `(${t})${this.arrayRead(vars, 0)}`;
  }

  index(vars: Var[], n: number): string {
    return `(${this.leaf('u32', vars)} & ${n - 1})`;
  }

  arrayRead(vars: Var[], d: number): string {
    const r = this.r;
    void d;
    switch (r.int(6)) {
      case 0:
        return `g64[${this.index(vars, 8)}]`;
      case 1:
        return `g32[${this.index(vars, 16)}]`;
      case 2:
        return `g16[${this.index(vars, 8)}]`;
      case 3:
        return `g8[${this.index(vars, 32)}]`;
      case 4:
        return `ktab[${this.index(vars, 8)}]`;
      default:
        return `recs[${this.index(vars, 4)}].${r.pick(['tag', 'delta', 'flags', 'value', 'small'])}`;
    }
  }

  /** Statements (into out) with the given indentation. */
  stmts(vars: Var[], n: number, ind: string, acc: string): void {
    for (let i = 0; i < n; i++) this.stmt(vars, ind, acc);
  }

  stmt(vars: Var[], ind: string, acc: string): void {
    const r = this.r;
    const writable = vars.filter((v) => v.ro !== true);
    const e = (t: T): string => this.expr(t, vars, 2);
    const k = this.depth > 1 ? r.int(4) : r.int(11);
    switch (k) {
      case 0:
      case 1: {
        const v = r.pick(writable);
        const op = r.pick(['=', '^=', '|=', '&=']);
        this.out.push(`${ind}${v.name} ${op} ${e(v.t)};`);
        break;
      }
      case 2: {
        const v = r.pick(writable);
        // += and -= in the variable's own unsigned arithmetic
        this.out.push(`${ind}${v.name} = (${v.t})((${wide(v.t)})${v.name} ${r.pick(['+', '-'])} (${wide(v.t)})${e(v.t)});`);
        break;
      }
      case 3:
        this.out.push(`${ind}${acc} = ${acc} * 0x100000001b3ULL + (u64)${e(r.pick(TYPES))};`);
        break;
      case 4: {
        this.out.push(`${ind}if (${e(r.pick(TYPES))} ${r.pick(['<', '>', '==', '!=', '<=', '>='])} ${e(r.pick(TYPES))}) {`);
        this.nest(vars, ind, acc);
        if (r.chance(0.5)) {
          this.out.push(`${ind}} else {`);
          this.nest(vars, ind, acc);
        }
        this.out.push(`${ind}}`);
        break;
      }
      case 5: {
        const i = `i${this.loopVar++}`;
        const trip = r.chance(0.5) ? `${1 + r.int(12)}` : `(${this.leaf('u32', vars)} & 15)`;
        this.out.push(`${ind}for (u32 ${i} = 0; ${i} < ${trip}; ${i}++) {`);
        this.nest([...vars, { name: i, t: 'u32', ro: true }], ind, acc);
        this.out.push(`${ind}}`);
        break;
      }
      case 6: {
        // a dense switch: gcc turns it into a jump table
        const n = 5 + r.int(6);
        this.out.push(`${ind}switch (${e('u32')} & ${n <= 8 ? 7 : 15}) {`);
        for (let c = 0; c < n; c++) {
          this.out.push(`${ind}case ${c}:`);
          this.depth++;
          this.stmt(vars, ind + '\t', acc);
          this.depth--;
          if (r.chance(0.8)) this.out.push(`${ind}\tbreak;`);
        }
        this.out.push(`${ind}default:`);
        this.out.push(`${ind}\t${acc} ^= ${r.constant('u64')};`);
        this.out.push(`${ind}}`);
        break;
      }
      case 7: {
        const arr = r.pick([
          ['g64', 8, 'u64'],
          ['g32', 16, 'u32'],
          ['g16', 8, 's16'],
          ['g8', 32, 'u8'],
        ] as const);
        this.out.push(`${ind}${arr[0]}[${this.index(vars, arr[1])}] = ${e(arr[2])};`);
        break;
      }
      case 8: {
        // through pointers: a struct in static data, an element of a stack array
        const p = `p${this.loopVar++}`;
        this.out.push(`${ind}{`);
        this.out.push(`${ind}\tstruct rec *${p} = &recs[${this.index(vars, 4)}];`);
        this.out.push(`${ind}\t${p}->${r.pick(['tag', 'delta', 'flags', 'value', 'small'])} ${r.pick(['=', '^=', '+='])} ${e('u32')};`);
        this.out.push(`${ind}\t${acc} += (u64)${p}->next->value + (u64)(s64)${p}->delta + ${p}->tag;`);
        this.out.push(`${ind}}`);
        break;
      }
      case 9: {
        const b = `buf${this.loopVar++}`;
        const n = r.pick([4, 8, 16]);
        const t = r.pick(TYPES);
        this.out.push(`${ind}{`);
        this.out.push(`${ind}\t${t} ${b}[${n}];`);
        this.out.push(`${ind}\tfor (u32 k = 0; k < ${n}; k++) ${b}[k] = (${t})(${e(t)} + (${wide(t)})k);`);
        this.out.push(`${ind}\t${b}[${this.index(vars, n)}] ${r.pick(['^=', '|=', '='])} ${e(t)};`);
        this.out.push(`${ind}\tfor (u32 k = 0; k < ${n}; k++) ${acc} = (${acc} << 5) + (${acc} >> 59) + (u64)${b}[k];`);
        this.out.push(`${ind}}`);
        break;
      }
      default: {
        const v = r.pick(writable);
        this.out.push(`${ind}${v.name} = (${v.t})recur(${e('u64')}, ${e('u32')} & 7);`);
        break;
      }
    }
  }

  nest(vars: Var[], ind: string, acc: string): void {
    this.depth++;
    this.stmts(vars, 1 + this.r.int(3), ind + '\t', acc);
    this.depth--;
  }

  func(i: number): string {
    const r = this.r;
    this.out.length = 0;
    const params: Var[] = [
      { name: 'a', t: 'u64' },
      { name: 'b', t: 'u32' },
      { name: 'c', t: 's32' },
    ];
    const locals: Var[] = [];
    const nl = 2 + r.int(4);
    for (let k = 0; k < nl; k++) locals.push({ name: `v${k}`, t: r.pick(TYPES) });
    const vars = [...params, ...locals];
    const attr = r.chance(0.6) ? 'static NOINLINE ' : 'static ';
    const body: string[] = [`${attr}u64 f${i}(u64 a, u32 b, s32 c)`, '{', '\tu64 acc = a ^ 0x9e3779b97f4a7c15ULL;'];
    for (const l of locals) body.push(`\t${l.t} ${l.name} = ${this.expr(l.t, params, 2)};`);
    this.stmts(vars, 2 + r.int(4), '\t', 'acc');
    body.push(...this.out);
    body.push(`\treturn acc ^ ${locals.map((l) => `(u64)${l.name}`).join(' ^ ')};`);
    body.push('}');
    return body.join('\n');
  }
}

function hex64(r: Rng): string {
  return ((BigInt(r.next()) << 32n) | BigInt(r.next())).toString();
}

/** The program for `seed`. */
export function generateProgram(seed: number): Program {
  const r = new Rng(seed);
  const nfuncs = 2 + r.int(5);
  const g = new Gen(r, 0);
  const parts: string[] = [PRELUDE];
  parts.push(
    GLOBALS.replace('IN0', hex64(r))
      .replace('IN1', hex64(r))
      .replace('IN2', hex64(r))
      .replace('G64', Array.from({ length: 8 }, () => `${hex64(r)}ULL`).join(', '))
      .replace('G16', Array.from({ length: 8 }, () => `${(r.next() & 0xffff) - 0x8000}`).join(', '))
      .replace('KTAB', Array.from({ length: 8 }, () => `${r.next()}U`).join(', ')),
  );
  // bounded recursion, with a frame and a data-dependent early return
  parts.push(`static NOINLINE u64 recur(u64 x, u32 d)
{
	if (d == 0)
		return x ^ 0x5bd1e995;
	if ((x & 0xff) == ${r.int(256)})
		return x;
	return recur(x * ${1 + 2 * r.int(1000)}ULL + d, d - 1) + (x >> ${1 + r.int(62)});
}`);
  for (let i = 0; i < nfuncs; i++) {
    const gi = new Gen(r, i);
    parts.push(gi.func(i));
  }
  void g;
  const calls: string[] = [];
  for (let i = 0; i < nfuncs; i++)
    calls.push(`\th = h * 0x9e3779b97f4a7c15ULL + f${i}(x ^ ${hex64(r)}ULL, (u32)y + ${r.int(100)}U, (s32)z - ${r.int(100)});`);
  parts.push(`u64 run(void)
{
	u64 x = in0, y = in1, z = in2, h = 0;
	for (u32 k = 0; k < 4; k++) {
		recs[k].next = &recs[(k + 1) & 3];
		recs[k].value = x >> k;
		recs[k].tag = (u8)(y >> (8 * k));
		recs[k].delta = (s16)(z >> (4 * k));
		recs[k].small = (s8)k - 2;
	}
${calls.join('\n')}
	for (u32 k = 0; k < 8; k++)
		h ^= g64[k] + g16[k] + g32[k] + g32[k + 8] + ktab[k] + recs[k & 3].value + recs[k & 3].flags;
	for (u32 k = 0; k < 32; k++)
		h = h * 31 + g8[k];
	return h;
}`);
  const kernel = parts.join('\n\n') + '\n';
  const native = kernel + '\nint printf(const char *, ...);\nint main(void) { printf("%llu\\n", run()); return 0; }\n';
  return { seed, kernel, native };
}
