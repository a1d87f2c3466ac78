/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fs/ext4/fuse_ops.h"

#include <dirent.h>
#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <new>
#include <shared_mutex>
#include <string>
#include <vector>

namespace fsvc::ext4
{

namespace ops
{

Server &server(fuse_req_t req)
{
	return *static_cast<Server *>(fuse_req_userdata(req));
}

/* FUSE's root is node 1; ext4's root is inode 2, and inode 1 is never a node. */
ext2_ino_t toExt(fuse_ino_t n)
{
	return n == FUSE_ROOT_ID ? EXT2_ROOT_INO : ext2_ino_t(n);
}

fuse_ino_t toFuse(ext2_ino_t ino)
{
	return ino == EXT2_ROOT_INO ? FUSE_ROOT_ID : fuse_ino_t(ino);
}

int fillEntry(Filesystem &fs, ext2_ino_t ino, fuse_entry_param &e)
{
	std::memset(&e, 0, sizeof(e));
	auto st = fs.getattr(ino);
	if (!st)
		return st.error();
	e.ino = toFuse(ino);
	e.attr = *st;
	auto gen = fs.generation(ino);
	e.generation = gen ? *gen : 0;
	e.attr_timeout = kTimeout;
	e.entry_timeout = kTimeout;
	return 0;
}

} // namespace ops

namespace
{

using namespace ops;

/* Zeros for holes. calloc()'s fresh pages are never written, so they cost
 * no memory until read (and then map the kernel's zero page). */
constexpr size_t kZeroBytes = size_t(1) << 20;
const std::byte *zeros()
{
	static const auto *z = static_cast<const std::byte *>(std::calloc(1, kZeroBytes));
	return z;
}

void opInit(void *userdata, fuse_conn_info *conn)
{
	Server &s = *static_cast<Server *>(userdata);
	/* readdirplus always: a walk then needs no lookups and no getattrs. */
	if (s.readdirplus && (conn->capable & FUSE_CAP_READDIRPLUS))
		conn->want |= FUSE_CAP_READDIRPLUS;
	else
		conn->want &= ~FUSE_CAP_READDIRPLUS;
	conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
	/* The kernel enforces ACLs with default_permissions, like ext4 does. */
	if (conn->capable & FUSE_CAP_POSIX_ACL)
		conn->want |= FUSE_CAP_POSIX_ACL;
	if (!(conn->capable & FUSE_CAP_NO_OPEN_SUPPORT))
		s.no_open = false;
	if (conn->capable & FUSE_CAP_CACHE_SYMLINKS)
		conn->want |= FUSE_CAP_CACHE_SYMLINKS;
	if (conn->capable & FUSE_CAP_SPLICE_WRITE)
		conn->want |= FUSE_CAP_SPLICE_WRITE;
	conn->want |= FUSE_CAP_ASYNC_READ;
	conn->want &= ~FUSE_CAP_AUTO_INVAL_DATA;
	/* As much readahead as the kernel offers: it is sequential reads' speed. */
	conn->max_readahead = UINT32_MAX;
	conn->time_gran = 1;
	if (s.fs->writable()) {
		/* Opens are needed for O_TRUNC (done in open, atomically) and
		 * writes; the kernel's write-back cache is not used. */
		s.no_open = false;
		if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
			conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
		conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
		conn->want &= ~FUSE_CAP_HANDLE_KILLPRIV;
		/* The umask is ours to apply: not under a default ACL. */
		if (conn->capable & FUSE_CAP_DONT_MASK)
			conn->want |= FUSE_CAP_DONT_MASK;
	}
}

void opLookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	Server &s = server(req);
	Watchdog::Guard g(*s.watchdog, "lookup");
	auto ino = s.fs->lookup(toExt(parent), name);
	fuse_entry_param e;
	if (!ino) {
		if (ino.error() != -ENOENT) {
			fuse_reply_err(req, -ino.error());
			return;
		}
		/* A negative entry the kernel may cache: nothing appears later. */
		std::memset(&e, 0, sizeof(e));
		e.entry_timeout = kTimeout;
		fuse_reply_entry(req, &e);
		return;
	}
	if (int err = fillEntry(*s.fs, *ino, e); err < 0) {
		fuse_reply_err(req, -err);
		return;
	}
	s.fs->remember(*ino);
	if (fuse_reply_entry(req, &e) != 0)
		s.fs->forget(*ino, 1);
}

/* Read-only: inodes hold no per-lookup state. Read-write: an unlinked
 * inode is freed when the kernel forgets it last. */
void opForget(fuse_req_t req, fuse_ino_t ino, uint64_t n)
{
	server(req).fs->forget(toExt(ino), n);
	fuse_reply_none(req);
}

void opForgetMulti(fuse_req_t req, size_t count, fuse_forget_data *f)
{
	Server &s = server(req);
	for (size_t i = 0; i < count; i++)
		s.fs->forget(toExt(f[i].ino), f[i].nlookup);
	fuse_reply_none(req);
}

void opGetattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info *)
{
	Server &s = server(req);
	Watchdog::Guard g(*s.watchdog, "getattr");
	auto st = s.fs->getattr(toExt(ino));
	if (!st)
		fuse_reply_err(req, -st.error());
	else
		fuse_reply_attr(req, &*st, kTimeout);
}

