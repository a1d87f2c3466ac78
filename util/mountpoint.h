/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The mountpoint: looked up once, as the caller, and pinned by an O_PATH fd.
 * Everything afterwards (checks, mount, unmount on failure) goes through that
 * fd, never through the path again, so renaming or symlinking components
 * after the lookup changes nothing.
 */
#pragma once

#include <cstdint>
#include <string>

#include "core/result.h"
#include "core/unique_fd.h"
#include "util/fuse_conf.h"
#include "util/privileges.h"

namespace fsvc::helper
{

struct Mountpoint {
	std::string path;     /* as the caller wrote it */
	std::string resolved; /* absolute path of the pinned object, for mtab */
	UniqueFD fd;          /* O_PATH pin */
	bool is_dir = false;
};

/*
 * Look up path as the caller and pin it. expected_fmt is 0, S_IFDIR or
 * S_IFREG. Non-root callers need write access to a regular file. Prints the
 * reason; errors: -ENOTDIR / -EISDIR (format mismatch), -EACCES (neither a
 * directory nor a regular file, or no access), or the lookup's errno.
 */
Result<Mountpoint> open_mountpoint(const Caller &caller, const std::string &path,
				   uint16_t expected_fmt);

/*
 * The rules for a non-root caller, checked right before mounting:
 * mount_max (-EUSERS), write access (a sticky directory must be the
 * caller's; a regular file is reopened for writing and must be the same
 * inode), and the filesystem under the mountpoint must be on the allow-list
 * (-EPERM). Prints the reason.
 */
int check_nonroot_mountpoint(const Caller &caller, const Mountpoint &mp, const FuseConf &conf);

/*
 * Where an fd's object is, as the kernel names it (/proc/self/fd/N): no
 * lookup of a user's path. -ENAMETOOLONG if it does not fit PATH_MAX, -ENOENT
 * if the object was deleted (the kernel appends " (deleted)"), -EACCES if it
 * is not an absolute path (another mount namespace, an anonymous inode).
 */
Result<std::string> pinned_path(int fd);

/* Is a filesystem with this statfs magic one a non-root user may mount over? */
bool fstype_allowed_for_users(unsigned long f_type);

/* Number of fuse mounts in this mount namespace (fuse and fuse.*), or -errno. */
int count_fuse_mounts();

} // namespace fsvc::helper
