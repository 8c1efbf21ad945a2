/**
 * Lazy arithmetic flags.
 *
 * Most instructions that write flags are followed by one that overwrites them before anything reads them,
 * so instead of computing CF/ZF/SF/OF/PF after every ALU op we record what the last flag-writing op was and
 * its operands/result in a small Int32Array (`F`, one per CPU), and derive flags only when a jcc/setcc/cmovcc
 * or getRflags() asks.
 *
 * Representation trick: operands and results of 8/16/32-bit ops are stored SIGN-EXTENDED to 64 bits (as lo/hi
 * int32 halves). Sign extension preserves both signed and unsigned order, and preserves equality, so the flag
 * formulas below are the same for every operand size:
 *   SUB/CMP: CF = a <u b, ZF = a == b, (SF != OF) = a <s b, OF = sign((a ^ b) & (a ^ r))
 *   ADD:     CF = r <u a,               OF = sign((a ^ r) & (b ^ r))
 * and ZF = (r == 0), SF = sign(r), PF = parity(low byte of r) for all of them.
 */

/** Slots of the lazy-flags array. */
export const enum FS {
  Kind = 0,
  ALo = 1,
  AHi = 2,
  BLo = 3,
  BHi = 4,
  RLo = 5,
  RHi = 6,
  /** Kind-specific: carry-in for ADC/SBB, saved CF for INC/DEC, CF|OF bits for CO, the whole rflags for RAW. */
  Aux = 7,
}
export const FLAGS_SLOTS = 8;

/** What the last flag-writing instruction was. */
export const enum FK {
  /** Aux holds rflags verbatim (after setRflags). */
  Raw = 0,
  Add = 1,
  Sub = 2,
  Adc = 3,
  Sbb = 4,
  /** CF/OF given explicitly in Aux (bits 0 and 11); ZF/SF/PF from the result. Logic ops (Aux=0), shifts, imul. */
  CO = 5,
  /** inc: like Add with b=1, CF = Aux (preserved). */
  Inc = 6,
  /** dec: like Sub with b=1, CF = Aux (preserved). */
  Dec = 7,
}

export const CF = 0x1;
export const PF = 0x4;
export const AF = 0x10;
export const ZF = 0x40;
export const SF = 0x80;
export const OF = 0x800;
export const STATUS_FLAGS = CF | PF | AF | ZF | SF | OF;

/** PF bit (0x4) for each byte value: set when the number of 1 bits is even. */
export const PARITY: Uint8Array = (() => {
  const t = new Uint8Array(256);
  for (let i = 0; i < 256; i++) {
    let b = i,
      n = 0;
    while (b) {
      n += b & 1;
      b >>= 1;
    }
    t[i] = n % 2 === 0 ? PF : 0;
  }
  return t;
})();

/** a <u b for 64-bit values in int32 halves. */
function ult(alo: number, ahi: number, blo: number, bhi: number): boolean {
  return ahi === bhi ? alo >>> 0 < blo >>> 0 : ahi >>> 0 < bhi >>> 0;
}

/** Carry flag only (0 or 1): needed by inc/dec (which preserve it) and adc/sbb. */
export function carryOf(F: Int32Array): number {
  switch (F[FS.Kind]) {
    case FK.Raw:
    case FK.CO:
    case FK.Inc:
    case FK.Dec:
      return F[FS.Aux] & 1;
    case FK.Sub:
      return ult(F[FS.ALo], F[FS.AHi], F[FS.BLo], F[FS.BHi]) ? 1 : 0;
    case FK.Add:
      return ult(F[FS.RLo], F[FS.RHi], F[FS.ALo], F[FS.AHi]) ? 1 : 0;
    case FK.Adc:
      return ult(F[FS.RLo], F[FS.RHi], F[FS.ALo], F[FS.AHi]) || (F[FS.Aux] !== 0 && F[FS.RLo] === F[FS.ALo] && F[FS.RHi] === F[FS.AHi])
        ? 1
        : 0;
    case FK.Sbb:
      return ult(F[FS.ALo], F[FS.AHi], F[FS.BLo], F[FS.BHi]) || (F[FS.Aux] !== 0 && F[FS.ALo] === F[FS.BLo] && F[FS.AHi] === F[FS.BHi])
        ? 1
        : 0;
  }
  return 0;
}

