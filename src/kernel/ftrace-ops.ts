/**
 * The machine's ftrace core as its users see it (kernel/trace/ftrace.c): registered ftrace_ops with their
 * flags and filters, what every ftrace site calls, and the `kernel.ftrace_enabled` sysctl.
 *
 * - Users: livepatch (one ops per patched function), the function tracer (trace_functions.c), kprobes on
 *   ftrace sites (kprobe_ftrace_ops, kprobe_ipmodify_ops). Each ops has a filter (ftrace_set_filter_ip():
 *   the functions it traces) or none (every traceable function: the function tracer with an empty
 *   set_ftrace_filter).
 * - What a site calls (ftrace_replace_code() / update_ftrace_function()): nothing (the 5-byte NOP) when no
 *   registered ops matches it; the one ops' own trampoline when exactly one does (x86's per-ops dynamic
 *   trampoline, klpsim's `ftrace_caller`, which calls that ops' handler only); `ftrace_ops_list_func` when
 *   several do, which tests every registered ops against the ip and calls each that matches. A change in a
 *   site's ops moves it through text_poke_bp().
 * - FTRACE_OPS_FL_IPMODIFY: the ops changes the traced function's ip (livepatch's; kprobes' with a post
 *   handler). Only one per function: __ftrace_hash_update_ipmodify() refuses a second with -EBUSY, at
 *   register_ftrace_function() — or at ftrace_set_filter_ip() when the ops is already registered.
 * - FTRACE_OPS_FL_PERMANENT (5.5, "ftrace: Introduce PERMANENT ftrace_ops flag"): __register_ftrace_function()
 *   refuses it with -EBUSY while ftrace_enabled is 0, and ftrace_enable_sysctl() refuses 0 with -EBUSY
 *   while such an ops is registered. Before 5.5 writing 0 turns every site back into a NOP
 *   (ftrace_shutdown_sysctl()), and the ops stop seeing calls until it is written 1 again.
 *
 * The coordinator is the only writer: registrations, filter changes and the sysctl run there, one at a
 * time (ftrace_lock: here a promise chain). The CPUs read the site users table (src/mem/ftrace-users.ts)
 * and the site bytes.
 */
import type { Kallsyms } from '../mem/kallsyms';
import type { KernelMemory } from '../mem/kernel-memory';
import { FtraceUsers, TraceControl } from '../mem/ftrace-users';
import { FTRACE_SITE_NOP, ftraceSiteCall } from '../x86/ftrace-site';
import type { EventBody } from './events';
import type { KernelVersion } from './kernel-version';
import { FTRACE_CALLER, FTRACE_OPS_LIST_FUNC } from './services';
import { AsyncMutex } from '../util/async-mutex';

export const FTRACE_OPS_FL_IPMODIFY = 1 << 0;
export const FTRACE_OPS_FL_PERMANENT = 1 << 1;
const EBUSY = -16;

export interface FtraceOpsRef {
  /** Who registered it, for events ("livepatch:cmdline_proc_show", "function", "kprobe_ipmodify_ops"). */
  readonly owner: string;
  readonly flags: number;
  /** Its bit in the site users table (FTRACE_USER_*): what the CPU's trampoline calls for it. */
  readonly user: number;
  /** The functions it traces (ftrace_set_filter_ip()), or null: every traceable function. */
  filter: ReadonlySet<number> | null;
}

/** What the core needs from the machine (the coordinator's Machine). */
export interface FtraceEnv {
  readonly km: KernelMemory;
  readonly kallsyms: Kallsyms;
  readonly version: KernelVersion;
  textPoke(addr: number, bytes: readonly number[], protocol?: boolean): Promise<void>;
  /** synchronize_rcu(): unregister_ftrace_function() waits until no CPU can be inside a handler. */
  synchronizeRcu(reason: string): Promise<void>;
  emit(ev: EventBody): void;
}

/** How a caller wants a change made: the stress tests' faults skip the protocol or the grace period. */
export interface FtraceUpdateOptions {
  protocol?: boolean;
  rcu?: boolean;
}

export type SiteTarget = 'nop' | 'ftrace_caller' | 'ftrace_ops_list_func';

export class FtraceCore {
  /** sysctl kernel.ftrace_enabled (last_ftrace_enabled: the value in effect). */
  enabled = true;
  /** ftrace_ops_list, newest first (add_ftrace_ops() puts an ops at the head). */
  private readonly ops: FtraceOpsRef[] = [];
  readonly users: FtraceUsers;
  /** What each site calls now, by address (absent: the NOP). */
  private readonly targets = new Map<number, SiteTarget>();

