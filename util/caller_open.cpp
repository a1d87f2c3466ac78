/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "util/caller_open.h"

#include <cerrno>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace fsvc::helper
{

namespace
{

/* -errno when st is not a kind of file the request may have. */
int check_type(const struct stat &st, OpenKind kind)
{
	if (kind == OpenKind::BlockDevice)
		return S_ISBLK(st.st_mode) ? 0 : -ENOTBLK;
	/*
	 * A block device too: a server such as fuse2fs opens its device with a
	 * plain OPEN. None of these block at open or read with side effects.
	 */
	if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode) || S_ISBLK(st.st_mode))
		return 0;
	return -EINVAL;
}

int open_no_magic_links(const std::string &path, int oflags, mode_t mode)
{
	/* open() ignores other flags with O_PATH, openat2() refuses them. */
	if (oflags & O_PATH)
		oflags &= O_PATH | O_CLOEXEC | O_DIRECTORY | O_NOFOLLOW;
	open_how how{};
	how.flags = static_cast<uint64_t>(oflags);
	/* openat2 refuses a mode without O_CREAT/O_TMPFILE; open() ignores it. */
	if ((oflags & O_CREAT) || (oflags & O_TMPFILE) == O_TMPFILE)
		how.mode = mode;
	how.resolve = RESOLVE_NO_MAGICLINKS;
	long fd = syscall(SYS_openat2, AT_FDCWD, path.c_str(), &how, sizeof(how));
	/* Before Linux 5.6: the procfs check below still catches /proc/self/... */
	if (fd < 0 && errno == ENOSYS)
		fd = open(path.c_str(), oflags, mode);
	return static_cast<int>(fd);
}

} // namespace

Result<UniqueFD> open_for_server(const Caller &caller, const std::string &path, uint32_t flags,
				 uint32_t mode, OpenKind kind, const char **refusal)
{
	const int oflags = static_cast<int>(flags);
	*refusal = nullptr;
	UniqueFD fd;
	{
		AsCaller as(caller);
		fd.reset(open_no_magic_links(path, oflags | O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
					     static_cast<mode_t>(mode)));
		if (!fd.isValid())
			return Error{-errno};
	}
	struct statfs sfs;
	if (fstatfs(fd.get(), &sfs) < 0)
		return Error{-errno};
	if (sfs.f_type == PROC_SUPER_MAGIC) {
		*refusal = "a file in procfs is not handed to a server";
		return Error{-EPERM};
	}
	struct stat st;
	if (fstat(fd.get(), &st) < 0)
		return Error{-errno};
	if (int r = check_type(st, kind); r < 0) {
		if (r == -EINVAL)
			*refusal = "not a regular file, directory or block device";
		return Error{r};
	}
	/* O_PATH descriptors ignore the status flags (and F_SETFL fails on them). */
	if (!(oflags & O_PATH) && !(oflags & O_NONBLOCK)) {
		const int fl = fcntl(fd.get(), F_GETFL);
		if (fl < 0 || fcntl(fd.get(), F_SETFL, fl & ~O_NONBLOCK) < 0)
			return Error{-errno};
	}
	return fd;
}

} // namespace fsvc::helper
