/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The bench's clock. Each cycle: spawn COMMAND (with "{}" replaced by this
 * worker's mountpoint), wait until stat() of the mountpoint answers from a
 * new filesystem (the kernel holds it until FUSE_INIT is answered, so the
 * mount is usable; for a helper, HOW = "helper", after COMMAND has exited,
 * as mount(8) would wait for it), umount it, and reap COMMAND (a
 * classic server, HOW = "server", exits when its mount goes). The time of
 * a cycle is spawn to umount returned.
 *
 *   mount_cycle cycle WORKERS CYCLES MNTBASE HOW COMMAND...
 *       WORKERS processes, each on MNTBASE/N, CYCLES cycles each, all at
 *       once; prints "ok FAILED WALL_US" then one latency (us) per line;
 *       the reason for each failure goes to stderr.
 *   mount_cycle exec CYCLES COMMAND...
 *       fork+exec+wait COMMAND CYCLES times; one latency (us) per line.
 *   mount_cycle maxrss COMMAND...
 *       run COMMAND once; its peak RSS in KiB (wait4's ru_maxrss).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000LL + t.tv_nsec / 1000;
}

static pid_t spawn(char **cmd, const char *mnt)
{
	char *argv[64];
	int i = 0;
	for (; cmd[i] && i < 63; i++)
		argv[i] = strcmp(cmd[i], "{}") == 0 ? (char *)mnt : cmd[i];
	argv[i] = NULL;
	pid_t pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", 0);
		dup2(null, 1);
		dup2(null, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

static long long fail(const char *mnt, const char *why)
{
	fprintf(stderr, "mount_cycle: %s: %s\n", mnt, why);
	return -1;
}

/* Drain mountinfo so that its next POLLPRI means a newer mount change. */
static void drain(int fd)
{
	static char buf[65536];
	lseek(fd, 0, SEEK_SET);
	while (read(fd, buf, sizeof(buf)) > 0) {
	}
}

/*
 * One cycle; its latency in us, or -1. No busy polling (64 workers
 * spinning on stat() would starve what they measure): a helper is waited
 * for, and a server's mount is awaited on mountinfo's POLLPRI. stat() of
 * a new FUSE mount blocks in the kernel until FUSE_INIT is answered.
 */
static long long cycle(char **cmd, const char *mnt, dev_t base, int helper)
{
	int mi = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	if (mi < 0)
		return fail(mnt, "cannot open /proc/self/mountinfo");
	drain(mi);
	long long t0 = now_us();
	pid_t pid = spawn(cmd, mnt);
	struct stat st;
	int status = 0, exited = 0;
	if (helper) {
		waitpid(pid, &status, 0);
		exited = 1;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			close(mi);
			return fail(mnt, "the helper failed");
		}
	}
	for (long long deadline = t0 + 10000000; now_us() < deadline;) {
		if (stat(mnt, &st) == 0 && st.st_dev != base)
			break;
		if (!exited && waitpid(pid, &status, WNOHANG) == pid) {
			exited = 1;
			close(mi);
			return fail(mnt, "the server exited before its mount was usable");
		}
		struct pollfd p = {mi, POLLPRI, 0};
		if (poll(&p, 1, 100) > 0)
			drain(mi);
	}
	close(mi);
	if (st.st_dev == base) {
		if (!exited)
			kill(pid, SIGKILL), waitpid(pid, NULL, 0);
		return fail(mnt, "no mount within 10 s");
	}
	if (umount2(mnt, 0) < 0)
		return fail(mnt, "umount failed");
	long long t1 = now_us();
	if (!exited) {
		waitpid(pid, &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			return fail(mnt, "the server failed");
	}
	return t1 - t0;
}

static int run_cycles(int workers, int cycles, const char *base, int helper, char **cmd)
{
	int out[2];
	if (pipe(out) < 0)
		return 1;
	long long t0 = now_us();
	for (int w = 0; w < workers; w++) {
		if (fork() == 0) {
			close(out[0]);
			char mnt[4096];
			snprintf(mnt, sizeof(mnt), "%s/%d", base, w);
			mkdir(mnt, 0755);
			struct stat st;
			if (stat(mnt, &st) < 0)
				_exit(1);
			for (int c = 0; c < cycles; c++) {
				long long us = cycle(cmd, mnt, st.st_dev, helper);
				if (write(out[1], &us, sizeof(us)) != sizeof(us))
					_exit(1);
			}
			_exit(0);
		}
	}
	close(out[1]);
	long long *lat = calloc((size_t)workers * cycles, sizeof(*lat));
	int n = 0, failed = 0;
	long long us;
	while (read(out[0], &us, sizeof(us)) == sizeof(us)) {
		if (us < 0)
			failed++;
		else
			lat[n++] = us;
	}
	while (wait(NULL) > 0) {
	}
	printf("ok %d %lld\n", failed, now_us() - t0);
	for (int i = 0; i < n; i++)
		printf("%lld\n", lat[i]);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 6 && strcmp(argv[1], "cycle") == 0)
		return run_cycles(atoi(argv[2]), atoi(argv[3]), argv[4],
				  strcmp(argv[5], "helper") == 0, argv + 6);
	if (argc > 3 && strcmp(argv[1], "exec") == 0) {
		int n = atoi(argv[2]);
		for (int i = 0; i < n; i++) {
			long long t0 = now_us();
			pid_t pid = spawn(argv + 3, "");
			waitpid(pid, NULL, 0);
			printf("%lld\n", now_us() - t0);
		}
		return 0;
	}
	if (argc > 2 && strcmp(argv[1], "maxrss") == 0) {
		pid_t pid = spawn(argv + 2, "");
		int status;
		struct rusage ru;
		if (wait4(pid, &status, 0, &ru) < 0)
			return 1;
		printf("%ld\n", ru.ru_maxrss);
		return 0;
	}
	fprintf(stderr, "usage: see the comment in bench/mount_cycle.c\n");
	return 2;
}
