/**
 * Block compiler: turns a hot run of decoded instructions (straight-line code up to and including a
 * jmp/jcc/call/ret, or up to the first instruction it does not handle) into one JS function made with
 * `new Function`, so the per-instruction switch dispatch, record loads and register-array traffic disappear.
 *
 * Contract with interpreter.ts:
 *  - The guest registers used by the block live in JS locals (l<r>, h<r> = int32 halves) from block entry to
 *    exit; the lazy-flags record of the last flag-writing instruction lives in per-instruction consts and is
 *    stored into F only at exits.
 *  - The function returns 0 (continue at last.next), 1 (continue at last.tnext: taken jcc, jmp, call) or
 *    2 (ret: target in S[0], S[1]) after executing ALL `len` instructions; or -1-k when instruction k cannot
 *    take the inline fast path (a memory access that is unaligned, outside memory, without permission, with a
 *    64-bit address...). Every check of instruction k happens before any of its effects, so on -1-k the
 *    state written back is exactly the state after instructions 0..k-1, and the interpreter executes
 *    instruction k itself (which faults precisely, or takes its slow path).
 *  - The interpreter runs a block only when the remaining budget covers all of it.
 *  - Blocks never contain Native/Site/Int3/Fault/Hlt records (they are not handled), so the host exits
 *    are untouched. Blocks hang off cached records, so flushICache() drops them with the records.
 */

import type { Block, Insn } from './decoder';
import { carryOf, cond, imul, shift } from './flags';

const enum Op {
  Nop = 0,
  MovRR64 = 6,
  MovRR32 = 7,
  MovRI = 8,
  MovX = 9,
  Load = 10,
  Store = 11,
  StoreI = 12,
  Lea = 14,
  AluRR = 15,
  AluRI = 16,
  AluRM = 17,
  AluMR = 18,
  AluMI = 19,
  PushR = 20,
  PopR = 21,
  PushI = 22,
  Jmp = 25,
  Jcc = 26,
  Call = 27,
  Ret = 32,
  Leave = 33,
  UnR = 34,
  ShR = 36,
  ImulR = 38,
  Cdqe = 40,
  Cqo = 41,
}

export interface BlockEnv {
  R: Int32Array;
  F: Int32Array;
  m32: Int32Array;
  m8: Uint8Array;
  perms: Uint8Array;
  /** scratch: S[0], S[1] = ret target */
  S: Int32Array;
  memLen: number;
}

/** 0: not handled, 1: handled, 2: handled and ends the block. */
export function compilable(ins: Insn): number {
  const sz = ins.sz;
  const wide = sz === 4 || sz === 8;
  switch (ins.op) {
    case Op.Nop:
    case Op.MovRR64:
    case Op.MovRR32:
    case Op.MovRI:
    case Op.PushR:
    case Op.PopR:
    case Op.PushI:
    case Op.Leave:
      return 1;
    case Op.MovX:
      return ins.dsz >= 4 ? 1 : 0;
    case Op.Load:
      return ins.dsz >= 4 ? 1 : 0;
    case Op.Store:
    case Op.StoreI:
      return 1;
    case Op.Lea:
      return ins.dsz >= 4 ? 1 : 0;
    case Op.AluRR:
    case Op.AluRI:
    case Op.AluRM:
    case Op.AluMR:
    case Op.AluMI:
      return wide && ins.alu !== 2 && ins.alu !== 3 ? 1 : 0;
    case Op.UnR:
      return wide ? 1 : 0;
    case Op.ShR:
      return wide && ins.ext === 0 && (ins.alu === 4 || ins.alu === 5 || ins.alu === 7) ? 1 : 0;
    case Op.ImulR:
      return wide ? 1 : 0;
    case Op.Cdqe:
    case Op.Cqo:
      return wide ? 1 : 0;
    case Op.Jmp:
    case Op.Jcc:
    case Op.Call:
    case Op.Ret:
      return 2;
  }
  return 0;
}