/** The exact CF|PF|ZF|SF|OF bits (AF is reported as 0 except through setRflags). */
export function statusFlags(F: Int32Array): number {
  const k = F[FS.Kind];
  if (k === FK.Raw) return F[FS.Aux] & STATUS_FLAGS;
  const rlo = F[FS.RLo],
    rhi = F[FS.RHi];
  let f = PARITY[rlo & 0xff];
  if ((rlo | rhi) === 0) f |= ZF;
  if (rhi < 0) f |= SF;
  switch (k) {
    case FK.CO:
      return f | (F[FS.Aux] & (CF | OF));
    case FK.Add:
    case FK.Adc:
    case FK.Inc: {
      if (((F[FS.AHi] ^ rhi) & (F[FS.BHi] ^ rhi)) < 0) f |= OF;
      break;
    }
    case FK.Sub:
    case FK.Sbb:
    case FK.Dec: {
      if (((F[FS.AHi] ^ F[FS.BHi]) & (F[FS.AHi] ^ rhi)) < 0) f |= OF;
      break;
    }
  }
  return f | carryOf(F);
}

/**
 * Evaluate condition code `cc` (the low nibble of jcc/setcc/cmovcc: o no b ae e ne be a s ns p np l ge le g).
 * cmp/sub and logic ops (test/and/xor) are answered straight from the recorded operands; anything else
 * materializes the flags.
 */
export function cond(F: Int32Array, cc: number): boolean {
  const k = F[FS.Kind];
  if (k === FK.Sub) {
    const alo = F[FS.ALo],
      ahi = F[FS.AHi],
      blo = F[FS.BLo],
      bhi = F[FS.BHi];
    switch (cc) {
      case 4:
        return alo === blo && ahi === bhi;
      case 5:
        return alo !== blo || ahi !== bhi;
      case 12:
        return ahi === bhi ? alo >>> 0 < blo >>> 0 : ahi < bhi;
      case 13:
        return !(ahi === bhi ? alo >>> 0 < blo >>> 0 : ahi < bhi);
      case 14:
        return ahi === bhi ? alo >>> 0 <= blo >>> 0 : ahi < bhi;
      case 15:
        return !(ahi === bhi ? alo >>> 0 <= blo >>> 0 : ahi < bhi);
      case 2:
        return ahi === bhi ? alo >>> 0 < blo >>> 0 : ahi >>> 0 < bhi >>> 0;
      case 3:
        return !(ahi === bhi ? alo >>> 0 < blo >>> 0 : ahi >>> 0 < bhi >>> 0);
      case 6:
        return ahi === bhi ? alo >>> 0 <= blo >>> 0 : ahi >>> 0 < bhi >>> 0;
      case 7:
        return !(ahi === bhi ? alo >>> 0 <= blo >>> 0 : ahi >>> 0 < bhi >>> 0);
    }
  } else if (k === FK.CO && F[FS.Aux] === 0) {
    // logic ops: CF = OF = 0
    const rlo = F[FS.RLo],
      rhi = F[FS.RHi];
    switch (cc) {
      case 4:
        return (rlo | rhi) === 0;
      case 5:
        return (rlo | rhi) !== 0;
      case 8:
      case 12:
        return rhi < 0;
      case 9:
      case 13:
        return rhi >= 0;
      case 14:
        return rhi < 0 || (rlo | rhi) === 0;
      case 15:
        return rhi >= 0 && (rlo | rhi) !== 0;
    }
  }
  return condOfFlags(statusFlags(F), cc);
}

export function condOfFlags(f: number, cc: number): boolean {
  let r: boolean;
  switch (cc >> 1) {
    case 0:
      r = (f & OF) !== 0;
      break;
    case 1:
      r = (f & CF) !== 0;
      break;
    case 2:
      r = (f & ZF) !== 0;
      break;
    case 3:
      r = (f & (CF | ZF)) !== 0;
      break;
    case 4:
      r = (f & SF) !== 0;
      break;
    case 5:
      r = (f & PF) !== 0;
      break;
    case 6:
      r = ((f & SF) !== 0) !== ((f & OF) !== 0);
      break;
    default:
      r = (f & ZF) !== 0 || ((f & SF) !== 0) !== ((f & OF) !== 0);
      break;
  }
  return (cc & 1) !== 0 ? !r : r;
}

