/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * no-close-range COMMAND...: run COMMAND with close_range(2) failing with
 * ENOSYS, as on a kernel before 5.9, so a test can reach the helper's
 * fallback. A seccomp filter is inherited across execve; installed by root
 * (CAP_SYS_ADMIN) it needs no PR_SET_NO_NEW_PRIVS, so a setuid program run
 * under it still gains its privileges.
 */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char *argv[])
{
	if (argc < 2) {
		fprintf(stderr, "usage: no-close-range COMMAND...\n");
		return 2;
	}
	/* Only the number is compared: good enough for a test on one ABI. */
	struct sock_filter code[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_close_range, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {
	    .len = sizeof(code) / sizeof(code[0]),
	    .filter = code,
	};
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) {
		fprintf(stderr, "no-close-range: seccomp: %s\n", strerror(errno));
		return 1;
	}
	execvp(argv[1], argv + 1);
	fprintf(stderr, "no-close-range: %s: %s\n", argv[1], strerror(errno));
	return 127;
}