// ---- helpers the generated code calls for the rare flag questions
const F2 = new Int32Array(8);
function fill(k: number, al: number, ah: number, bl: number, bh: number, rl: number, rh: number, ax: number): Int32Array {
  F2[0] = k;
  F2[1] = al;
  F2[2] = ah;
  F2[3] = bl;
  F2[4] = bh;
  F2[5] = rl;
  F2[6] = rh;
  F2[7] = ax;
  return F2;
}
function condL(cc: number, k: number, al: number, ah: number, bl: number, bh: number, rl: number, rh: number, ax: number): boolean {
  return cond(fill(k, al, ah, bl, bh, rl, rh, ax), cc);
}
function cfL(k: number, al: number, ah: number, bl: number, bh: number, rl: number, rh: number, ax: number): number {
  return carryOf(fill(k, al, ah, bl, bh, rl, rh, ax));
}

interface FlagState {
  k: number;
  al: string;
  ah: string;
  bl: string;
  bh: string;
  rl: string;
  rh: string;
  ax: string;
}

const FACTORIES = new Map<string, (...a: unknown[]) => () => number>();

class Gen {
  out: string[] = [];
  used = new Set<number>();
  dirty = new Set<number>();
  fl: FlagState | null = null;
  j = 0;
  constructor(readonly memLen: number) {}