// ======================================================================== ALU on 32-bit halves
/*
 * 64-bit arithmetic on (lo, hi) int32 halves, writing results and lazy flags into the flags array `F`
 * (see flags.ts). Operands passed in are already SIGN-EXTENDED from the operand size to 64 bits; results are
 * normalized the same way (so a 32-bit result has hi = lo >> 31). Callers write back F[RLo]/F[RHi] with the
 * size's register-write rule (32-bit zero-extends, 8/16-bit merge).
 *
 * No BigInt here except in mul/div, which are rare.
 */

/** Sign-extend the low `sz` bytes of an int32 (sz = 1, 2 or 4). */
export function sx(v: number, sz: number): number {
  return sz === 4 ? v | 0 : sz === 2 ? (v << 16) >> 16 : (v << 24) >> 24;
}

/**
 * The two-operand ALU ops (Alu ids: 0 add 1 or 2 adc 3 sbb 4 and 5 sub 6 xor 7 cmp 8 test).
 * Result in F[RLo], F[RHi].
 */
export function alu(F: Int32Array, op: number, alo: number, ahi: number, blo: number, bhi: number, sz: number): void {
  let rlo: number,
    rhi: number,
    kind: number,
    aux = 0;
  switch (op) {
    case 0: {
      const s = (alo >>> 0) + (blo >>> 0);
      rlo = s | 0;
      rhi = (ahi + bhi + (s > 4294967295 ? 1 : 0)) | 0;
      kind = FK.Add;
      break;
    }
    case 1:
      rlo = alo | blo;
      rhi = ahi | bhi;
      kind = FK.CO;
      break;
    case 2: {
      aux = carryOf(F);
      const s = (alo >>> 0) + (blo >>> 0) + aux;
      rlo = s | 0;
      rhi = (ahi + bhi + (s > 4294967295 ? 1 : 0)) | 0;
      kind = FK.Adc;
      break;
    }
    case 3: {
      aux = carryOf(F);
      const s = (alo >>> 0) - (blo >>> 0) - aux;
      rlo = s | 0;
      rhi = (ahi - bhi - (s < 0 ? 1 : 0)) | 0;
      kind = FK.Sbb;
      break;
    }
    case 4:
    case 8:
      rlo = alo & blo;
      rhi = ahi & bhi;
      kind = FK.CO;
      break;
    case 6:
      rlo = alo ^ blo;
      rhi = ahi ^ bhi;
      kind = FK.CO;
      break;
    default: {
      // 5 sub, 7 cmp
      const s = (alo >>> 0) - (blo >>> 0);
      rlo = s | 0;
      rhi = (ahi - bhi - (s < 0 ? 1 : 0)) | 0;
      kind = FK.Sub;
      break;
    }
  }
  if (sz !== 8) {
    rlo = sz === 4 ? rlo : sz === 2 ? (rlo << 16) >> 16 : (rlo << 24) >> 24;
    rhi = rlo >> 31;
  }
  F[FS.Kind] = kind;
  F[FS.ALo] = alo;
  F[FS.AHi] = ahi;
  F[FS.BLo] = blo;
  F[FS.BHi] = bhi;
  F[FS.RLo] = rlo;
  F[FS.RHi] = rhi;
  F[FS.Aux] = aux;
}

