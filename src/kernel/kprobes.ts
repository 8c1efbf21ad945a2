/**
 * kprobes on ftrace sites (kernel/kprobes.c with CONFIG_KPROBES_ON_FTRACE), as the coordinator keeps them:
 * register_kprobe() / unregister_kprobe() (from C, or for a kprobe event of kprobe_events), arming and
 * disarming through ftrace, /sys/kernel/debug/kprobes/enabled.
 *
 * - arm_kprobe_ftrace(): a probe with a post_handler goes on kprobe_ipmodify_ops (SAVE_REGS | IPMODIFY),
 *   one without on kprobe_ftrace_ops (SAVE_REGS) — from 5.4 ("kprobes: Allow kprobes coexist with
 *   livepatch"); before, kprobe_ftrace_ops itself was IPMODIFY. __arm_kprobe_ftrace(): ftrace_set_filter_ip()
 *   adds the address to the ops' filter (refused with -EBUSY when the ops is registered and another
 *   modifier is on the function), then the first probe registers the ops (refused with -EBUSY when a
 *   modifier — a live patch — is already there; the filter entry is taken back).
 * - Only function entries (ftrace sites) can be probed here: klpsim has no int3-based kprobes. A second
 *   probe on a probed address (the kernel's aggregated probes) is refused with -EBUSY and a klpsim line.
 *
 * Shared memory: the probe's slot in the kprobe table (src/mem/ftrace-users.ts) is written by this class
 * only, handler words first and the address last (publication), before the site is armed; it is cleared
 * after disarming, which waits for a grace period (unregister_ftrace_function()).
 */
import { KsymKind } from '../mem/kallsyms';
import type { Kallsyms } from '../mem/kallsyms';
import { FTRACE_USER_KPROBE, FTRACE_USER_KPROBE_IPMODIFY, KPROBE_SLOTS, KprobeWord } from '../mem/ftrace-users';
import type { EventBody } from './events';
import { FTRACE_OPS_FL_IPMODIFY, FtraceCore, FtraceOpsRef } from './ftrace-ops';
import type { KernelVersion } from './kernel-version';
import { AsyncMutex } from '../util/async-mutex';

const EINVAL = -22;
const ENOENT = -2;
const EBUSY = -16;
const ENOSPC = -28;

export interface KprobeSpec {
  /** kp->symbol_name (or the function at kp->addr). */
  symbol: string;
  /** struct kprobe * in the module's memory (0 for a kprobe event). */
  kp: number;
  pre: number;
  post: number;
  /** A kprobe event (trace_kprobe): registered disabled, armed by its `enable` file. */
  event?: string;
}

export interface Kprobe extends KprobeSpec {
  addr: number;
  slot: number;
  /** On an ftrace ops now (armed). */
  armed: boolean;
  ipmodify: boolean;
  /** KPROBE_FLAG_DISABLED: a kprobe event that is not enabled. */
  disabled: boolean;
}

export interface KprobesEnv {
  readonly kallsyms: Kallsyms;
  readonly version: KernelVersion;
  log(text: string): void;
  emit(ev: EventBody): void;
}

export class Kprobes {
  /** kprobe_table: registered probes by address. */
  private readonly probes = new Map<number, Kprobe>();
  private readonly ftraceOps: FtraceOpsRef;
  private readonly ipmodifyOps: FtraceOpsRef;
  /** kprobe_ftrace_enabled / kprobe_ipmodify_enabled: probes armed on each ops. */
  private readonly cnt = new Map<FtraceOpsRef, number>();
  /** The ops each armed probe is on. */
  private readonly armedOn = new Map<Kprobe, FtraceOpsRef>();
  /** kprobes_all_disarmed (/sys/kernel/debug/kprobes/enabled is 0). */
  allDisarmed = false;
  private readonly kprobeMutex = new AsyncMutex();

  constructor(
    private readonly ftrace: FtraceCore,
    private readonly env: KprobesEnv,
  ) {
    const legacy = !env.version.hasKprobeIpmodifyOps;
    this.ftraceOps = {
      owner: 'kprobe_ftrace_ops',
      flags: legacy ? FTRACE_OPS_FL_IPMODIFY : 0,
      user: FTRACE_USER_KPROBE,
      filter: new Set(),
    };
    this.ipmodifyOps = {
      owner: 'kprobe_ipmodify_ops',
      flags: FTRACE_OPS_FL_IPMODIFY,
      user: FTRACE_USER_KPROBE_IPMODIFY,
      filter: new Set(),
    };
  }

  /** mutex_lock(&kprobe_mutex). */
  private locked<T>(fn: () => Promise<T>): Promise<T> {
    return this.kprobeMutex.run(fn);
  }

  all(): readonly Kprobe[] {
    return [...this.probes.values()];
  }

  byEvent(name: string): Kprobe | undefined {
    return this.all().find((p) => p.event === name);
  }

  byStruct(kp: number): Kprobe | undefined {
    return kp === 0 ? undefined : this.all().find((p) => p.kp === kp);
  }

  /** register_kprobe(): 0 or a negative errno. */
  register(spec: KprobeSpec): Promise<number> {
    return this.locked(async () => {
      const sym = this.env.kallsyms.lookup(spec.symbol);
      // kprobe_lookup_name() found nothing: _kprobe_addr() fails with -ENOENT.
      if (!sym) return ENOENT;
      if (sym.kind !== KsymKind.Func) {
        this.env.log(`klpsim: kprobes need an ftrace site (a traceable function's entry); ${spec.symbol} has none`);
        return EINVAL;
      }
      if (this.probes.has(sym.addr)) {
        this.env.log(`klpsim: ${spec.symbol} is already probed; klpsim has no aggregated kprobes`);
        return EBUSY;
      }
      const slot = this.freeSlot();
      if (slot < 0) return ENOSPC;
      const p: Kprobe = {
        ...spec,
        addr: sym.addr,
        slot,
        armed: false,
        ipmodify: false,
        disabled: spec.event !== undefined,
      };
      this.publish(p);
      this.probes.set(p.addr, p);
      let ret = 0;
      if (!this.allDisarmed && !p.disabled) ret = await this.arm(p);
      if (ret) {
        this.probes.delete(p.addr);
        this.clearSlot(p.slot);
      }
      this.env.emit({ type: 'kprobe.register', symbol: spec.symbol, addr: p.addr, ipmodify: p.ipmodify, ret });
      return ret;
    });
  }