  L(r: number): string {
    this.used.add(r);
    return `l${r}`;
  }
  H(r: number): string {
    this.used.add(r);
    return `h${r}`;
  }
  emit(s: string): void {
    this.out.push(s);
  }
  set(r: number, lo: string, hi: string): void {
    this.used.add(r);
    this.dirty.add(r);
    this.emit(`l${r}=${lo};h${r}=${hi};`);
  }
  /** sign-extended low sz bytes of register code r (byte codes 16..19 = ah..bh) */
  srcS(r: number, sz: number): string {
    if (sz >= 4) return this.L(r);
    if (sz === 2) return `(${this.L(r)}<<16>>16)`;
    if (r < 16) return `(${this.L(r)}<<24>>24)`;
    return `(${this.L(r - 16)}<<16>>24)`;
  }
  writeback(): string {
    let s = '';
    for (const r of this.dirty) s += `R[${r << 1}]=l${r};R[${(r << 1) + 1}]=h${r};`;
    const f = this.fl;
    if (f !== null) {
      if (f.k === 5) s += `F[0]=5;F[5]=${f.rl};F[6]=${f.rh};F[7]=${f.ax};`;
      else s += `F[0]=${f.k};F[1]=${f.al};F[2]=${f.ah};F[3]=${f.bl};F[4]=${f.bh};F[5]=${f.rl};F[6]=${f.rh};F[7]=${f.ax};`;
    }
    return s;
  }
  bail(): string {
    return `{${this.writeback()}return ${-1 - this.j};}`;
  }
  /** emit `const a<j> = EA` and the fast-path check; returns the address variable */
  ea(ins: Insn, sz: number, perm: number): string {
    const a = `a${this.j}`;
    let e = `${ins.disp}`;
    const conds: string[] = [];
    if (ins.base >= 0) {
      e += `+(${this.L(ins.base)}>>>0)`;
      conds.push(`${this.H(ins.base)}===0`);
    }
    if (ins.index >= 0) {
      e += `+(${this.L(ins.index)}>>>0)*${ins.scale}`;
      conds.push(`${this.H(ins.index)}===0`);
    }
    this.emit(`const ${a}=${e};`);
    if (sz > 1) conds.push(`(${a}&${sz - 1})===0`);
    conds.push(`${a}>=0`, `${a}+${sz}<=${this.memLen}`, `(perms[${a}>>>12]&${perm})===${perm}`);
    this.emit(`if(!(${conds.join('&&')}))${this.bail()}`);
    return a;
  }
  /** emit loads of sz bytes at address var a into consts v<j>l, v<j>h (sign-extended when sx) */
  load(a: string, sz: number, sx: boolean): [string, string] {
    const lo = `v${this.j}l`,
      hi = `v${this.j}h`;
    if (sz === 8) this.emit(`const ${lo}=m32[${a}>>>2],${hi}=m32[(${a}>>>2)+1];`);
    else if (sz === 4) this.emit(`const ${lo}=m32[${a}>>>2],${hi}=${sx ? `${lo}>>31` : '0'};`);
    else if (sz === 2)
      this.emit(sx ? `const ${lo}=(m8[${a}]|(m8[${a}+1]<<8))<<16>>16,${hi}=${lo}>>31;` : `const ${lo}=m8[${a}]|(m8[${a}+1]<<8),${hi}=0;`);
    else this.emit(sx ? `const ${lo}=m8[${a}]<<24>>24,${hi}=${lo}>>31;` : `const ${lo}=m8[${a}],${hi}=0;`);
    return [lo, hi];
  }
  store(a: string, sz: number, lo: string, hi: string): void {
    if (sz === 8) this.emit(`m32[${a}>>>2]=${lo};m32[(${a}>>>2)+1]=${hi};`);
    else if (sz === 4) this.emit(`m32[${a}>>>2]=${lo};`);
    else if (sz === 2) this.emit(`m8[${a}]=${lo};m8[${a}+1]=(${lo})>>8;`);
    else this.emit(`m8[${a}]=${lo};`);
  }
  /** two-operand ALU on sign-extended operands given as expressions; returns result consts and records flags */
  alu(op: number, sz: number, a: [string, string], b: [string, string]): [string, string] {
    const j = this.j;
    const al = `x${j}l`,
      ah = `x${j}h`,
      bl = `y${j}l`,
      bh = `y${j}h`,
      rl = `r${j}l`,
      rh = `r${j}h`;
    this.emit(`const ${al}=${a[0]},${ah}=${a[1]},${bl}=${b[0]},${bh}=${b[1]};`);
    let k: number;
    if (sz === 4) {
      let e: string;
      switch (op) {
        case 0:
          e = `(${al}+${bl})|0`;
          k = 1;
          break;
        case 1:
          e = `${al}|${bl}`;
          k = 5;
          break;
        case 4:
        case 8:
          e = `${al}&${bl}`;
          k = 5;
          break;
        case 6:
          e = `${al}^${bl}`;
          k = 5;
          break;
        default:
          e = `(${al}-${bl})|0`;
          k = 2;
          break;
      }
      this.emit(`const ${rl}=${e},${rh}=${rl}>>31;`);
    } else {
      switch (op) {
        case 0:
          this.emit(`const t${j}=(${al}>>>0)+(${bl}>>>0),${rl}=t${j}|0,${rh}=(${ah}+${bh}+(t${j}>4294967295?1:0))|0;`);
          k = 1;
          break;
        case 1:
          this.emit(`const ${rl}=${al}|${bl},${rh}=${ah}|${bh};`);
          k = 5;
          break;
        case 4:
        case 8:
          this.emit(`const ${rl}=${al}&${bl},${rh}=${ah}&${bh};`);
          k = 5;
          break;
        case 6:
          this.emit(`const ${rl}=${al}^${bl},${rh}=${ah}^${bh};`);
          k = 5;
          break;
        default:
          this.emit(`const t${j}=(${al}>>>0)-(${bl}>>>0),${rl}=t${j}|0,${rh}=(${ah}-${bh}-(t${j}<0?1:0))|0;`);
          k = 2;
          break;
      }
    }
    this.fl = k === 5 ? { k, al: '0', ah: '0', bl: '0', bh: '0', rl, rh, ax: '0' } : { k, al, ah, bl, bh, rl, rh, ax: '0' };
    return [rl, rh];
  }
  flagArgs(): string {
    const f = this.fl!;
    return `${f.k},${f.al},${f.ah},${f.bl},${f.bh},${f.rl},${f.rh},${f.ax}`;
  }
  condExpr(cc: number): string {
    const f = this.fl;
    if (f === null) return `cond(F,${cc})`;
    if (f.k === 2) {
      const { al, ah, bl, bh } = f;
      const eq = `(${al}===${bl}&&${ah}===${bh})`;
      const slt = `(${ah}===${bh}?(${al}>>>0)<(${bl}>>>0):${ah}<${bh})`;
      const sle = `(${ah}===${bh}?(${al}>>>0)<=(${bl}>>>0):${ah}<${bh})`;
      const ult = `(${ah}===${bh}?(${al}>>>0)<(${bl}>>>0):(${ah}>>>0)<(${bh}>>>0))`;
      const ule = `(${ah}===${bh}?(${al}>>>0)<=(${bl}>>>0):(${ah}>>>0)<(${bh}>>>0))`;
      switch (cc) {
        case 4:
          return eq;
        case 5:
          return `!${eq}`;
        case 12:
          return slt;
        case 13:
          return `!${slt}`;
        case 14:
          return sle;
        case 15:
          return `!${sle}`;
        case 2:
          return ult;
        case 3:
          return `!${ult}`;
        case 6:
          return ule;
        case 7:
          return `!${ule}`;
      }
    } else if (f.k === 5 && f.ax === '0') {
      const z = `((${f.rl}|${f.rh})===0)`;
      switch (cc) {
        case 4:
          return z;
        case 5:
          return `!${z}`;
        case 8:
        case 12:
          return `(${f.rh}<0)`;
        case 9:
        case 13:
          return `(${f.rh}>=0)`;
        case 14:
          return `(${f.rh}<0||${z})`;
        case 15:
          return `(${f.rh}>=0&&!${z})`;
      }
    }
    return `condL(${cc},${this.flagArgs()})`;
  }
  carryExpr(): string {
    const f = this.fl;
    if (f === null) return 'carryOf(F)';
    if (f.k === 5 || f.k === 6 || f.k === 7) return `((${f.ax})&1)`;
    return `cfL(${this.flagArgs()})`;
  }
  /** push (lo, hi); lo/hi must be consts evaluated before */
  push(lo: string, hi: string): void {
    const a = `p${this.j}`;
    this.emit(`const ${a}=(${this.L(4)}>>>0)-8;`);
    this.emit(`if(!(${this.H(4)}===0&&(${a}&7)===0&&${a}>=0&&${a}+8<=${this.memLen}&&(perms[${a}>>>12]&2)!==0))${this.bail()}`);
    this.emit(`m32[${a}>>>2]=${lo};m32[(${a}>>>2)+1]=${hi};`);
    this.set(4, a, this.H(4));
  }
  /** pop into consts; returns [lo, hi] (rsp updated) */
  pop(): [string, string] {
    const a = `p${this.j}`,
      lo = `q${this.j}l`,
      hi = `q${this.j}h`;
    this.emit(`const ${a}=${this.L(4)}>>>0;`);
    this.emit(`if(!(${this.H(4)}===0&&(${a}&7)===0&&${a}+8<=${this.memLen}&&(perms[${a}>>>12]&1)!==0))${this.bail()}`);
    this.emit(`const ${lo}=m32[${a}>>>2],${hi}=m32[(${a}>>>2)+1];`);
    this.set(4, `${a}+8`, this.H(4));
    return [lo, hi];
  }
  exit(code: string): void {
    this.emit(`${this.writeback()}return ${code};`);
  }

