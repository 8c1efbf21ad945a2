/**
 * The operations a stress run performs, each as the text a user would type: shell commands as in a
 * scenario's `sh:` steps, plus three that are not shell commands — `signal` (klp_send_signals(), what the
 * pre-5.1 sysfs attribute did), `sleep MS` (let simulated time pass) and `wait` (wait for the transition,
 * bounded). The text is the op: it is what the run logs, what --shrink prints and what --replay-ops reads.
 */
export const OP_KINDS = [
  'enable',
  'replace',
  'disable',
  'reverse',
  'force',
  'signal',
  'rmmod-patch',
  'module-load',
  'module-unload',
  'sleep',
  'wait',
] as const;
export type OpKind = (typeof OP_KINDS)[number];

export interface StressOp {
  kind: OpKind;
  text: string;
}

const SYSFS = '/sys/kernel/livepatch/';

export const op = {
  enable: (p: string): StressOp => ({ kind: 'enable', text: `modprobe ${p}` }),
  replace: (p: string): StressOp => ({ kind: 'replace', text: `modprobe ${p} replace=1` }),
  disable: (p: string): StressOp => ({ kind: 'disable', text: `echo 0 > ${SYSFS}${p}/enabled` }),
  /** `echo 0` on the patch being enabled, `echo 1` on the one being disabled: klp_reverse_transition(). */
  reverse: (p: string, value: 0 | 1): StressOp => ({ kind: 'reverse', text: `echo ${value} > ${SYSFS}${p}/enabled` }),
  force: (p: string): StressOp => ({ kind: 'force', text: `echo 1 > ${SYSFS}${p}/force` }),
  signal: (): StressOp => ({ kind: 'signal', text: 'signal' }),
  rmmodPatch: (p: string): StressOp => ({ kind: 'rmmod-patch', text: `rmmod ${p}` }),
  moduleLoad: (m: string): StressOp => ({ kind: 'module-load', text: `modprobe ${m}` }),
  moduleUnload: (m: string): StressOp => ({ kind: 'module-unload', text: `rmmod ${m}` }),
  sleep: (ms: number): StressOp => ({ kind: 'sleep', text: `sleep ${ms}` }),
  wait: (): StressOp => ({ kind: 'wait', text: 'wait' }),
};

/** Parses one op back from its text (for --replay-ops); `isPatch` tells livepatch modules from others. */
export function parseOp(text: string, isPatch: (module: string) => boolean): StressOp | string {
  const t = text.trim().replace(/\s+/g, ' ');
  let m: RegExpMatchArray | null;
  if (t === 'signal') return op.signal();
  if (t === 'wait') return op.wait();
  if ((m = t.match(/^sleep (\d+)$/))) return op.sleep(Number(m[1]));
  if ((m = t.match(/^modprobe (\S+)( replace=1)?$/)))
    return isPatch(m[1]) ? (m[2] ? op.replace(m[1]) : op.enable(m[1])) : op.moduleLoad(m[1]);
  if ((m = t.match(/^rmmod (\S+)$/))) return isPatch(m[1]) ? op.rmmodPatch(m[1]) : op.moduleUnload(m[1]);
  if ((m = t.match(/^echo ([01]) > \/sys\/kernel\/livepatch\/([^/]+)\/enabled$/)))
    return { kind: m[1] === '0' ? 'disable' : 'reverse', text: t };
  if ((m = t.match(/^echo 1 > \/sys\/kernel\/livepatch\/([^/]+)\/force$/))) return op.force(m[1]);
  return `not a stress op: '${text}'`;
}
