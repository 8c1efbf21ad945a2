/**
 * klp_update_patch_state() runs preempt-disabled (preempt_disable_notrace()): a coordinator's
 * klp_synchronize_transition() must not see the CPU quiescent (PreemptCount 0) between its
 * test-and-clear of TIF_PATCH_PENDING and its store of the task's patch_state — that is the window
 * klp_reverse_transition() clears the flags and synchronises to close.
 */
import { klpUpdatePatchState } from '../../src/livepatch/klp-ftrace-handler';
import type { CpuHost } from '../../src/kernel/cpu-host';
import { GlobalField, PcpuField } from '../../src/mem/percpu';
import { KLP_PATCHED, TaskField, TIF_PATCH_PENDING, type TaskView } from '../../src/mem/task-struct';

describe('klp_update_patch_state()', () => {
  function setup(flags: number): { host: CpuHost; task: TaskView; preemptAtStore: number[]; preempt: () => number; events: unknown[] } {
    let preemptCount = 0;
    const preemptAtStore: number[] = [];
    const events: unknown[] = [];
    const fields = new Map<number, number>([
      [TaskField.Flags, flags],
      [TaskField.Pid, 7],
    ]);
    const task = {
      comm: 't',
      get: (f: number) => fields.get(f) ?? 0,
      set: (f: number, v: number) => {
        if (f === TaskField.PatchState) preemptAtStore.push(preemptCount);
        fields.set(f, v);
      },
      andNotFlags: (bits: number) => {
        const old = fields.get(TaskField.Flags) ?? 0;
        fields.set(TaskField.Flags, old & ~bits);
        return old;
      },
    } as unknown as TaskView;
    const host = {
      pcpu: {
        get: (f: number) => (f === PcpuField.PreemptCount ? preemptCount : 0),
        set: (f: number, v: number) => {
          if (f === PcpuField.PreemptCount) preemptCount = v;
        },
      },
      global: { get: (f: number) => (f === GlobalField.KlpTargetState ? KLP_PATCHED : 0) },
      emit: (e: unknown) => events.push(e),
      taskKind: () => 'user',
    } as unknown as CpuHost;
    return { host, task, preemptAtStore, preempt: () => preemptCount, events };
  }

  it('stores the target state with preemption disabled, and enables it again', () => {
    const s = setup(TIF_PATCH_PENDING);
    klpUpdatePatchState(s.host, s.task, 'kernel exit');
    expect(s.task.get(TaskField.PatchState)).toBe(KLP_PATCHED);
    expect(s.preemptAtStore).toEqual([1]);
    expect(s.preempt()).toBe(0);
    expect(s.events).toEqual([expect.objectContaining({ type: 'transition.task_switch', how: 'kernel exit', state: KLP_PATCHED })]);
  });

  it('leaves a task without TIF_PATCH_PENDING alone', () => {
    const s = setup(0);
    klpUpdatePatchState(s.host, s.task, 'kernel exit');
    expect(s.preemptAtStore).toEqual([]);
    expect(s.preempt()).toBe(0);
    expect(s.events).toEqual([]);
  });
});
