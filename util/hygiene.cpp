/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "util/hygiene.h"

#include <cerrno>
#include <charconv>
#include <climits>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/errors.h"
#include "util/messages.h"

namespace fsvc::helper
{

namespace
{

/* The caller's umask, replaced by ours in sanitise_process(). */
mode_t g_caller_umask = 022;

} // namespace

void close_fds_from(int lowest) noexcept
{
	/* Every open fd is listed in /proc/self/fd, however high its number. */
	const int dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir >= 0) {
		alignas(dirent64) char buf[4096];
		ssize_t n;
		while ((n = getdents64(dir, buf, sizeof(buf))) > 0) {
			for (ssize_t off = 0; off < n;) {
				dirent64 entry;
				std::memcpy(&entry, buf + off, offsetof(dirent64, d_name));
				const char *name = buf + off + offsetof(dirent64, d_name);
				off += entry.d_reclen;
				int fd = -1;
				const auto end = name + std::strlen(name);
				if (std::from_chars(name, end, fd).ptr == end && fd >= lowest &&
				    fd != dir)
					(void)close(fd);
			}
		}
		(void)close(dir);
		if (n == 0)
			return;
	}
	/* No procfs: every number the process could have been given. */
	rlimit nofile{};
	int top = INT_MAX;
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 &&
	    nofile.rlim_max < static_cast<rlim_t>(INT_MAX))
		top = static_cast<int>(nofile.rlim_max);
	for (int fd = lowest; fd < top; fd++)
		(void)close(fd);
}

int secure_standard_fds() noexcept
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0)
			continue;
		if (errno != EBADF)
			return -errno;
		/* open() returns the lowest free number: exactly the missing one. */
		int n = open("/dev/null", O_RDWR);
		if (n < 0)
			return -errno;
		if (n != fd) {
			close(n);
			return -EBADF;
		}
	}
	/* Inherited fds have no business in a privileged process. */
	if (close_range(3, UINT_MAX, 0) < 0)
		close_fds_from(3);
	return 0;
}

int sanitise_process() noexcept
{
	/* Not dumpable: no core file with our memory, no ptrace by the caller. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return -errno;
	const rlimit no_core{0, 0};
	if (setrlimit(RLIMIT_CORE, &no_core) < 0)
		return -errno;
	g_caller_umask = umask(022);
	if (clearenv() != 0)
		return -ENOMEM;
	if (setenv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin", 1) != 0)
		return -errno;
	return 0;
}

mode_t caller_umask() noexcept
{
	return g_caller_umask;
}

int check_installation(const Caller &caller) noexcept
{
	if (!caller.elevated())
		return 0;
	if (caller.euid() != 0) {
		say("installed setuid or setgid to a user other than root; refusing to run");
		return err::kNotPermitted;
	}
	struct stat st;
	if (stat("/proc/self/exe", &st) < 0) {
		const int err = errno;
		say("cannot check the installation: /proc/self/exe: %s", errstr(err));
		return -err;
	}
	if (st.st_uid != 0) {
		say("installed setuid but not owned by root; refusing to run");
		return err::kNotPermitted;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		say("installed setuid and writable by others; refusing to run");
		return err::kNotPermitted;
	}
	return 0;
}

} // namespace fsvc::helper