  private readonly ftraceLock = new AsyncMutex();

  constructor(private readonly env: FtraceEnv) {
    this.users = new FtraceUsers(env.km);
    this.users.setCtl(TraceControl.TracingOn, 1);
  }

  /** mutex_lock(&ftrace_lock): one registration, filter change or sysctl write at a time. */
  private locked<T>(fn: () => Promise<T>): Promise<T> {
    return this.ftraceLock.run(fn);
  }

  /** Does this release have FTRACE_OPS_FL_PERMANENT (5.5)? Livepatch sets it only then. */
  get hasPermanentFlag(): boolean {
    return this.env.version.hasFtracePermanentOps;
  }

  /** Do calls reach the registered ops (sites enabled)? */
  get callsEnabled(): boolean {
    return this.enabled;
  }

  registered(ops: FtraceOpsRef): boolean {
    return this.ops.includes(ops);
  }

  /** The registered ops whose filter matches `ip` (ftrace_ops_test()), newest first. */
  opsAt(ip: number): FtraceOpsRef[] {
    return this.ops.filter((o) => o.filter === null || o.filter.has(ip));
  }

  /** What the site at `ip` calls now. */
  targetAt(ip: number): SiteTarget {
    return this.targets.get(ip) ?? 'nop';
  }

  /** The functions with an ftrace site (an __mcount_loc entry): what an empty filter means. */
  private traceable(): number[] {
    return this.env.kallsyms.ftraceSites().map((s) => s.addr);
  }

  /** A registered IPMODIFY ops other than `self` already on `ip`. */
  private ipmodifyHolder(ip: number, self: FtraceOpsRef): FtraceOpsRef | undefined {
    return this.ops.find((o) => o !== self && o.flags & FTRACE_OPS_FL_IPMODIFY && (o.filter === null || o.filter.has(ip)));
  }

  /** __ftrace_hash_update_ipmodify(): -EBUSY when one of `ips` already has a modifier. */
  private ipmodifyCheck(ops: FtraceOpsRef, ips: Iterable<number>): number {
    if (!(ops.flags & FTRACE_OPS_FL_IPMODIFY)) return 0;
    for (const ip of ips) {
      const holder = this.ipmodifyHolder(ip, ops);
      if (holder) {
        this.env.emit({ type: 'ftrace.ipmodify_conflict', ops: ops.owner, holder: holder.owner, func: this.name(ip), addr: ip });
        return EBUSY;
      }
    }
    return 0;
  }

  private name(ip: number): string {
    return this.env.kallsyms.symbolAt(ip)?.name ?? `0x${ip.toString(16)}`;
  }

  /**
   * register_ftrace_function(): the admission checks (PERMANENT while ftrace_enabled is 0, IPMODIFY on a
   * function that already has a modifier), then the ops is on ftrace_ops_list and the sites it matches are
   * updated. 0 or a negative errno.
   */
  register(ops: FtraceOpsRef, how: FtraceUpdateOptions = {}): Promise<number> {
    return this.locked(() => this.registerLocked(ops, how));
  }

  private async registerLocked(ops: FtraceOpsRef, how: FtraceUpdateOptions): Promise<number> {
    if (!this.enabled && ops.flags & FTRACE_OPS_FL_PERMANENT) return EBUSY;
    const ips = ops.filter ?? this.traceable();
    const ret = this.ipmodifyCheck(ops, ips);
    if (ret) return ret;
    this.ops.unshift(ops);
    await this.updateSites(ips, how);
    return 0;
  }

  /**
   * unregister_ftrace_function(): off the list, its sites updated, then a grace period, so a CPU that was
   * still inside its handler has left it before the caller frees what the handler reads.
   */
  unregister(ops: FtraceOpsRef, how: FtraceUpdateOptions = {}): Promise<void> {
    return this.locked(() => this.unregisterLocked(ops, how));
  }

  private async unregisterLocked(ops: FtraceOpsRef, how: FtraceUpdateOptions): Promise<void> {
    const i = this.ops.indexOf(ops);
    if (i < 0) return;
    this.ops.splice(i, 1);
    await this.updateSites(ops.filter ?? this.traceable(), how);
    if (how.rcu !== false) await this.env.synchronizeRcu('unregister_ftrace_function');
  }

