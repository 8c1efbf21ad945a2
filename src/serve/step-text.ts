/** One line naming a scenario step, as the page shows the step a run is at (`sh: modprobe klp_patch_c`). */
import type { Step } from '../scenario/scenario-types';

export function describeStep(step: Step): string {
  switch (step.kind) {
    case 'sh':
      return `sh: ${step.command}`;
    case 'wait':
      return `wait: ${step.what}`;
    case 'sleep_ms':
      return `sleep_ms: ${step.ms}`;
    case 'expect': {
      const what = [
        step.sh ? `sh: ${step.sh.command}` : '',
        step.dmesg ? `dmesg (${step.dmesg.length} lines)` : '',
        step.patched ? 'patched' : '',
        step.nops !== undefined ? `nops: ${step.nops}` : '',
        step.ftraceOps !== undefined ? `ftrace_ops: ${step.ftraceOps}` : '',
      ].filter(Boolean);
      return `expect: ${what.join(', ') || '(nothing)'}`;
    }
  }
}