void opReadlink(fuse_req_t req, fuse_ino_t ino)
{
	Server &s = server(req);
	Watchdog::Guard g(*s.watchdog, "readlink");
	auto t = s.fs->readlink(toExt(ino));
	if (!t)
		fuse_reply_err(req, -t.error());
	else
		fuse_reply_readlink(req, t->c_str());
}

struct OpenFile {
	std::shared_ptr<const FileMap> map;
};

void opOpen(fuse_req_t req, fuse_ino_t ino, fuse_file_info *fi)
{
	Server &s = server(req);
	Watchdog::Guard g(*s.watchdog, "open");
	if (s.fs->writable()) {
		/* FUSE_ATOMIC_O_TRUNC: the kernel truncates nothing itself. */
		if (fi->flags & O_TRUNC) {
			struct stat st {
			};
			auto r = s.fs->setattr(toExt(ino), st, fsvc::ext4::set_attr::size);
			if (!r) {
				fuse_reply_err(req, -r.error());
				return;
			}
		}
		/* No map kept: reads take the current one under the data lock. */
		fi->fh = 0;
		fi->keep_cache = 1;
		s.fs->opened(toExt(ino));
		if (fuse_reply_open(req, fi) != 0)
			s.fs->released(toExt(ino));
		return;
	}
	if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	if (s.no_open) {
		/* The kernel stops sending opens: reads map the file themselves. */
		fuse_reply_err(req, ENOSYS);
		return;
	}
	auto map = s.fs->openFile(toExt(ino));
	if (!map) {
		fuse_reply_err(req, -map.error());
		return;
	}
	auto *of = new (std::nothrow) OpenFile{std::move(*map)};
	if (!of) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	fi->fh = reinterpret_cast<uint64_t>(of);
	fi->keep_cache = 1;
	if (fuse_reply_open(req, fi) != 0)
		delete of;
}

void opRead(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info *fi)
{
	Server &s = server(req);
	Watchdog::Guard g(*s.watchdog, "read");
	/* Read-write: no write, truncate or punch of this file until the
	 * reply (and its pread) is done. */
	std::shared_lock<std::shared_mutex> dl;
	if (s.fs->writable())
		dl = std::shared_lock(s.fs->dataLock(toExt(ino)));
	std::shared_ptr<const FileMap> map;
	if (fi->fh) {
		map = reinterpret_cast<const OpenFile *>(fi->fh)->map;
	} else {
		auto m = s.fs->openFile(toExt(ino));
		if (!m) {
			fuse_reply_err(req, -m.error());
			return;
		}
		map = std::move(*m);
	}
	auto plan = s.fs->planRead(*map, uint64_t(off), size);
	if (!plan) {
		fuse_reply_err(req, -plan.error());
		return;
	}
	/* Holes longer than the zero buffer become several buffers. */
	std::vector<Segment> segs;
	segs.reserve(plan->size());
	for (const Segment &sg : *plan) {
		if (sg.kind != Segment::Kind::Zero) {
			segs.push_back(sg);
			continue;
		}
		for (size_t done = 0; done < sg.len; done += kZeroBytes)
			segs.push_back(Segment{Segment::Kind::Zero, 0,
					       std::min(kZeroBytes, sg.len - done), nullptr});
	}
	const size_t n = segs.size();
	if (n == 0) {
		fuse_reply_buf(req, nullptr, 0);
		return;
	}
	if (!zeros()) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	/* A fuse_bufvec with n buffers (the struct ends in a one-element array). */
	std::vector<std::byte> storage(sizeof(fuse_bufvec) + n * sizeof(fuse_buf));
	auto *bv = new (storage.data()) fuse_bufvec{};
	bv->count = n;
	for (size_t i = 0; i < n; i++) {
		const Segment &sg = segs[i];
		fuse_buf b{};
		b.size = sg.len;
		switch (sg.kind) {
		case Segment::Kind::Device:
			b.flags =
			    fuse_buf_flags(FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK | FUSE_BUF_FD_RETRY);
			b.fd = s.fs->fd();
			b.pos = off_t(sg.pos);
			break;
		case Segment::Kind::Memory:
			b.mem = const_cast<std::byte *>(sg.mem);
			break;
		case Segment::Kind::Zero:
			b.mem = const_cast<std::byte *>(zeros());
			break;
		}
		bv->buf[i] = b;
	}
	fuse_reply_data(req, bv, FUSE_BUF_SPLICE_MOVE);
}

void opRelease(fuse_req_t req, fuse_ino_t ino, fuse_file_info *fi)
{
	server(req).fs->released(toExt(ino));
	delete reinterpret_cast<OpenFile *>(fi->fh);
	fuse_reply_err(req, 0);
}

struct OpenDir {
	std::shared_ptr<const Directory> dir;
};

void opOpendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info *fi)
{
	Server &s = server(req);
	Watchdog::Guard g(*s.watchdog, "opendir");
	auto dir = s.fs->openDir(toExt(ino));
	if (!dir) {
		fuse_reply_err(req, -dir.error());
		return;
	}
	auto *od = new (std::nothrow) OpenDir{std::move(*dir)};
	if (!od) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	fi->fh = reinterpret_cast<uint64_t>(od);
	fi->keep_cache = 1;
	fi->cache_readdir = 1;
	if (fuse_reply_open(req, fi) != 0)
		delete od;
}

bool isDot(const std::string &n)
{
	return n == "." || n == "..";
}

void readdirCommon(fuse_req_t req, size_t size, off_t off, fuse_file_info *fi, bool plus)
{
	Server &s = server(req);
	Watchdog::Guard g(*s.watchdog, plus ? "readdirplus" : "readdir");
	const Directory &dir = *reinterpret_cast<const OpenDir *>(fi->fh)->dir;
	std::vector<char> buf(size);
	size_t used = 0;
	for (size_t i = size_t(std::max<off_t>(off, 0)); i < dir.entries.size(); i++) {
		const DirEntry &de = dir.entries[i];
		size_t len;
		if (plus) {
			fuse_entry_param e;
			if (isDot(de.name) || fillEntry(*s.fs, de.ino, e) < 0) {
				/* No attributes: the kernel looks the name up when needed. */
				std::memset(&e, 0, sizeof(e));
				e.attr.st_ino = de.ino;
				e.attr.st_mode = mode_t(de.type) << 12;
			}
			len = fuse_add_direntry_plus(req, buf.data() + used, size - used,
						     de.name.c_str(), &e, off_t(i + 1));
			/* The kernel holds a reference to each entry it gets. */
			if (len <= size - used && e.ino != 0)
				s.fs->remember(de.ino);
		} else {
			struct stat st {
			};
			st.st_ino = de.ino;
			st.st_mode = mode_t(de.type) << 12;
			len = fuse_add_direntry(req, buf.data() + used, size - used,
						de.name.c_str(), &st, off_t(i + 1));
		}
		if (len > size - used)
			break;
		used += len;
	}
	fuse_reply_buf(req, buf.data(), used);
}

void opReaddir(fuse_req_t req, fuse_ino_t, size_t size, off_t off, fuse_file_info *fi)
{
	readdirCommon(req, size, off, fi, false);
}

void opReaddirplus(fuse_req_t req, fuse_ino_t, size_t size, off_t off, fuse_file_info *fi)
{
	readdirCommon(req, size, off, fi, true);
}

void opReleasedir(fuse_req_t req, fuse_ino_t, fuse_file_info *fi)
{
	delete reinterpret_cast<OpenDir *>(fi->fh);
	fuse_reply_err(req, 0);
}

void opStatfs(fuse_req_t req, fuse_ino_t)
{
	Server &s = server(req);
	Watchdog::Guard g(*s.watchdog, "statfs");
	auto sv = s.fs->statfs();
	if (!sv)
		fuse_reply_err(req, -sv.error());
	else
		fuse_reply_statfs(req, &*sv);
}

void opGetxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	Server &s = server(req);
	Watchdog::Guard g(*s.watchdog, "getxattr");
	auto v = s.fs->getxattr(toExt(ino), name);
	if (!v)
		fuse_reply_err(req, -v.error());
	else if (size == 0)
		fuse_reply_xattr(req, v->size());
	else if (v->size() > size)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, reinterpret_cast<const char *>(v->data()), v->size());
}

void opListxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	Server &s = server(req);
	Watchdog::Guard g(*s.watchdog, "listxattr");
	auto names = s.fs->listxattr(toExt(ino));
	if (!names) {
		fuse_reply_err(req, -names.error());
		return;
	}
	std::string all;
	for (const auto &n : *names) {
		all += n;
		all += '\0';
	}
	if (size == 0)
		fuse_reply_xattr(req, all.size());
	else if (all.size() > size)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, all.data(), all.size());
}

fuse_lowlevel_ops makeOps(bool writable)
{
	fuse_lowlevel_ops ops{};
	ops.init = opInit;
	ops.lookup = opLookup;
	ops.forget = opForget;
	ops.forget_multi = opForgetMulti;
	ops.getattr = opGetattr;
	ops.readlink = opReadlink;
	ops.open = opOpen;
	ops.read = opRead;
	ops.release = opRelease;
	ops.opendir = opOpendir;
	ops.readdir = opReaddir;
	ops.readdirplus = opReaddirplus;
	ops.releasedir = opReleasedir;
	ops.statfs = opStatfs;
	ops.getxattr = opGetxattr;
	ops.listxattr = opListxattr;
	if (writable)
		addWriteOps(ops);
	return ops;
}

} // namespace

const fuse_lowlevel_ops &fuseOps(bool writable)
{
	/* A read-only server has no write operations at all: the kernel then
	 * learns at once that there is no flush, setattr... (ENOSYS). */
	static const fuse_lowlevel_ops ro = makeOps(false), rw = makeOps(true);
	return writable ? rw : ro;
}

} // namespace fsvc::ext4
