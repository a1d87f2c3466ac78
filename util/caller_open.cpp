/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "caller_open.h"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>

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

} // namespace

Result<UniqueFD> open_for_server(const Caller &caller, const std::string &path, uint32_t flags,
				 uint32_t mode, OpenKind kind)
{
	const int oflags = static_cast<int>(flags);
	UniqueFD fd;
	{
		AsCaller as(caller);
		fd.reset(open(path.c_str(), oflags | O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
			      static_cast<mode_t>(mode)));
		if (!fd.isValid())
			return Error{-errno};
	}
	struct stat st;
	if (fstat(fd.get(), &st) < 0)
		return Error{-errno};
	if (int r = check_type(st, kind); r < 0)
		return Error{r};
	/* O_PATH descriptors ignore the status flags (and F_SETFL fails on them). */
	if (!(oflags & O_PATH) && !(oflags & O_NONBLOCK)) {
		const int fl = fcntl(fd.get(), F_GETFL);
		if (fl < 0 || fcntl(fd.get(), F_SETFL, fl & ~O_NONBLOCK) < 0)
			return Error{-errno};
	}
	return fd;
}

} // namespace fsvc::helper