  /**
   * ftrace_set_filter_ip() / ftrace_set_filter(): a new filter; on a registered ops the IPMODIFY check
   * runs first (-EBUSY leaves the filter as it was) and the changed sites are updated.
   */
  setFilter(ops: FtraceOpsRef, filter: ReadonlySet<number> | null, how: FtraceUpdateOptions = {}): Promise<number> {
    return this.locked(() => this.setFilterLocked(ops, filter, how));
  }

  private async setFilterLocked(ops: FtraceOpsRef, filter: ReadonlySet<number> | null, how: FtraceUpdateOptions): Promise<number> {
    if (!this.registered(ops)) {
      ops.filter = filter;
      return 0;
    }
    const before = ops.filter ?? new Set(this.traceable());
    const after = filter ?? new Set(this.traceable());
    const added = [...after].filter((ip) => !before.has(ip));
    const ret = this.ipmodifyCheck(ops, added);
    if (ret) return ret;
    ops.filter = filter;
    await this.updateSites(new Set([...before, ...after]), how);
    return 0;
  }

  /**
   * ftrace_replace_code() for the given sites: the users table first when a user comes (so the trampoline
   * finds it as soon as the site calls it), the bytes through text_poke_bp(), and a user that left is
   * dropped from the table after the site stopped calling it.
   */
  private async updateSites(ips: Iterable<number>, how: FtraceUpdateOptions): Promise<void> {
    this.publishAllMask();
    for (const ip of ips) {
      const on = this.opsAt(ip);
      const filtered = on.filter((o) => o.filter !== null).reduce((m, o) => m | o.user, 0);
      const target: SiteTarget = !this.enabled || on.length === 0 ? 'nop' : on.length === 1 ? 'ftrace_caller' : 'ftrace_ops_list_func';
      // The lone ops whose trampoline the site calls (only it is called from ftrace_caller).
      const own = on.length === 1 ? on[0].user : 0;
      const prevWord = this.users.siteWord(ip);
      const all = this.users.ctl(TraceControl.AllMask);
      // A site only the all-functions users are on needs no slot (ownUser() falls back to them).
      const word = (users: number, lone: number): number => (users === 0 && (lone === 0 || lone === all) ? 0 : users | (lone << 8));
      const prev = this.targetAt(ip);
      // Coming users first: the list function, if the site calls it, finds them at once. The lone
      // trampoline's owner: the old one while the site still calls ftrace_caller for it; else the new
      // one, before the poke — a CPU that meets the int3 mid-poke already runs the new `call`, and must
      // find whom it calls. Leaving users go after the poke.
      const lone = prev === 'ftrace_caller' ? (prevWord >> 8) & 0xff : own;
      this.users.setMask(ip, word(filtered | (prevWord & 0xff), lone));
      if (prev !== target) {
        const bytes =
          target === 'nop' ? FTRACE_SITE_NOP : ftraceSiteCall(ip, target === 'ftrace_caller' ? FTRACE_CALLER : FTRACE_OPS_LIST_FUNC);
        await this.env.textPoke(ip, bytes, how.protocol !== false);
        if (target === 'nop') this.targets.delete(ip);
        else this.targets.set(ip, target);
        this.env.emit({ type: 'ftrace.site', func: this.name(ip), addr: ip, ops: on.length, target });
      }
      this.users.setMask(ip, word(filtered, own));
    }
  }

  /** The users whose filter is empty: every site's mask has them. */
  private publishAllMask(): void {
    this.users.setCtl(
      TraceControl.AllMask,
      this.ops.filter((o) => o.filter === null).reduce((m, o) => m | o.user, 0),
    );
  }

  private permanentRegistered(): boolean {
    return this.ops.some((o) => o.flags & FTRACE_OPS_FL_PERMANENT);
  }

  /**
   * ftrace_enable_sysctl(): 0 or a negative errno. A change turns every site on or off
   * (ftrace_startup_sysctl() / ftrace_shutdown_sysctl()).
   */
  sysctlWrite(value: boolean, how: FtraceUpdateOptions = {}): Promise<number> {
    return this.locked(() => this.sysctlWriteLocked(value, how));
  }

  private async sysctlWriteLocked(value: boolean, how: FtraceUpdateOptions): Promise<number> {
    if (value === this.enabled) return 0;
    if (!value && this.permanentRegistered()) return EBUSY;
    this.enabled = value;
    const ips = new Set<number>();
    for (const o of this.ops) for (const ip of o.filter ?? this.traceable()) ips.add(ip);
    await this.updateSites(ips, how);
    return 0;
  }
}
