/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "util/hygiene.h"

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/messages.h"

namespace fsvc::helper
{

bool secure_standard_fds() noexcept
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0)
			continue;
		if (errno != EBADF)
			return false;
		/* open() returns the lowest free number: exactly the missing one. */
		int n = open("/dev/null", O_RDWR);
		if (n != fd) {
			if (n >= 0)
				close(n);
			return false;
		}
	}
	/* Inherited fds have no business in a privileged process. */
	if (close_range(3, UINT_MAX, 0) < 0) {
		for (int fd = 3; fd < 1024; fd++)
			(void)close(fd);
	}
	return true;
}

int sanitise_process() noexcept
{
	/* Not dumpable: no core file with our memory, no ptrace by the caller. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return -errno;
	const rlimit no_core{0, 0};
	if (setrlimit(RLIMIT_CORE, &no_core) < 0)
		return -errno;
	umask(022);
	if (clearenv() != 0)
		return -ENOMEM;
	if (setenv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin", 1) != 0)
		return -errno;
	return 0;
}

bool installation_is_sane(const Caller &caller) noexcept
{
	if (!caller.elevated())
		return true;
	if (caller.euid() != 0) {
		say("installed setuid or setgid to a user other than root; refusing to run");
		return false;
	}
	struct stat st;
	if (stat("/proc/self/exe", &st) < 0) {
		say("cannot check the installation: /proc/self/exe: %s", errstr(errno));
		return false;
	}
	if (st.st_uid != 0) {
		say("installed setuid but not owned by root; refusing to run");
		return false;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		say("installed setuid and writable by others; refusing to run");
		return false;
	}
	return true;
}

} // namespace fsvc::helper
