/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "util/mountpoint.h"

#include <array>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <mntent.h>
#include <string_view>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "util/messages.h"
#include "util/paths.h"

namespace fsvc::helper
{

namespace
{

std::string fd_path(int fd)
{
	return "/proc/self/fd/" + std::to_string(fd);
}

/* Reopen the pinned regular file for writing (as the caller) and check it is the same inode. */
int reopen_for_write(const Caller &caller, const Mountpoint &mp)
{
	struct stat pinned, reopened;
	if (fstat(mp.fd.get(), &pinned) < 0) {
		int err = errno;
		say("%s: %s", printable(mp.path).c_str(), errstr(err));
		return -err;
	}
	UniqueFD w;
	{
		AsCaller as(caller);
		w.reset(open(fd_path(mp.fd.get()).c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY));
	}
	if (!w.isValid()) {
		int err = errno;
		say("%s: %s", printable(mp.path).c_str(), errstr(err));
		return -err;
	}
	if (fstat(w.get(), &reopened) < 0) {
		int err = errno;
		say("%s: %s", printable(mp.path).c_str(), errstr(err));
		return -err;
	}
	if (pinned.st_dev != reopened.st_dev || pinned.st_ino != reopened.st_ino) {
		say("%s: mount point moved during fuse startup", printable(mp.path).c_str());
		return -EPERM;
	}
	return 0;
}

} // namespace

Result<std::string> pinned_path(int fd)
{
	/* One byte more than any path: a full buffer means readlink() truncated it. */
	std::array<char, PATH_MAX + 1> buf;
	ssize_t n = readlink(fd_path(fd).c_str(), buf.data(), buf.size());
	if (n < 0)
		return Error{-errno};
	if (static_cast<size_t>(n) >= buf.size())
		return Error{-ENAMETOOLONG};
	std::string path(buf.data(), static_cast<size_t>(n));
	if (path.empty() || path[0] != '/')
		return Error{-EACCES};
	constexpr std::string_view kDeleted = " (deleted)";
	if (path.size() >= kDeleted.size() &&
	    std::string_view(path).substr(path.size() - kDeleted.size()) == kDeleted)
		return Error{-ENOENT};
	return path;
}

Result<Mountpoint> open_mountpoint(const Caller &caller, const std::string &path,
				   uint16_t expected_fmt)
{
	Mountpoint mp;
	mp.path = path;
	{
		AsCaller as(caller);
		mp.fd.reset(open(path.c_str(), O_PATH | O_CLOEXEC));
	}
	if (!mp.fd.isValid()) {
		int err = errno;
		say("%s: %s", printable(path).c_str(), errstr(err));
		return Error{-err};
	}
	struct stat st;
	if (fstat(mp.fd.get(), &st) < 0) {
		int err = errno;
		say("%s: %s", printable(path).c_str(), errstr(err));
		return Error{-err};
	}
	if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
		say("%s: mount point must be a directory or a regular file",
		    printable(path).c_str());
		return Error{-EACCES};
	}
	if (expected_fmt == S_IFDIR && !S_ISDIR(st.st_mode)) {
		say("%s: %s", printable(path).c_str(), errstr(ENOTDIR));
		return Error{-ENOTDIR};
	}
	if (expected_fmt == S_IFREG && !S_ISREG(st.st_mode)) {
		say("%s: %s", printable(path).c_str(), errstr(EISDIR));
		return Error{-EISDIR};
	}
	mp.is_dir = S_ISDIR(st.st_mode);

	if (!mp.is_dir && !caller.is_root()) {
		/* Users may only cover files they can write. */
		if (int r = reopen_for_write(caller, mp); r < 0)
			return Error{r};
	}

	auto resolved = pinned_path(mp.fd.get());
	if (!resolved) {
		if (resolved.error() == -ENOENT)
			say("%s: mount point has been deleted", printable(path).c_str());
		else
			say("%s: could not resolve path to mount point: %s",
			    printable(path).c_str(), errstr(resolved.error()));
		return Error{resolved.error()};
	}
	mp.resolved = std::move(*resolved);
	return mp;
}