/** inc (op 0), dec (op 1), neg (op 3). Result in F[RLo]/F[RHi]. */
export function unary(F: Int32Array, op: number, lo: number, hi: number, sz: number): void {
  let rlo: number, rhi: number;
  switch (op) {
    case 0:
    case 1: {
      const cf = carryOf(F);
      if (op === 0) {
        const s = (lo >>> 0) + 1;
        rlo = s | 0;
        rhi = (hi + (s > 4294967295 ? 1 : 0)) | 0;
      } else {
        const s = (lo >>> 0) - 1;
        rlo = s | 0;
        rhi = (hi - (s < 0 ? 1 : 0)) | 0;
      }
      if (sz !== 8) {
        rlo = sx(rlo, sz);
        rhi = rlo >> 31;
      }
      F[FS.Kind] = op === 0 ? FK.Inc : FK.Dec;
      F[FS.ALo] = lo;
      F[FS.AHi] = hi;
      F[FS.BLo] = 1;
      F[FS.BHi] = 0;
      F[FS.RLo] = rlo;
      F[FS.RHi] = rhi;
      F[FS.Aux] = cf;
      return;
    }
    default: {
      // neg (op 3); `not` (op 2) writes no flags and is handled by the caller
      alu(F, 5, 0, 0, lo, hi, sz);
      return;
    }
  }
}

function bit(lo: number, hi: number, k: number): number {
  if (k < 0) return 0;
  if (k < 32) return (lo >>> k) & 1;
  if (k < 64) return (hi >>> (k - 32)) & 1;
  return hi < 0 ? 1 : 0;
}

/**
 * shl (4), shr (5), sar (7) by a count `c` already masked and non-zero. Operand (lo, hi) sign-extended from
 * sz. Flags per the SDM: CF = last bit shifted out; OF (defined for count 1, we use the same formula for all
 * counts) = MSB(result) ^ CF for shl, MSB(operand) for shr, 0 for sar.
 * rol (0), ror (1), rcl (2), rcr (3) go to rotate(): they write only CF and OF.
 */
export function shift(F: Int32Array, k: number, lo: number, hi: number, c: number, sz: number): void {
  if (k < 4) {
    rotate(F, k, lo, hi, c, sz);
    return;
  }
  const w = sz * 8;
  const msb = hi < 0 ? 1 : 0;
  let rlo: number, rhi: number, cf: number;
  if (k === 4) {
    if (c < 32) {
      rhi = (hi << c) | (lo >>> (32 - c));
      rlo = lo << c;
    } else {
      rhi = lo << (c - 32);
      rlo = 0;
    }
    cf = bit(lo, hi, w - c);
  } else {
    if (k === 5 && sz !== 8) {
      // logical shift: the operand zero-extended from sz
      if (sz === 4) hi = 0;
      else {
        lo &= sz === 2 ? 0xffff : 0xff;
        hi = 0;
      }
    }
    if (c < 32) {
      rlo = (lo >>> c) | (hi << (32 - c));
      rhi = k === 7 ? hi >> c : hi >>> c;
    } else {
      rlo = k === 7 ? hi >> (c - 32) : hi >>> (c - 32);
      rhi = k === 7 ? hi >> 31 : 0;
    }
    cf = bit(lo, hi, c - 1);
  }
  if (sz !== 8) {
    rlo = sx(rlo, sz);
    rhi = rlo >> 31;
  }
  const of = k === 4 ? (rhi < 0 ? 1 : 0) ^ cf : k === 5 ? msb : 0;
  F[FS.Kind] = FK.CO;
  F[FS.RLo] = rlo;
  F[FS.RHi] = rhi;
  F[FS.Aux] = cf | (of ? OF : 0);
}

/**
 * Replace CF and OF, keep ZF/SF/PF (and AF) as the last instruction left them: rotates and bt* write only
 * some flags, so the record becomes a Raw one (the rare path: materialised once).
 */
export function setCarryOverflow(F: Int32Array, cf: number, of: number): void {
  const f = (statusFlags(F) & ~(CF | OF)) | cf | (of !== 0 ? OF : 0);
  F[FS.Kind] = FK.Raw;
  F[FS.Aux] = f;
}

/**
 * rol/ror/rcl/rcr by a count already masked to 5 (6 for 64-bit) bits and non-zero. Result (sign-extended
 * from sz) in F[RLo]/F[RHi]; CF/OF per the SDM (OF as for a count of 1 whatever the count), other flags kept.
 */
