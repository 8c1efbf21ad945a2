/*
 * Measures, on the machine it runs on, what klpsim's time model (src/kernel/time-model.ts) charges for
 * natively served kernel work: a null system call (getppid(), lmbench's lat_syscall null), schedule()
 * picking the caller again (sched_yield()), and a context switch (a pipe ping-pong between two processes
 * on one CPU, lmbench's lat_ctx, less a pipe write and read without a switch). The best of 7 rounds each.
 * gcc -O2 -o /tmp/kernel-costs scripts/kernel-costs.c && /tmp/kernel-costs
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e9 + t.tv_nsec; }

static double best(double (*f)(int), int n, int rounds) {
	double b = 1e18;
	for (int r = 0; r < rounds; r++) { double v = f(n); if (v < b) b = v; }
	return b;
}

static double syscall_null(int n) {
	double t0 = now();
	for (int i = 0; i < n; i++) syscall(SYS_getppid);
	return (now() - t0) / n;
}

static double yield_self(int n) {
	double t0 = now();
	for (int i = 0; i < n; i++) sched_yield();
	return (now() - t0) / n;
}

static double pipe_pingpong(int n) {
	int a[2], b[2];
	char c = 0;
	if (pipe(a) || pipe(b)) exit(1);
	pid_t p = fork();
	if (p == 0) {
		for (int i = 0; i < n; i++) { if (read(a[0], &c, 1) != 1) _exit(1); if (write(b[1], &c, 1) != 1) _exit(1); }
		_exit(0);
	}
	double t0 = now();
	for (int i = 0; i < n; i++) { if (write(a[1], &c, 1) != 1) exit(1); if (read(b[0], &c, 1) != 1) exit(1); }
	double t = now() - t0;
	waitpid(p, NULL, 0);
	close(a[0]); close(a[1]); close(b[0]); close(b[1]);
	/* Two switches per round trip. */
	return t / n / 2;
}

static double pipe_same_proc(int n) {
	int a[2];
	char c = 0;
	if (pipe(a)) exit(1);
	double t0 = now();
	for (int i = 0; i < n; i++) { if (write(a[1], &c, 1) != 1) exit(1); if (read(a[0], &c, 1) != 1) exit(1); }
	double t = now() - t0;
	close(a[0]); close(a[1]);
	return t / n;
}

int main(void) {
	cpu_set_t s; CPU_ZERO(&s); CPU_SET(0, &s); sched_setaffinity(0, sizeof s, &s);
	printf("getppid() round trip      %7.1f ns\n", best(syscall_null, 1000000, 7));
	printf("sched_yield() to itself    %7.1f ns\n", best(yield_self, 1000000, 7));
	double pp = best(pipe_pingpong, 100000, 7);
	double same = best(pipe_same_proc, 200000, 7);
	printf("pipe ping-pong, per switch %7.1f ns (one CPU; includes a write, a read, a wake-up)\n", pp);
	printf("pipe write+read, no switch %7.1f ns\n", same);
	printf("context switch alone ~     %7.1f ns (ping-pong per switch - write+read)\n", pp - same);
	return 0;
}
