/**
 * What the kernel's own work costs in simulated time, besides the emulated instructions (1 ns each,
 * NS_PER_INSN in sim-clock.ts). The services klpsim serves natively, the system-call boundary, the
 * scheduler and the ftrace trampoline retire no emulated instructions, yet in the kernel they are the
 * bulk of a short system call: without these figures a busy task would make millions of system calls
 * per simulated second, and simulated time would crawl against real time.
 *
 * The figures are for a current x86-64 server core (2–3 GHz) running a distribution kernel, so with the
 * default speculative-execution mitigations. The README's "Simulated time" table gives each one's source.
 */

/**
 * entry_SYSCALL_64 up to the system call's body (swapgs, the CR3 switch of KPTI, pt_regs, do_syscall_64),
 * and back to user space (syscall_exit_to_user_mode(): the exit work loop, then sysretq). lmbench's
 * `lat_syscall null` (getppid(), both halves) measures about 0.1 µs without mitigations and 0.2–0.5 µs
 * with KPTI and retpolines: 150 ns each way is the middle of the mitigated range.
 */
export const SYSCALL_ENTRY_NS = 150;
export const SYSCALL_EXIT_NS = 150;

/**
 * One turn of a kthread's thread-function loop: a kthread_should_stop() test and a branch, no mode
 * switch (a few instructions).
 */
export const KTHREAD_LOOP_NS = 20;

/**
 * __schedule() up to the choice of the next task (rq lock, update_rq_clock(), pick_next_task()): what a
 * schedule() call costs when it picks the caller again.
 */
export const SCHEDULE_NS = 150;

/**
 * context_switch() to another task (switch_mm_irqs_off(), switch_to(), the FPU and segment state):
 * lmbench's `lat_ctx -s 0 2` measures 1.5–3 µs per switch on current x86-64, which includes a pipe write
 * and a pipe read (two system calls and a wake-up) per switch; the switch itself is about 0.5 µs.
 * Charged when a CPU switches a task in — from another task or from its idle loop.
 */
export const CONTEXT_SWITCH_NS = 500;

/** cond_resched() when no reschedule is due: a per-CPU flag test (should_resched()). */
export const COND_RESCHED_NS = 5;

/**
 * msleep() / schedule_timeout(): msecs_to_jiffies() and arming a timer on the timer wheel (__mod_timer(),
 * with the base lock), before schedule() (SCHEDULE_NS, then the switch).
 */
export const TIMER_SETUP_NS = 100;

/**
 * A fired timer's wake-up, in the tick's TIMER_SOFTIRQ: process_timeout() -> wake_up_process() ->
 * try_to_wake_up() of a task of this CPU (the rq lock, enqueue_task_fair(), check_preempt_curr()),
 * a few hundred ns. Every timer of the tick's bucket is woken before the CPU schedules the first of them.
 */
export const TIMER_WAKEUP_NS = 250;

/**
 * printk() into the log buffer with no console attached (vprintk_emit(): vsnprintf(), the ringbuffer
 * reservation and commit, a wake-up of the log readers): about a microsecond. Consoles (a serial port
 * at 115200 baud takes ~87 µs per character) are not modelled: dmesg reads the buffer.
 */
export const PRINTK_NS = 1000;

/** seq_printf(): vsnprintf() of a short format into the seq_file buffer. */
export const SEQ_PRINTF_NS = 150;

/** seq_puts(): a strlen() and a memcpy() of a short string. */
export const SEQ_PUTS_NS = 30;

/** task_pid_nr(current): a couple of loads. */
export const CURRENT_PID_NS = 2;

/**
 * A call of a live-patched function, through its ftrace site: ftrace_regs_caller saves and restores a
 * full pt_regs (FTRACE_OPS_FL_SAVE_REGS, which livepatch's IPMODIFY ops need) and calls
 * klp_ftrace_handler(), which reads the func_stack under preempt_disable_notrace() and rewrites
 * regs->ip. Published measurements of a function traced by one ftrace_ops put such a call at some tens
 * of ns; klpsim charges half on entry (up to the func_stack read) and half on the way out.
 */
export const FTRACE_HANDLER_ENTRY_NS = 25;
export const FTRACE_HANDLER_EXIT_NS = 25;
