/**
 * The machine's ftrace core as its users see it (kernel/trace/ftrace.c): registered ftrace_ops with their
 * flags, and the `kernel.ftrace_enabled` sysctl (/proc/sys/kernel/ftrace_enabled).
 *
 * - FTRACE_OPS_FL_IPMODIFY: the ops changes the traced function's ip (livepatch's do; kprobes' with a
 *   post handler too); FTRACE_OPS_FL_PERMANENT (5.5, "ftrace: Introduce PERMANENT ftrace_ops flag"): the
 *   ops must keep working, so __register_ftrace_function() refuses it with -EBUSY while ftrace_enabled is
 *   0, and ftrace_enable_sysctl() refuses 0 with -EBUSY while such an ops is registered
 *   (is_permanent_ops_registered()). Livepatch's ops are PERMANENT | IPMODIFY from 5.5.
 * - Before 5.5 nothing stops either: writing 0 sends every call to ftrace_stub (ftrace_shutdown_sysctl()
 *   turns the sites back into NOPs), and a live patch silently stops working until it is written 1 again.
 *
 * The coordinator is the only writer (sysctl writes and registrations run there, under ftrace_lock:
 * here, on the coordinator's one thread); the CPUs only see the sites the users poke.
 */
import type { KernelVersion } from './kernel-version';

export const FTRACE_OPS_FL_IPMODIFY = 1 << 0;
export const FTRACE_OPS_FL_PERMANENT = 1 << 1;
const EBUSY = -16;

export interface FtraceOpsRef {
  /** Who registered it (shown nowhere yet; one per traced function for livepatch). */
  readonly owner: string;
  readonly flags: number;
}

export class FtraceCore {
  /** sysctl kernel.ftrace_enabled (last_ftrace_enabled: the value in effect). */
  enabled = true;
  private readonly ops = new Set<FtraceOpsRef>();

  constructor(private readonly version: KernelVersion) {}

  /** Does this release have FTRACE_OPS_FL_PERMANENT (5.5)? Livepatch sets it only then. */
  get hasPermanentFlag(): boolean {
    return this.version.hasFtracePermanentOps;
  }

  /** __register_ftrace_function()'s admission check, then the ops is on ftrace_ops_list. */
  register(ops: FtraceOpsRef): number {
    if (!this.enabled && ops.flags & FTRACE_OPS_FL_PERMANENT) return EBUSY;
    this.ops.add(ops);
    return 0;
  }

  unregister(ops: FtraceOpsRef): void {
    this.ops.delete(ops);
  }

  /** Do calls reach the registered ops (sites enabled)? */
  get callsEnabled(): boolean {
    return this.enabled;
  }

  private permanentRegistered(): boolean {
    for (const o of this.ops) if (o.flags & FTRACE_OPS_FL_PERMANENT) return true;
    return false;
  }

  /**
   * ftrace_enable_sysctl(): 0 or a negative errno. `changed`: the value in effect moved (the caller
   * turns the sites on or off, ftrace_startup_sysctl() / ftrace_shutdown_sysctl()).
   */
  sysctlWrite(value: boolean): { errno: number; changed: boolean } {
    if (value === this.enabled) return { errno: 0, changed: false };
    if (!value && this.permanentRegistered()) return { errno: EBUSY, changed: false };
    this.enabled = value;
    return { errno: 0, changed: true };
  }
}
