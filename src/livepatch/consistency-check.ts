/**
 * The consistency model's invariant, checked where it could break: in klp_ftrace_handler(), each time it
 * decides which version of a function the current task enters. Within one call chain a task must never
 * run the transition patch's version of one function and the version without the patch of another (or
 * of the same one): the version it is about to enter must be on the same side as every changed function
 * already on its stack (the return addresses of its call chain, walked through its frame pointers).
 *
 * The versions come from the table the coordinator publishes when a transition starts
 * (consistency-table.ts). A violation is reported once per task and table, so a task stuck in a loop of
 * mixed calls does not flood the stream. Tasks that `force` switched are exempt until their next kernel
 * exit (TIF_FORCED_SWITCH): forcing is the one documented way to break the model.
 */
import type { CpuHost } from '../kernel/cpu-host';
import { FrameBuffer } from '../kernel/unwind-types';
import { TaskField, TIF_FORCED_SWITCH } from '../mem/task-struct';
import { ConsistencyTable, Side, sideOf } from './consistency-table';

const SIDE_NAME = { [Side.Patch]: "the transition patch's version", [Side.Without]: 'the version without the transition patch' };

export class ConsistencyCheck {
  private readonly table: ConsistencyTable;
  private readonly reported = new Set<string>();
  /** The call chain of the check in progress (CpuHost.callChain() refills it: no array per call). */
  private readonly chain = new FrameBuffer();

  constructor(private readonly host: CpuHost) {
    this.table = new ConsistencyTable(host.km);
  }

  /** The current task is entering `target` (new code, or `ip + 5` for the original) for a call of `ip`. */
  check(ip: number, target: number): void {
    const snap = this.table.snapshot();
    if (!snap || snap.entries.length === 0) return;
    const entry = snap.byOldFunc.get(ip);
    if (!entry) return;
    const side = sideOf(entry, target);
    if (!side) return;
    const h = this.host;
    const current = h.currentTask();
    if (current && current.get(TaskField.Flags) & TIF_FORCED_SWITCH) return;
    h.checks.consistency++;
    const chain = this.chain;
    h.callChain(ip, chain);
    // chain[0] is the traced function itself: its callers' return addresses follow.
    for (let i = 1; i < chain.length; i++) {
      const ret = chain.pcs[i];
      for (const e of snap.entries) {
        const other = sideOf(e, ret);
        if (!other || other === side) continue;
        const task = current;
        const pid = task ? task.get(TaskField.Pid) : 0;
        const key = `${pid}:${snap.seq}`;
        if (this.reported.has(key)) return;
        this.reported.add(key);
        const ks = h.kallsyms;
        h.violation(
          'consistency',
          `CPU ${h.cpu}: ${task ? `${task.comm}:${pid}` : 'idle'} entered ${SIDE_NAME[side]} of ${ks.format(ip)} (${ks.format(target)}) ` +
            `while its call chain holds ${SIDE_NAME[other]} of ${ks.format(e.oldFunc)} (return address ${ks.format(ret)})`,
          ip,
        );
        return;
      }
    }
  }
}
