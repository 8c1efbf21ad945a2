/**
 * The kernel release whose livepatch behaviour a machine follows (`kernel_version:`, `--kernel-version`).
 *
 * Every behaviour klpsim models that changed between the supported releases is one row of
 * KERNEL_VERSION_CHANGES, with the release and the upstream change that made it, and one predicate of
 * KernelVersion that the code asks; nothing else compares version numbers. A row whose behaviour klpsim
 * keeps the same in every supported release says why in its `klpsim` note.
 */

/** A release as `MAJOR.MINOR`. */
export interface Release {
  readonly major: number;
  readonly minor: number;
}

export interface VersionChange {
  /** What behaves differently. */
  readonly behaviour: string;
  /** The first release with the new behaviour. */
  readonly since: string;
  /** The upstream commit (title and hash where known) or release that made the change. */
  readonly change: string;
  /** What klpsim does about it. */
  readonly klpsim: string;
}

/** The behaviours that follow the version, as the README's table prints them. */
export const KERNEL_VERSION_CHANGES: readonly VersionChange[] = [
  {
    behaviour: 'replaced patches are taken apart after the post_patch callbacks, not before',
    since: '5.5',
    change:
      '"livepatch: Keep replaced patches until post_patch callback is called" (klp_unpatch_replaced_patches() + klp_free_replaced_patches_async())',
    klpsim:
      'before 5.5, klp_discard_replaced_patches() unpatches and klp_free_patch_start()s them in klp_complete_transition(); from 5.5 they stay on klp_patches until "patching complete"',
  },
  {
    behaviour: 'the boolean a sysfs write (`enabled`, `force`) and a bool module parameter are parsed with (kstrtobool)',
    since: '5.19',
    change:
      '"lib/kstrtox.c: add "false"/"true" support to kstrtobool()" (first character t/T, f/F); the first-character rule itself is older: `echo 0x0 > enabled` disables in every release',
    klpsim: 'by the first character: y/Y/1 and n/N/0, o/O followed by n/N or f/F; from 5.19 also t/T and f/F (e/E, d/D came after 6.12)',
  },
  {
    behaviour: 'system states: struct klp_state in a patch, klp_get_state(), klp_get_prev_state(), the compatibility check on enable',
    since: '5.5',
    change:
      '"livepatch: Basic API to track system state changes", "livepatch: Allow to distinguish different version of system state changes" (livepatching-for-5.5)',
    klpsim:
      'from 5.5: a livepatch\'s `states:`, the klp_get_state / klp_get_prev_state actions, and "Livepatch patch (P) is not compatible with the already installed livepatches." (-EINVAL); before 5.5 `check` refuses them (struct klp_patch has no states)',
  },
  {
    behaviour:
      "FTRACE_OPS_FL_PERMANENT: livepatch's ftrace ops cannot be registered while kernel.ftrace_enabled is 0, and the sysctl cannot be set to 0 while they are",
    since: '5.5',
    change: '"ftrace: Introduce PERMANENT ftrace_ops flag" (Miroslav Benes, livepatching-for-5.5)',
    klpsim:
      'from 5.5: `failed to register ftrace handler for function \'F\' (-16)` and `sysctl: setting key "kernel.ftrace_enabled": Device or resource busy`; before, writing 0 turns every ftrace site back into a NOP, so live patches stop working until it is 1 again',
  },
  {
    behaviour: 'force marks every patch forced, or only the patches the transition removes',
    since: '5.18',
    change: '"livepatch: Don\'t block removal of patches that are safe to unload" (2957308343fa)',
    klpsim:
      'before 5.18 every patch on klp_patches is forced (no livepatch module can be removed afterwards); from 5.18 the disabled patch of an unpatching transition, or the patches a cumulative one replaces',
  },
  {
    behaviour: 'the idle kick: an idle CPU whose swapper task blocks a try is sent a reschedule IPI',
    since: '5.16',
    change: '"sched,livepatch: Use wake_up_if_idle()"',
    klpsim:
      'the same in every release: before 5.16 the idle CPU passed its idle loop at its next interrupt (the tick), which klpsim, having no ticks, stands in for with the same IPI',
  },
  {
    behaviour: 'the fake signal klp_send_signals() sends user tasks',
    since: '5.11',
    change:
      '"livepatch: use TIF_NOTIFY_SIGNAL infrastructure" (set_notify_signal() instead of signal_wake_up()); periodic signalling every 15 retries since 5.1 ("livepatch: Send a fake signal periodically")',
    klpsim:
      'the same in every supported release: both wake the task out of an interruptible sleep so it leaves the kernel through klp_update_patch_state()',
  },
  {
    behaviour: 'cond_resched() switches the calling task (klp_sched_try_switch())',
    since: '6.4',
    change: '"livepatch,sched: Add livepatch task switching to cond_resched()" (e3ff7c609f39)',
    klpsim:
      'from 6.4, cond_resched() switches the current task when an ORC walk of its own stack holds no function the transition changes (how="cond_resched"; the Machine option condReschedSwitch overrides the release). The same commit makes klp_reverse_transition() flip the target only after its klp_synchronize_transition(); klpsim keeps 5.1\'s order (not yet modelled)',
  },
  {
    behaviour: 'sysfs OBJ/patched',
    since: '6.0',
    change: '"livepatch: add sysfs entry "patched" for each klp_object" (ABI: KernelVersion 6.0.0)',
    klpsim: 'the attribute exists from 6.0: `ls` lists it, `cat` reads it; before, No such file or directory',
  },
  {
    behaviour: 'sysfs replace',
    since: '6.11',
    change: '"livepatch: Add "replace" sysfs attribute" (ABI: KernelVersion 6.11.0)',
    klpsim: 'the attribute exists from 6.11',
  },
  {
    behaviour: 'sysfs stack_order',
    since: '6.13',
    change:
      '"livepatch: Add stack_order sysfs attribute" (livepatching-for-6.13; ABI: KernelVersion 6.13.0, Oct 2024 — an earlier version of the series said 6.12.0)',
    klpsim:
      "from 6.13: /sys/kernel/livepatch/P/stack_order (0444) reads the patch's 1-based place on klp_patches (stack_order_show() counts the list under klp_mutex), so it shifts down when an older patch is freed",
  },
  {
    behaviour: 'klp_find_func() treats old_sympos 0 and 1 as the same function',
    since: '6.19',
    change: '"livepatch: Match old_sympos 0 and 1 in klp_find_func()" (livepatching-for-6.19; backported to 6.12.y stable)',
    klpsim:
      'after the newest supported release: a cumulative patch naming sympos 1 where an older one named 0 gets a NOP, whose sysfs directory collides (-EEXIST)',
  },
  {
    behaviour: 'msleep() and msleep_interruptible() sleep msecs_to_jiffies(ms) jiffies, without the historical extra one',
    since: '6.13',
    change:
      '"timers: Remove historical extra jiffie for timeout in msleep()" (Anna-Maria Behnsen, timers-core for 6.13, the series that moved them to kernel/time/sleep_timeout.c)',
    klpsim:
      "up to 6.12 the timeout is msecs_to_jiffies(ms) + 1 jiffies, from 6.13 msecs_to_jiffies(ms) (so msleep(0) no longer sleeps); either way the timer fires from the tick, at calc_index()'s rounded-up bucket (src/kernel/timer-wheel.ts): msleep(1) at HZ=1000 wakes 2–3 ms later up to 6.12, 1–2 ms from 6.13",
  },
  {
    behaviour: 'the release in an oops header (`CPU: 0 PID: 5 Comm: cat Tainted: … 6.12.0 #1`)',
    since: 'every release',
    change: 'UTS_RELEASE',
    klpsim: 'MAJOR.MINOR.0 of the chosen release',
  },
];