export function rotate(F: Int32Array, k: number, lo: number, hi: number, c: number, sz: number): void {
  const w = sz * 8;
  let rlo: number, rhi: number, cf: number, of: number;
  if (k >= 2) {
    // through the carry: a (w+1)-bit rotation (rare: gcc does not emit it for C)
    const cin = BigInt(carryOf(F));
    const n = BigInt(c % (w + 1));
    const W = BigInt(w);
    const m = (1n << W) - 1n;
    const v = (BigInt.asUintN(64, joinBig(lo, hi)) & m) | (cin << W);
    const all = (1n << (W + 1n)) - 1n;
    const r = k === 2 ? ((v << n) | (v >> (W + 1n - n))) & all : ((v >> n) | (v << (W + 1n - n))) & all;
    const res = BigInt.asIntN(w, r & m);
    [rlo, rhi] = splitBig(res);
    cf = Number(r >> W) & 1;
    const msb = rhi < 0 ? 1 : 0;
    of = k === 2 ? msb ^ cf : msb ^ bit(rlo, rhi, w - 2);
    F[FS.RLo] = rlo;
    F[FS.RHi] = rhi;
    setCarryOverflow(F, cf, of);
    F[FS.RLo] = rlo;
    F[FS.RHi] = rhi;
    return;
  }
  const n = k === 0 ? c % w : (w - (c % w)) % w; // ror n = rol (w - n)
  if (sz === 8) {
    let l = lo,
      h = hi;
    let m = n;
    if (m >= 32) {
      const t = l;
      l = h;
      h = t;
      m -= 32;
    }
    if (m !== 0) {
      const nl = (l << m) | (h >>> (32 - m));
      h = (h << m) | (l >>> (32 - m));
      l = nl;
    }
    rlo = l;
    rhi = h;
  } else {
    const mask = w === 32 ? -1 : (1 << w) - 1;
    const u = lo & mask;
    const r = n === 0 ? u : ((u << n) | (u >>> (w - n))) & mask;
    rlo = sx(r, sz);
    rhi = rlo >> 31;
  }
  const msb = rhi < 0 ? 1 : 0;
  if (k === 0) {
    cf = rlo & 1;
    of = msb ^ cf;
  } else {
    cf = msb;
    of = msb ^ bit(rlo, rhi, w - 2);
  }
  setCarryOverflow(F, cf, of);
  F[FS.RLo] = rlo;
  F[FS.RHi] = rhi;
}

const TWO32 = 4294967296;

/** Two/three-operand imul: truncated product in F[RLo]/F[RHi]; CF = OF = the product did not fit. */
export function imul(F: Int32Array, alo: number, ahi: number, blo: number, bhi: number, sz: number): void {
  let rlo: number, rhi: number, ovf: boolean;
  if (sz === 8) {
    const p = alo * blo;
    if (ahi === alo >> 31 && bhi === blo >> 31 && p < 9007199254740992 && p > -9007199254740992) {
      rlo = p | 0;
      rhi = Math.floor(p / TWO32) | 0;
      ovf = false;
    } else {
      const a = (BigInt(ahi) << 32n) | BigInt(alo >>> 0);
      const b = (BigInt(bhi) << 32n) | BigInt(blo >>> 0);
      const full = a * b;
      const t = BigInt.asIntN(64, full);
      rlo = Number(BigInt.asIntN(32, t));
      rhi = Number(t >> 32n);
      ovf = t !== full;
    }
  } else {
    const p = alo * blo;
    if (sz === 4) {
      rlo = Math.imul(alo, blo);
      ovf = rlo !== p;
    } else {
      rlo = sx(p | 0, sz);
      ovf = rlo !== p;
    }
    rhi = rlo >> 31;
  }
  F[FS.Kind] = FK.CO;
  F[FS.RLo] = rlo;
  F[FS.RHi] = rhi;
  F[FS.Aux] = ovf ? CF | OF : 0;
}

/** (lo, hi) of a bigint taken mod 2^64. */
export function splitBig(v: bigint): [number, number] {
  const u = BigInt.asUintN(64, v);
  return [Number(u & 0xffffffffn) | 0, Number(u >> 32n) | 0];
}

export function joinBig(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}
