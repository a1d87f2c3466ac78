/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The read-write FUSE operations of ext4-service: adapters to the engine's
 * write half (filesystem_write.cpp), each under the watchdog. On a
 * read-only mount the engine answers EROFS (the kernel already does, as
 * the mount is "ro").
 */
#include "fs/ext4/fuse_ops.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <span>
#include <string>

namespace fsvc::ext4::ops
{

namespace
{

Creator creator(fuse_req_t req)
{
	const fuse_ctx *c = fuse_req_ctx(req);
	return Creator{c->uid, c->gid, c->umask};
}

/* Reply with the entry of a new node; the kernel now holds a reference. */
void replyNew(fuse_req_t req, Result<ext2_ino_t> ino, fuse_file_info *fi = nullptr)
{
	Server &s = server(req);
	if (!ino) {
		fuse_reply_err(req, -ino.error());
		return;
	}
	fuse_entry_param e;
	if (int err = fillEntry(*s.fs, *ino, e); err < 0) {
		fuse_reply_err(req, -err);
		return;
	}
	s.fs->remember(*ino);
	if (fi)
		s.fs->opened(*ino);
	int r = fi ? fuse_reply_create(req, &e, fi) : fuse_reply_entry(req, &e);
	if (r != 0) {
		if (fi)
			s.fs->released(*ino);
		s.fs->forget(*ino, 1);
	}
}

void replyStatus(fuse_req_t req, const Result<void> &r)
{
	fuse_reply_err(req, r ? 0 : -r.error());
}

void opMknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	Server &s = server(req);
	Watchdog::Guard g(*s.watchdog, "mknod");
	/* Device nodes only on a mount that allows them (the kernel also
	 * wants CAP_MKNOD). */
	if ((S_ISCHR(mode) || S_ISBLK(mode)) && !s.allow_dev) {
		fuse_reply_err(req, EPERM);
		return;
	}
	replyNew(req, s.fs->mknod(toExt(parent), name, mode, rdev, creator(req)));
}

void opCreate(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, fuse_file_info *fi)
{
	Server &s = server(req);
	Watchdog::Guard g(*s.watchdog, "create");
	fi->fh = 0;
	fi->keep_cache = 1;
	replyNew(req, s.fs->mknod(toExt(parent), name, S_IFREG | (mode & 07777), 0, creator(req)),
		 fi);
}

void opMkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	Server &s = server(req);
	Watchdog::Guard g(*s.watchdog, "mkdir");
	replyNew(req, s.fs->mkdir(toExt(parent), name, mode, creator(req)));
}

void opSymlink(fuse_req_t req, const char *target, fuse_ino_t parent, const char *name)
{
	Server &s = server(req);
	Watchdog::Guard g(*s.watchdog, "symlink");
	replyNew(req, s.fs->symlink(toExt(parent), name, target, creator(req)));
}

void opLink(fuse_req_t req, fuse_ino_t ino, fuse_ino_t parent, const char *name)
{
	Server &s = server(req);
	Watchdog::Guard g(*s.watchdog, "link");
	auto r = s.fs->link(toExt(ino), toExt(parent), name);
	if (!r)
		fuse_reply_err(req, -r.error());
	else
		replyNew(req, toExt(ino));
}

void opUnlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	Server &s = server(req);
	Watchdog::Guard g(*s.watchdog, "unlink");
	replyStatus(req, s.fs->unlink(toExt(parent), name));
}

void opRmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	Server &s = server(req);
	Watchdog::Guard g(*s.watchdog, "rmdir");
	replyStatus(req, s.fs->rmdir(toExt(parent), name));
}

void opRename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
	      const char *newname, unsigned int flags)
{
	Server &s = server(req);
	Watchdog::Guard g(*s.watchdog, "rename");
	replyStatus(req, s.fs->rename(toExt(parent), name, toExt(newparent), newname, flags));
}

static_assert(FUSE_SET_ATTR_MODE == set_attr::mode && FUSE_SET_ATTR_UID == set_attr::uid &&
	      FUSE_SET_ATTR_GID == set_attr::gid && FUSE_SET_ATTR_SIZE == set_attr::size &&
	      FUSE_SET_ATTR_ATIME == set_attr::atime && FUSE_SET_ATTR_MTIME == set_attr::mtime &&
	      FUSE_SET_ATTR_ATIME_NOW == set_attr::atime_now &&
	      FUSE_SET_ATTR_MTIME_NOW == set_attr::mtime_now &&
	      FUSE_SET_ATTR_CTIME == set_attr::ctime);

void opSetattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set, fuse_file_info *)
{
	Server &s = server(req);
	Watchdog::Guard g(*s.watchdog, "setattr");
	auto st = s.fs->setattr(toExt(ino), *attr, to_set);
	if (!st)
		fuse_reply_err(req, -st.error());
	else
		fuse_reply_attr(req, &*st, kTimeout);
}

void opWrite(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
	     fuse_file_info *)
{
	Server &s = server(req);
	Watchdog::Guard g(*s.watchdog, "write");
	if (off < 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	auto n = s.fs->write(toExt(ino), std::as_bytes(std::span(buf, size)), uint64_t(off));
	if (!n)
		fuse_reply_err(req, -n.error());
	else
		fuse_reply_write(req, *n);
}

void opFallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off, off_t len, fuse_file_info *)
{
	Server &s = server(req);
	Watchdog::Guard g(*s.watchdog, "fallocate");
	if (off < 0 || len <= 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	replyStatus(req, s.fs->fallocate(toExt(ino), mode, uint64_t(off), uint64_t(len)));
}

void opFlush(fuse_req_t req, fuse_ino_t, fuse_file_info *)
{
	/* Writes reach the device before their reply; nothing is buffered. */
	fuse_reply_err(req, 0);
}

void opFsync(fuse_req_t req, fuse_ino_t, int, fuse_file_info *)
{
	Server &s = server(req);
	Watchdog::Guard g(*s.watchdog, "fsync");
	replyStatus(req, s.fs->fsync());
}

void opSetxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value, size_t size,
		int flags)
{
	Server &s = server(req);
	Watchdog::Guard g(*s.watchdog, "setxattr");
	replyStatus(req,
		    s.fs->setxattr(toExt(ino), name, std::as_bytes(std::span(value, size)), flags));
}

void opRemovexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	Server &s = server(req);
	Watchdog::Guard g(*s.watchdog, "removexattr");
	replyStatus(req, s.fs->removexattr(toExt(ino), name));
}

void opDestroy(void *userdata)
{
	/* A clean unmount: the image is marked clean and flushed. */
	auto &s = *static_cast<Server *>(userdata);
	if (s.fs)
		(void)s.fs->close();
}

} // namespace

void addWriteOps(fuse_lowlevel_ops &ops)
{
	ops.mknod = opMknod;
	ops.create = opCreate;
	ops.mkdir = opMkdir;
	ops.symlink = opSymlink;
	ops.link = opLink;
	ops.unlink = opUnlink;
	ops.rmdir = opRmdir;
	ops.rename = opRename;
	ops.setattr = opSetattr;
	ops.write = opWrite;
	ops.fallocate = opFallocate;
	ops.flush = opFlush;
	ops.fsync = opFsync;
	ops.fsyncdir = opFsync;
	ops.setxattr = opSetxattr;
	ops.removexattr = opRemovexattr;
	ops.destroy = opDestroy;
}

} // namespace fsvc::ext4::ops
