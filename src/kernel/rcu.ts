/**
 * synchronize_rcu() for RCU-sched, the flavour klp_ftrace_handler() relies on (it runs with preemption
 * disabled). A grace period ends once every CPU has been seen outside a read-side section after it began:
 * either its PreemptCount was observed 0, or it reported a quiescent state (RcuQs changed: a slice
 * boundary, a context switch, idle).
 *
 * Why observing PreemptCount == 0 is enough: a CPU sets it to 1 (Atomics.store) before it reads any klp
 * link and back to 0 after its last read. The coordinator unlinked the record before the grace period
 * started; if it then sees 0 on that CPU, any handler that could have read the old link has finished, and
 * any later one starts after the unlink and cannot find the record. Atomics are sequentially consistent,
 * which is the ordering this argument needs.
 *
 * klp_synchronize_transition() (schedule_on_each_cpu()) is the same wait here: a CPU outside the handler
 * is at an instruction boundary of ordinary kernel code, where the work item could have run.
 */
import { cpuGone, PcpuField } from '../mem/percpu';
import type { KernelCore } from './kernel-core';

export async function synchronizeRcu(m: KernelCore, reason: string): Promise<void> {
  const start = m.now;
  m.emit({ type: 'rcu.gp_start', reason });
  const qs0 = m.pcpus.map((p) => p.get(PcpuField.RcuQs));
  const done = m.pcpus.map(() => false);
  await m.waitFor(
    () => {
      let all = true;
      m.pcpus.forEach((p, i) => {
        if (done[i]) return;
        const mode = p.get(PcpuField.Mode);
        if (p.get(PcpuField.PreemptCount) === 0 || p.get(PcpuField.RcuQs) !== qs0[i] || cpuGone(mode)) done[i] = true;
        else all = false;
      });
      return all;
    },
    `an RCU grace period (${reason}): CPUs ${m.pcpus
      .filter((_, i) => !done[i])
      .map((p) => p.cpu)
      .join(',')} still inside klp_ftrace_handler`,
  );
  // Simulated time only: a real-time figure would make deterministic runs differ.
  m.emit({ type: 'rcu.gp_end', reason, durationNs: m.now - start });
}