  /** unregister_kprobe(). */
  unregister(p: Kprobe): Promise<void> {
    return this.locked(async () => {
      if (this.probes.get(p.addr) !== p) return;
      if (p.armed) await this.disarm(p);
      this.probes.delete(p.addr);
      this.clearSlot(p.slot);
      this.env.emit({ type: 'kprobe.unregister', symbol: p.symbol, addr: p.addr });
    });
  }

  /** enable_kprobe() / disable_kprobe() (a kprobe event's `enable` file): 0 or a negative errno. */
  setEnabled(p: Kprobe, enable: boolean): Promise<number> {
    return this.locked(async () => {
      if (enable === !p.disabled) return 0;
      if (enable) {
        const ret = !this.allDisarmed ? await this.arm(p) : 0;
        if (ret) return ret;
        p.disabled = false;
      } else {
        if (p.armed) await this.disarm(p);
        p.disabled = true;
      }
      this.publish(p);
      return 0;
    });
  }

  /** arm_all_kprobes() / disarm_all_kprobes(): /sys/kernel/debug/kprobes/enabled. */
  setAllArmed(arm: boolean): Promise<number> {
    return this.locked(async () => {
      if (arm === !this.allDisarmed) return 0;
      this.allDisarmed = !arm;
      let ret = 0;
      for (const p of this.probes.values()) {
        if (p.disabled) continue;
        if (arm && !p.armed) ret = (await this.arm(p)) || ret;
        if (!arm && p.armed) await this.disarm(p);
      }
      return ret;
    });
  }

  private where(p: Kprobe): string {
    return this.env.kallsyms.format(p.addr);
  }

  private warn(text: string): void {
    if (!this.env.version.warnsKprobeFtraceArm) return;
    this.env.log('------------[ cut here ]------------');
    this.env.log(text);
  }

  /** arm_kprobe_ftrace() -> __arm_kprobe_ftrace(). */
  private async arm(p: Kprobe): Promise<number> {
    // Before 5.4 kprobe_ftrace_ops is itself IPMODIFY and takes every probe.
    const ops = p.post !== 0 && this.env.version.hasKprobeIpmodifyOps ? this.ipmodifyOps : this.ftraceOps;
    const filter = new Set(ops.filter ?? []);
    filter.add(p.addr);
    let ret = await this.ftrace.setFilter(ops, filter);
    if (ret < 0) {
      this.warn(`Failed to arm kprobe-ftrace at ${this.where(p)} (error ${ret})`);
      return ret;
    }
    const n = this.cnt.get(ops) ?? 0;
    if (n === 0) {
      ret = await this.ftrace.register(ops);
      if (ret < 0) {
        this.warn(`Failed to register kprobe-ftrace (error ${ret})`);
        filter.delete(p.addr);
        await this.ftrace.setFilter(ops, filter);
        return ret;
      }
    }
    this.cnt.set(ops, n + 1);
    this.armedOn.set(p, ops);
    p.armed = true;
    p.ipmodify = ops.flags & FTRACE_OPS_FL_IPMODIFY ? true : false;
    return 0;
  }

  /** disarm_kprobe_ftrace(): the last probe unregisters the ops (a grace period), then the filter entry goes. */
  private async disarm(p: Kprobe): Promise<void> {
    const ops = this.armedOn.get(p) ?? this.ftraceOps;
    this.armedOn.delete(p);
    const n = this.cnt.get(ops) ?? 0;
    if (n === 1) await this.ftrace.unregister(ops);
    this.cnt.set(ops, Math.max(0, n - 1));
    const filter = new Set(ops.filter ?? []);
    filter.delete(p.addr);
    await this.ftrace.setFilter(ops, filter);
    p.armed = false;
  }

  private freeSlot(): number {
    const used = new Set(this.all().map((p) => p.slot));
    for (let s = 0; s < KPROBE_SLOTS; s++) if (!used.has(s)) return s;
    return -1;
  }

  /** The probe's slot, handlers first and the address last (get_kprobe() finds it complete). */
  private publish(p: Kprobe): void {
    const u = this.ftrace.users;
    u.setKprobe(p.slot, KprobeWord.Kp, p.kp);
    u.setKprobe(p.slot, KprobeWord.Pre, p.pre);
    u.setKprobe(p.slot, KprobeWord.Post, p.post);
    u.setKprobe(p.slot, KprobeWord.TraceEvent, p.event !== undefined ? 1 : 0);
    u.setKprobe(p.slot, KprobeWord.Disabled, p.disabled ? 1 : 0);
    u.setKprobe(p.slot, KprobeWord.Addr, p.addr);
  }

  private clearSlot(slot: number): void {
    const u = this.ftrace.users;
    u.setKprobe(slot, KprobeWord.Addr, 0);
    u.setKprobe(slot, KprobeWord.Hits, 0);
  }

  /** Hits of a probe (kprobe_profile's count). */
  hits(p: Kprobe): number {
    return this.ftrace.users.kprobe(p.slot, KprobeWord.Hits);
  }
}
