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
  SetccR = 44,
  CmovR = 46,
}

export interface BlockEnv {
  R: Int32Array;
  F: Int32Array;
  m32: Int32Array;
  m8: Uint8Array;
  perms: Uint8Array;
  /** scratch: S[0], S[1] = ret target; S[2] = whole iterations a looping block ran before the last */
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
    case Op.SetccR:
      return ins.alu !== 10 && ins.alu !== 11 ? 1 : 0; // setp/setnp need PF: the interpreter's
    case Op.CmovR:
      return wide && ins.alu !== 10 && ins.alu !== 11 ? 1 : 0;
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

const FACTORIES = new Map<string, (...a: unknown[]) => (left: number) => number>();

class Gen {
  out: string[] = [];
  used = new Set<number>();
  dirty = new Set<number>();
  fl: FlagState | null = null;
  j = 0;
  /** a flag condition was read from the flags the block was entered with (F): the block cannot loop */
  readsEntryFlags = false;
  /** inc/dec read the entry CF: a looping block carries it in `cf0` from one iteration to the next */
  usesEntryCarry = false;
  /** the block ends in a branch back to its own first instruction: it loops inside its function */
  loop = false;
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
    return s + this.flagWriteback();
  }
  flagWriteback(): string {
    const f = this.fl;
    if (f === null) return '';
    if (f.k === 5) return `F[0]=5;F[5]=${f.rl};F[6]=${f.rh};F[7]=${f.ax};`;
    return `F[0]=${f.k};F[1]=${f.al};F[2]=${f.ah};F[3]=${f.bl};F[4]=${f.bh};F[5]=${f.rl};F[6]=${f.rh};F[7]=${f.ax};`;
  }
  bail(): string {
    return `{${this.writeback()}${this.loop ? 'S[2]=it;' : ''}return ${-1 - this.j};}`;
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
    if (f === null) {
      this.readsEntryFlags = true;
      return `cond(F,${cc})`;
    }
    const { al, ah, bl, bh, rl, rh } = f;
    if (f.k === 2 || (f.k === 7 && cc !== 2 && cc !== 3 && cc !== 6 && cc !== 7)) {
      // sub/cmp, and dec (= sub 1 but for CF): compare the operands themselves
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
        case 8:
          return `(${rh}<0)`;
        case 9:
          return `(${rh}>=0)`;
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
    }
    // ZF, SF, OF and CF as expressions of the record's consts, for add/inc/dec and the CO kinds
    const zf = `((${rl}|${rh})===0)`;
    const sf = `(${rh}<0)`;
    let of: string, cf: string;
    switch (f.k) {
      case 1:
      case 6:
        of = `(((${ah}^${rh})&(${bh}^${rh}))<0)`;
        cf = f.k === 1 ? `(${rh}===${ah}?(${rl}>>>0)<(${al}>>>0):(${rh}>>>0)<(${ah}>>>0))` : `((${f.ax})!==0)`;
        break;
      case 7:
        of = `(((${ah}^${bh})&(${ah}^${rh}))<0)`;
        cf = `((${f.ax})!==0)`;
        break;
      case 5:
        of = f.ax === '0' ? 'false' : `((${f.ax}&2048)!==0)`;
        cf = f.ax === '0' ? 'false' : `((${f.ax}&1)!==0)`;
        break;
      default:
        return `condL(${cc},${this.flagArgs()})`;
    }
    switch (cc) {
      case 0:
        return of;
      case 1:
        return `!${of}`;
      case 2:
        return cf;
      case 3:
        return `!${cf}`;
      case 4:
        return zf;
      case 5:
        return `!${zf}`;
      case 6:
        return `(${cf}||${zf})`;
      case 7:
        return `!(${cf}||${zf})`;
      case 8:
        return sf;
      case 9:
        return `!${sf}`;
      case 12:
        return `(${sf}!==${of})`;
      case 13:
        return `(${sf}===${of})`;
      case 14:
        return `(${zf}||${sf}!==${of})`;
      case 15:
        return `!(${zf}||${sf}!==${of})`;
    }
    return `condL(${cc},${this.flagArgs()})`;
  }
  carryExpr(): string {
    const f = this.fl;
    if (f === null) {
      this.usesEntryCarry = true;
      return 'cf0';
    }
    if (f.k === 5 || f.k === 6 || f.k === 7) return `((${f.ax})&1)`;
    if (f.k === 1) return `(${f.rh}===${f.ah}?(${f.rl}>>>0)<(${f.al}>>>0):(${f.rh}>>>0)<(${f.ah}>>>0))?1:0`;
    if (f.k === 2) return `(${f.ah}===${f.bh}?(${f.al}>>>0)<(${f.bl}>>>0):(${f.ah}>>>0)<(${f.bh}>>>0))?1:0`;
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
    this.emit(`${this.writeback()}${this.loop ? 'S[2]=it;' : ''}return ${code};`);
  }
  /**
   * The branch back to the block's head of a looping block: go round again, registers and flags staying in
   * locals, while the budget holds another whole iteration. The CF that inc/dec keep goes round in cf0.
   */
  backEdge(taken: string): void {
    // The next iteration starts with these flags: F gets them (an exit of that iteration before its first
    // flag write reports them), and so does cf0. Registers need nothing: every register the body writes
    // is in `dirty` from its first instruction on (generate() runs twice), so any exit writes them all.
    const carry = this.usesEntryCarry ? `cf0=${this.carryExpr()};` : '';
    this.emit(`if(${taken}&&(it+2)*${this.n}<=left){it++;${this.flagWriteback()}${carry}continue;}`);
  }
  /** instructions in the block (a looping block's iteration) */
  n = 0;

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
        this.emit(`const ${cf}=(${this.carryExpr()});`);
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
        if (sz === 4) {
          // 32-bit shifts by a constant inline (gcc's bit fiddling): CF the last bit out, OF as for a count
          // of 1 (shl: MSB ^ CF, shr: the operand's MSB, sar: 0), as flags.ts shift() records them
          const v = this.L(d);
          const k = ins.alu;
          const res = k === 4 ? `${v}<<${c}` : k === 5 ? `(${v}>>>${c})|0` : `${v}>>${c}`;
          const cf = k === 4 ? `(${v}>>>${32 - c})&1` : `(${v}>>>${c - 1})&1`;
          const of = k === 4 ? `((${rl}>>>31)^(${cf}))*2048` : k === 5 ? `(${v}>>>31)*2048` : '0';
          this.emit(`const ${rl}=${res},${rh}=${rl}>>31,${ax}=(${cf})|${of};`);
          this.fl = { k: 5, al: '0', ah: '0', bl: '0', bh: '0', rl, rh, ax };
          this.set(d, rl, '0');
          return;
        }
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
      case Op.SetccR: {
        // a byte register: merge into bits 0-7 (or 8-15 for ah..bh), the rest of the register kept
        const v = `s${j}`;
        this.emit(`const ${v}=${this.condExpr(ins.alu)}?1:0;`);
        if (ins.r >= 16) this.set(ins.r - 16, `(${this.L(ins.r - 16)}&-65281)|(${v}<<8)`, this.H(ins.r - 16));
        else this.set(ins.r, `(${this.L(ins.r)}&-256)|${v}`, this.H(ins.r));
        return;
      }
      case Op.CmovR: {
        // a 32-bit cmov writes (zero-extends) its destination whether or not it moves
        const c = `s${j}`;
        this.emit(`const ${c}=${this.condExpr(ins.alu)};`);
        const lo = `(${c}?${this.L(ins.rm)}:${this.L(ins.r)})`;
        this.set(ins.r, lo, sz === 8 ? `(${c}?${this.H(ins.rm)}:${this.H(ins.r)})` : '0');
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
        if (this.loop) this.backEdge('true');
        this.exit('1');
        return;
      case Op.Jcc: {
        this.emit(`const b${j}=${this.condExpr(ins.alu)};`);
        if (this.loop) this.backEdge(`b${j}`);
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
  const last = insns[insns.length - 1];
  // A block whose last jcc/jmp goes back to its first instruction (a `dec ecx; jnz` spin loop, a counted
  // loop) runs its iterations inside the function: no dispatch and no flags written to F per iteration.
  // It can only do so when nothing reads the flags it was entered with except the CF that inc/dec keep.
  const loops = (last.op === Op.Jcc || last.op === Op.Jmp) && last.tgt === insns[0].addr;
  let g = generate(insns, env, loops);
  if (loops && g.readsEntryFlags) g = generate(insns, env, false);
  let head = '';
  for (const r of [...g.used].sort((x, y) => x - y)) head += `let l${r}=R[${r << 1}],h${r}=R[${(r << 1) + 1}];`;
  let body = g.out.join('');
  if (g.usesEntryCarry) head += 'let cf0=carryOf(F);';
  if (g.loop) body = `let it=0;for(;;){${body}}`;
  const src = `"use strict";return function blk(left){${head}${body}};`;
  let factory = FACTORIES.get(src);
  if (factory === undefined) {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    factory = new Function('R', 'F', 'm32', 'm8', 'perms', 'S', 'F2', 'cond', 'carryOf', 'condL', 'cfL', 'imul', 'shift', src) as (
      ...a: unknown[]
    ) => (left: number) => number;
    FACTORIES.set(src, factory);
  }
  const fn = factory(env.R, env.F, env.m32, env.m8, env.perms, env.S, F2, cond, carryOf, condL, cfL, imul, shift);
  return { fn, len: insns.length, insns, last, loop: g.loop };
}

function generate(insns: Insn[], env: BlockEnv, loop: boolean): Gen {
  let g = new Gen(env.memLen);
  if (loop) {
    // first pass: which registers the body writes, so that every exit, in any iteration, writes them back
    const first = generateWith(g, insns, true);
    g = new Gen(env.memLen);
    for (const r of first.dirty) {
      g.dirty.add(r);
      g.used.add(r);
    }
  }
  return generateWith(g, insns, loop);
}

function generateWith(g: Gen, insns: Insn[], loop: boolean): Gen {
  g.loop = loop;
  g.n = insns.length;
  for (let j = 0; j < insns.length; j++) {
    g.j = j;
    g.insn(insns[j]);
  }
  if (compilable(insns[insns.length - 1]) !== 2) {
    g.j = insns.length;
    g.exit('0');
  }
  return g;
}
