/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "sandbox_probe.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void report(const char *prog, const char *what, int fd)
{
	if (fd >= 0) {
		fprintf(stderr, "%s: sandbox-probe %s: OPENED -- not contained!\n", prog, what);
		close(fd);
	} else {
		fprintf(stderr, "%s: sandbox-probe %s: refused (%s)\n", prog, what,
			strerror(errno));
	}
}

static void probe_open(const char *prog, const char *path, int flags)
{
	char what[4200];
	int fd = open(path, flags | O_CLOEXEC | O_NOCTTY);

	snprintf(what, sizeof(what), "open %s", path);
	report(prog, what, fd);
}

void sandbox_probe(const char *prog, const char *host_path)
{
	probe_open(prog, "/dev/fuse", O_RDWR);
	if (host_path)
		probe_open(prog, host_path, O_RDONLY);
	report(prog, "socket AF_INET", socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
	fflush(stderr);
}