bool fstype_allowed_for_users(unsigned long f_type)
{
	/*
	 * Filesystems a user may cover (as fusermount3 allows); notably not
	 * procfs, sysfs, devpts, cgroup, securityfs... where "write access"
	 * means something else entirely.
	 */
	static constexpr std::array<unsigned long, 36> kAllowed = {
	    0x61756673,           /* aufs */
	    0x00000187,           /* autofs */
	    0xca451a4e,           /* bcachefs */
	    0x9123683e,           /* btrfs */
	    0x00c36400,           /* ceph */
	    0xff534d42,           /* cifs */
	    0x0000f15f,           /* ecryptfs */
	    0x2011bab0,           /* exfat */
	    0x0000ef53,           /* ext2/3/4 */
	    0xf2f52010,           /* f2fs */
	    0x65735546,           /* fuse */
	    0x01161970,           /* gfs2 */
	    0x47504653,           /* gpfs */
	    0x0000482b,           /* hfsplus */
	    0x000072b6,           /* jffs2 */
	    0x3153464a,           /* jfs */
	    0x0bd00bd0,           /* lustre */
	    0x00004d44,           /* msdos/vfat */
	    0x0000564c,           /* ncp */
	    0x00006969,           /* nfs */
	    0x00003434,           /* nilfs */
	    0x5346544e,           /* ntfs */
	    0x7366746e,           /* ntfs3 */
	    0x5346414f,           /* openafs */
	    0x794c7630,           /* overlayfs */
	    0xaad7aaea,           /* panfs */
	    0x52654973,           /* reiserfs */
	    0xfe534d42,           /* smb2 */
	    0x73717368,           /* squashfs */
	    0x01021994,           /* tmpfs */
	    0x24051905,           /* ubifs */
	    0x18031977,           /* wekafs */
	    0x58465342,           /* xfs */
	    0x2fc12fc1,           /* zfs */
	    0x858458f6,           /* ramfs */
	    0x736675005346544eUL, /* ufsd */
	};
	for (unsigned long t : kAllowed)
		if (t == f_type)
			return true;
	return false;
}

int count_fuse_mounts()
{
	std::FILE *f = setmntent("/proc/self/mounts", "re");
	if (!f)
		return -errno;
	int n = 0;
	while (const mntent *e = getmntent(f)) {
		if (std::strcmp(e->mnt_type, "fuse") == 0 ||
		    std::strncmp(e->mnt_type, "fuse.", 5) == 0)
			n++;
	}
	endmntent(f);
	return n;
}

int check_nonroot_mountpoint(const Caller &caller, const Mountpoint &mp, const FuseConf &conf)
{
	if (conf.mount_max >= 0) {
		int n = count_fuse_mounts();
		if (n < 0) {
			say("counting fuse mounts: %s", errstr(n));
			return n;
		}
		if (n >= conf.mount_max) {
			say("too many FUSE filesystems mounted; mount_max=N can be set in %s",
			    kFuseConfPath);
			return -EUSERS;
		}
	}

	struct stat st;
	struct statfs sfs;
	if (fstat(mp.fd.get(), &st) < 0 || fstatfs(mp.fd.get(), &sfs) < 0) {
		int err = errno;
		say("%s: %s", printable(mp.path).c_str(), errstr(err));
		return -err;
	}

	if (mp.is_dir) {
		/* In a sticky directory such as /tmp, only the owner may cover it. */
		if ((st.st_mode & S_ISVTX) && st.st_uid != caller.uid()) {
			say("mountpoint %s not owned by user", printable(mp.path).c_str());
			return -EPERM;
		}
		int r;
		{
			AsCaller as(caller);
			/* No AT_EACCESS: the real ids decide, which are the caller's. */
			r = faccessat(mp.fd.get(), "", W_OK, AT_EMPTY_PATH);
		}
		if (r < 0) {
			say("user has no write access to mountpoint %s",
			    printable(mp.path).c_str());
			return -EPERM;
		}
	} else {
		if (int r = reopen_for_write(caller, mp); r < 0)
			return -EPERM;
	}

	if (!fstype_allowed_for_users(static_cast<unsigned long>(sfs.f_type))) {
		say("mounting over filesystem type %#010lx is forbidden",
		    static_cast<unsigned long>(sfs.f_type));
		return -EPERM;
	}
	return 0;
}

} // namespace fsvc::helper