  insn(ins: Insn): void {
    const j = this.j,
      sz = ins.sz;
    switch (ins.op) {
      case Op.Nop:
        return;
      case Op.MovRR64: {
        const lo = `c${j}l`,
          hi = `c${j}h`;
        this.emit(`const ${lo}=${this.L(ins.rm)},${hi}=${this.H(ins.rm)};`);
        this.set(ins.r, lo, hi);
        return;
      }
      case Op.MovRR32:
        this.set(ins.r, this.L(ins.rm), '0');
        return;
      case Op.MovRI:
        this.set(ins.r, `${ins.ilo}`, `${ins.ihi}`);
        return;
      case Op.MovX: {
        const v = `c${j}`;
        this.emit(`const ${v}=${this.srcS(ins.rm, sz)};`);
        let lo: string, hi: string;
        if (ins.ext !== 0) {
          lo = v;
          hi = `${v}>>31`;
        } else {
          lo = sz === 1 ? `${v}&255` : sz === 2 ? `${v}&65535` : v;
          hi = '0';
        }
        this.set(ins.r, lo, ins.dsz === 8 ? hi : '0');
        return;
      }
      case Op.Load: {
        const a = this.ea(ins, sz, 1);
        const [lo, hi] = this.load(a, sz, ins.ext !== 0);
        this.set(ins.r, lo, ins.dsz === 8 ? hi : '0');
        return;
      }
      case Op.Store: {
        const s = ins.r;
        const lo = sz === 1 && s >= 16 ? `(${this.L(s - 16)}>>8)` : this.L(s);
        const hi = sz === 8 ? this.H(s) : '0';
        const a = this.ea(ins, sz, 2);
        this.store(a, sz, lo, hi);
        return;
      }
      case Op.StoreI: {
        const a = this.ea(ins, sz, 2);
        this.store(a, sz, `${ins.ilo}`, `${ins.ihi}`);
        return;
      }
      case Op.Lea: {
        let e = `${ins.disp}`,
          h = '0';
        if (ins.base >= 0) {
          e += `+(${this.L(ins.base)}>>>0)`;
          h = this.H(ins.base);
        }
        if (ins.index >= 0) {
          e += `+(${this.L(ins.index)}>>>0)*${ins.scale}`;
          h = `((${h}+Math.imul(${this.H(ins.index)},${ins.scale}))|0)`;
        }
        const s = `e${j}`;
        this.emit(`const ${s}=${e};`);
        if (ins.dsz === 8) {
          const hh = `g${j}`;
          this.emit(`const ${hh}=${s}>=0&&${s}<4294967296?${h}:(${h}+Math.floor(${s}/4294967296))|0;`);
          this.set(ins.r, `${s}|0`, hh);
        } else this.set(ins.r, `${s}|0`, '0');
        return;
      }
      case Op.AluRR:
      case Op.AluRI: {
        const d = ins.r;
        const a: [string, string] = sz === 8 ? [this.L(d), this.H(d)] : [this.L(d), `${this.L(d)}>>31`];
        let b: [string, string];
        if (ins.op === Op.AluRI) b = [`${ins.ilo}`, sz === 8 ? `${ins.ihi}` : `${ins.ilo >> 31}`];
        else b = sz === 8 ? [this.L(ins.rm), this.H(ins.rm)] : [this.L(ins.rm), `${this.L(ins.rm)}>>31`];
        const [rl, rh] = this.alu(ins.alu, sz, a, b);
        if (ins.alu < 7) this.set(d, rl, sz === 8 ? rh : '0');
        return;
      }
      case Op.AluRM: {
        const d = ins.r;
        const ad = this.ea(ins, sz, 1);
        const [vl, vh] = this.load(ad, sz, true);
        const a: [string, string] = sz === 8 ? [this.L(d), this.H(d)] : [this.L(d), `${this.L(d)}>>31`];
        const [rl, rh] = this.alu(ins.alu, sz, a, [vl, vh]);
        if (ins.alu < 7) this.set(d, rl, sz === 8 ? rh : '0');
        return;
      }
      case Op.AluMR:
      case Op.AluMI: {
        const op = ins.alu;
        let b: [string, string];
        if (ins.op === Op.AluMI) b = [`${ins.ilo}`, `${ins.ilo >> 31}`];
        else b = sz === 8 ? [this.L(ins.r), this.H(ins.r)] : [this.L(ins.r), `${this.L(ins.r)}>>31`];
        const ad = this.ea(ins, sz, op < 7 ? 3 : 1);
        const [vl, vh] = this.load(ad, sz, true);
        const [rl, rh] = this.alu(op, sz, [vl, vh], b);
        if (op < 7) this.store(ad, sz, rl, rh);
        return;
      }
      case Op.UnR: {
        const d = ins.r;
        const lo = `u${j}l`,
          hi = `u${j}h`,
          rl = `r${j}l`,
          rh = `r${j}h`;
        this.emit(`const ${lo}=${this.L(d)},${hi}=${sz === 8 ? this.H(d) : `${lo}>>31`};`);
        if (ins.alu === 2) {
          this.set(d, `~${lo}`, sz === 8 ? `~${hi}` : '0');
          return;
        }
        if (ins.alu === 3) {
          const [nl, nh] = this.alu(5, sz, ['0', '0'], [lo, hi]);
          this.set(d, nl, sz === 8 ? nh : '0');
          return;
        }
        const cf = `f${j}`;
        this.emit(`const ${cf}=${this.carryExpr()};`);
        const inc = ins.alu === 0;
        if (sz === 4) this.emit(`const ${rl}=(${lo}${inc ? '+' : '-'}1)|0,${rh}=${rl}>>31;`);
        else if (inc) this.emit(`const t${j}=(${lo}>>>0)+1,${rl}=t${j}|0,${rh}=(${hi}+(t${j}>4294967295?1:0))|0;`);
        else this.emit(`const t${j}=(${lo}>>>0)-1,${rl}=t${j}|0,${rh}=(${hi}-(t${j}<0?1:0))|0;`);
        this.fl = { k: inc ? 6 : 7, al: lo, ah: hi, bl: '1', bh: '0', rl, rh, ax: cf };
        this.set(d, rl, sz === 8 ? rh : '0');
        return;
      }
      case Op.ShR: {
        const d = ins.r;
        const c = ins.ilo & (sz === 8 ? 63 : 31);
        if (c === 0) {
          if (sz === 4) this.set(d, this.L(d), '0');
          return;
        }
        const rl = `r${j}l`,
          rh = `r${j}h`,
          ax = `w${j}`;
        this.emit(`shift(F2,${ins.alu},${this.L(d)},${sz === 8 ? this.H(d) : `${this.L(d)}>>31`},${c},${sz});`);
        this.emit(`const ${rl}=F2[5],${rh}=F2[6],${ax}=F2[7];`);
        this.fl = { k: 5, al: '0', ah: '0', bl: '0', bh: '0', rl, rh, ax };
        this.set(d, rl, sz === 8 ? rh : '0');
        return;
      }
      case Op.ImulR: {
        const b: [string, string] = sz === 8 ? [this.L(ins.rm), this.H(ins.rm)] : [this.L(ins.rm), `${this.L(ins.rm)}>>31`];
        const a: [string, string] =
          ins.ext !== 0
            ? [`${ins.ilo}`, `${ins.ilo >> 31}`]
            : sz === 8
              ? [this.L(ins.r), this.H(ins.r)]
              : [this.L(ins.r), `${this.L(ins.r)}>>31`];
        const rl = `r${j}l`,
          rh = `r${j}h`,
          ax = `w${j}`;
        if (sz === 4) {
          this.emit(`const x${j}=${a[0]},y${j}=${b[0]},${rl}=Math.imul(x${j},y${j}),${rh}=${rl}>>31,${ax}=${rl}!==x${j}*y${j}?2049:0;`);
        } else {
          this.emit(`imul(F2,${a[0]},${a[1]},${b[0]},${b[1]},8);`);
          this.emit(`const ${rl}=F2[5],${rh}=F2[6],${ax}=F2[7];`);
        }
        this.fl = { k: 5, al: '0', ah: '0', bl: '0', bh: '0', rl, rh, ax };
        this.set(ins.r, rl, sz === 8 ? rh : '0');
        return;
      }
      case Op.Cdqe:
        if (sz === 8) this.set(0, this.L(0), `${this.L(0)}>>31`);
        else this.set(0, `${this.L(0)}<<16>>16`, '0');
        return;
      case Op.Cqo:
        if (sz === 8) {
          this.emit(`const s${j}=${this.H(0)}>>31;`);
          this.set(2, `s${j}`, `s${j}`);
        } else this.set(2, `${this.L(0)}>>31`, '0');
        return;
      case Op.PushR: {
        const lo = `c${j}l`,
          hi = `c${j}h`;
        this.emit(`const ${lo}=${this.L(ins.r)},${hi}=${this.H(ins.r)};`);
        this.push(lo, hi);
        return;
      }
      case Op.PushI:
        this.push(`${ins.ilo}`, `${ins.ihi}`);
        return;
      case Op.PopR: {
        const [lo, hi] = this.pop();
        this.set(ins.r, lo, hi);
        return;
      }
      case Op.Leave: {
        const a = `p${j}`;
        this.emit(`const ${a}=${this.L(5)}>>>0;`);
        this.emit(`if(!(${this.H(5)}===0&&(${a}&7)===0&&${a}+8<=${this.memLen}&&(perms[${a}>>>12]&1)!==0))${this.bail()}`);
        this.emit(`const q${j}l=m32[${a}>>>2],q${j}h=m32[(${a}>>>2)+1];`);
        this.set(4, `${a}+8`, '0');
        this.set(5, `q${j}l`, `q${j}h`);
        return;
      }
      case Op.Jmp:
        this.exit('1');
        return;
      case Op.Jcc: {
        this.emit(`const b${j}=${this.condExpr(ins.alu)};`);
        this.exit(`b${j}?1:0`);
        return;
      }
      case Op.Call:
        this.push(`${ins.end | 0}`, '0');
        this.exit('1');
        return;
      case Op.Ret: {
        const [lo, hi] = this.pop();
        if (ins.ilo !== 0) this.set(4, `((${this.L(4)}>>>0)+${ins.ilo})|0`, this.H(4));
        this.emit(`S[0]=${lo};S[1]=${hi};`);
        this.exit('2');
        return;
      }
    }
    throw new Error(`block compiler: unhandled op ${ins.op}`);
  }
}

/** Compile `insns` (each accepted by compilable(); only the last may end a block). */
export function compileBlock(insns: Insn[], env: BlockEnv): Block {
  const g = new Gen(env.memLen);
  for (let j = 0; j < insns.length; j++) {
    g.j = j;
    g.insn(insns[j]);
  }
  const last = insns[insns.length - 1];
  if (compilable(last) !== 2) {
    g.j = insns.length;
    g.exit('0');
  }
  let head = '';
  for (const r of [...g.used].sort((x, y) => x - y)) head += `let l${r}=R[${r << 1}],h${r}=R[${(r << 1) + 1}];`;
  const src = `"use strict";return function blk(){${head}${g.out.join('')}};`;
  let factory = FACTORIES.get(src);
  if (factory === undefined) {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    factory = new Function('R', 'F', 'm32', 'm8', 'perms', 'S', 'F2', 'cond', 'carryOf', 'condL', 'cfL', 'imul', 'shift', src) as (
      ...a: unknown[]
    ) => () => number;
    FACTORIES.set(src, factory);
  }
  const fn = factory(env.R, env.F, env.m32, env.m8, env.perms, env.S, F2, cond, carryOf, condL, cfL, imul, shift);
  return { fn, len: insns.length, insns, last };
}