/**
 * The oldest and newest releases klpsim models: the seed's release, and 6.13, the first with `stack_order`
 * (the default stays 6.12, the current longterm release).
 */
const OLDEST: Release = { major: 5, minor: 1 };
const NEWEST: Release = { major: 6, minor: 13 };
/** The last minor release of each major one in the range (there was no 5.20: 6.0 followed 5.19). */
const LAST_MINOR: Readonly<Record<number, number>> = { 5: 19, 6: NEWEST.minor };

/** Every release klpsim accepts, oldest first: 5.1 … 5.19, 6.0 … 6.13. */
export const SUPPORTED_KERNEL_VERSIONS: readonly string[] = (() => {
  const out: string[] = [];
  for (let major = OLDEST.major; major <= NEWEST.major; major++) {
    for (let minor = major === OLDEST.major ? OLDEST.minor : 0; minor <= LAST_MINOR[major]; minor++) out.push(`${major}.${minor}`);
  }
  return out;
})();

/**
 * The default: 6.12, the current longterm release. The shipped selftest scenarios reproduce the output
 * of the selftests as 6.12 ships them (test-sysfs.sh reads `OBJ/patched` and `replace`, neither of which
 * 5.1 has), and a user who does not name a kernel expects a current one.
 */
export const DEFAULT_KERNEL_VERSION = '6.12';

export class KernelVersion implements Release {
  private constructor(
    readonly major: number,
    readonly minor: number,
  ) {}

  /** A supported `MAJOR.MINOR`, or null. */
  static parse(text: string): KernelVersion | null {
    if (!SUPPORTED_KERNEL_VERSIONS.includes(text)) return null;
    const [major, minor] = text.split('.').map(Number);
    return new KernelVersion(major, minor);
  }

  static of(text: string): KernelVersion {
    const v = KernelVersion.parse(text);
    if (!v) throw new Error(`unsupported kernel version ${text} (one of ${SUPPORTED_KERNEL_VERSIONS.join(', ')})`);
    return v;
  }

  static readonly DEFAULT: KernelVersion = KernelVersion.of(DEFAULT_KERNEL_VERSION);

  /** major << 8 | minor: how the version travels through shared memory to the CPUs. */
  get code(): number {
    return (this.major << 8) | this.minor;
  }

  static fromCode(code: number): KernelVersion {
    return KernelVersion.parse(`${code >> 8}.${code & 0xff}`) ?? KernelVersion.DEFAULT;
  }

  toString(): string {
    return `${this.major}.${this.minor}`;
  }

  /** uname -r: the release in an oops header. */
  get utsRelease(): string {
    return `${this.major}.${this.minor}.0`;
  }

  private atLeast(major: number, minor: number): boolean {
    return this.major > major || (this.major === major && this.minor >= minor);
  }

  /** 5.5: replaced patches stay listed until after the post_patch callbacks. */
  get keepsReplacedPatchesUntilPostPatch(): boolean {
    return this.atLeast(5, 5);
  }

  /** 5.5: struct klp_state, klp_get_state(), klp_get_prev_state(), klp_is_patch_compatible(). */
  get hasSystemStates(): boolean {
    return this.atLeast(5, 5);
  }

  /** 5.5: FTRACE_OPS_FL_PERMANENT on livepatch's ftrace ops (src/kernel/ftrace-ops.ts). */
  get hasFtracePermanentOps(): boolean {
    return this.atLeast(5, 5);
  }

  /** 5.18: force marks only the patches being removed. */
  get forcesOnlyRemovedPatches(): boolean {
    return this.atLeast(5, 18);
  }

  /** 5.19: kstrtobool() also takes t/T and f/F. */
  get kstrtoboolTrueFalse(): boolean {
    return this.atLeast(5, 19);
  }

  /** 6.4: cond_resched() switches the calling task (klp_sched_try_switch()). */
  get hasCondReschedSwitch(): boolean {
    return this.atLeast(6, 4);
  }

  /** 6.0: /sys/kernel/livepatch/P/OBJ/patched. */
  get hasPatchedAttr(): boolean {
    return this.atLeast(6, 0);
  }

  /** 6.11: /sys/kernel/livepatch/P/replace. */
  get hasReplaceAttr(): boolean {
    return this.atLeast(6, 11);
  }

  /** 6.13: /sys/kernel/livepatch/P/stack_order. */
  get hasStackOrderAttr(): boolean {
    return this.atLeast(6, 13);
  }

  /** Before 6.13: msleep() and msleep_interruptible() add one jiffy to msecs_to_jiffies(ms). */
  get msleepExtraJiffy(): boolean {
    return !this.atLeast(6, 13);
  }

  /** 6.19: klp_find_func() matches old_sympos 0 and 1 (newer than every supported release). */
  get matchesSympos0And1(): boolean {
    return this.atLeast(6, 19);
  }

  /**
   * kstrtobool(): the first character decides (and for o/O the second), so `0x0`, `no thanks` and `1abc`
   * are booleans while ` 1` is not.
   */
  kstrtobool(s: string): boolean | null {
    const c = s.charAt(0);
    if ('yY1'.includes(c) && c !== '') return true;
    if ('nN0'.includes(c) && c !== '') return false;
    if (this.kstrtoboolTrueFalse && c !== '' && 'tT'.includes(c)) return true;
    if (this.kstrtoboolTrueFalse && c !== '' && 'fF'.includes(c)) return false;
    if (c === 'o' || c === 'O') {
      const d = s.charAt(1);
      if (d === 'n' || d === 'N') return true;
      if (d === 'f' || d === 'F') return false;
    }
    return null;
  }
}
