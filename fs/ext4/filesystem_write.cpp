/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The read-write half of the engine: every change is made with libext2fs's
 * primitives under the one lock, then exactly the cached attributes,
 * directories and file maps it made stale are dropped.
 *
 * We do not write through the journal: the filesystem is marked not clean
 * (s_state without EXT2_VALID_FS) while mounted read-write, so after a crash
 * the next check is a full one; close() marks it clean again.
 */
#include "fs/ext4/filesystem.h"

#include "fs/ext4/acl.h"
#include "fs/ext4/inode_table_cache.h"

#include <ext2fs/ext2_err.h>

#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

namespace fsvc::ext4
{

namespace
{

constexpr uint32_t kExtentsFl = 0x80000;
constexpr unsigned kLinkMax = 65000; /* ext4's EXT4_LINK_MAX */

/* The directory entry file type for a mode (EXT2_FT_*). */
int fileType(unsigned mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return EXT2_FT_REG_FILE;
	case S_IFDIR:
		return EXT2_FT_DIR;
	case S_IFCHR:
		return EXT2_FT_CHRDEV;
	case S_IFBLK:
		return EXT2_FT_BLKDEV;
	case S_IFIFO:
		return EXT2_FT_FIFO;
	case S_IFSOCK:
		return EXT2_FT_SOCK;
	case S_IFLNK:
		return EXT2_FT_SYMLINK;
	default:
		return EXT2_FT_UNKNOWN;
	}
}

struct timespec now()
{
	struct timespec ts {
	};
	clock_gettime(CLOCK_REALTIME, &ts);
	return ts;
}

/* ext4's timestamp: the low 32 bits of the seconds, and in the extra word
 * two epoch bits and the nanoseconds. */
void encodeTime(const struct timespec &ts, uint32_t &lo, uint32_t *extra)
{
	/* Clamped to what the inode can hold, as the kernel does. */
	int64_t sec = ts.tv_sec, nsec = ts.tv_nsec;
	const int64_t lo_min = INT32_MIN,
		      hi = extra ? (int64_t(1) << 34) + INT32_MIN - 1 : INT32_MAX;
	if (sec < lo_min || sec > hi) {
		sec = sec < lo_min ? lo_min : hi;
		nsec = 0;
	}
	lo = uint32_t(sec);
	if (extra)
		*extra = uint32_t(((sec - int64_t(int32_t(lo))) >> 32) & 3) | (uint32_t(nsec) << 2);
}

bool hasExtra(const ext2_filsys fs, const ext2_inode_large &in, size_t end)
{
	return EXT2_INODE_SIZE(fs->super) > EXT2_GOOD_OLD_INODE_SIZE &&
	       end <= EXT2_GOOD_OLD_INODE_SIZE + size_t(in.i_extra_isize);
}

#define FIELD_END(f) (offsetof(ext2_inode_large, f) + sizeof(ext2_inode_large::f))

void setAtime(ext2_filsys fs, ext2_inode_large &in, const struct timespec &ts)
{
	encodeTime(ts, in.i_atime,
		   hasExtra(fs, in, FIELD_END(i_atime_extra)) ? &in.i_atime_extra : nullptr);
}
void setMtime(ext2_filsys fs, ext2_inode_large &in, const struct timespec &ts)
{
	encodeTime(ts, in.i_mtime,
		   hasExtra(fs, in, FIELD_END(i_mtime_extra)) ? &in.i_mtime_extra : nullptr);
}
void setCtime(ext2_filsys fs, ext2_inode_large &in, const struct timespec &ts)
{
	encodeTime(ts, in.i_ctime,
		   hasExtra(fs, in, FIELD_END(i_ctime_extra)) ? &in.i_ctime_extra : nullptr);
}

Error ext2Error(errcode_t err, const char *what, ext2_ino_t ino)
{
	int e = errnoFromExt2(err);
	if (e == -EUCLEAN || e == -EIO)
		logLine("inode %u: %s: %s", ino, what, error_message(err));
	return Error{e};
}

uint64_t inodeSize(const ext2_inode_large &in)
{
	return uint64_t(in.i_size) | (uint64_t(in.i_size_high) << 32);
}

} // namespace

/* Called by Filesystem::open() on a read-write descriptor. */
Result<void> Filesystem::openForWrite()
{
	/* Data is read with pread() outside the lock, so nothing may wait in
	 * the I/O manager's write-back cache. */
	errcode_t err = io_channel_set_options(fs_->io, "cache=off");
	if (!err)
		err = ext2fs_read_bitmaps(fs_);
	if (err) {
		logLine("cannot read the allocation bitmaps: %s", error_message(err));
		return Error{errnoFromExt2(err)};
	}
	/* Inode-table blocks wait in memory until the next commit. */
	inode_table_cache_enable(fs_->io, fs_);
	last_commit_ = std::chrono::steady_clock::now();
	/* Not clean while mounted: a crash forces a full check (e2fsck -p). */
	fs_->super->s_state &= ~EXT2_VALID_FS;
	fs_->super->s_mnt_count++;
	fs_->super->s_mtime = uint32_t(time(nullptr));
	ext2fs_mark_super_dirty(fs_);
	if (auto r = flushLocked(); !r)
		return r;
	writable_ = true;
	committer_ = std::thread([this] { commitLoop(); });
	return {};
}

/* The commit every kCommitInterval, also when no request comes. */
void Filesystem::commitLoop()
{
	std::unique_lock l(mu_);
	while (!stop_commit_) {
		commit_cv_.wait_until(l, last_commit_ + kCommitInterval);
		if (stop_commit_ || !writable_)
			break;
		if (errcode_t err = commitIfDue()) {
			errors_ = true;
			logLine("cannot write the inode tables: %s", error_message(err));
		}
	}
}

void Filesystem::stopCommitter()
{
	{
		std::lock_guard g(mu_);
		stop_commit_ = true;
	}
	commit_cv_.notify_all();
	if (committer_.joinable())
		committer_.join();
}

Result<void> Filesystem::flushLocked()
{
	last_commit_ = std::chrono::steady_clock::now();
	errcode_t err = inode_table_cache_writeback(fs_->io);
	if (!err)
		err = ext2fs_flush2(fs_, EXT2_FLAG_FLUSH_NO_SYNC);
	if (err) {
		errors_ = true;
		logLine("cannot write the filesystem's metadata: %s", error_message(err));
		return Error{-EIO};
	}
	if (::fsync(fd_.get()) < 0) {
		errors_ = true;
		return Error{-errno};
	}
	return {};
}

Result<void> Filesystem::fsync()
{
	if (!writable_)
		return {};
	std::lock_guard g(mu_);
	return flushLocked();
}

Result<void> Filesystem::close()
{
	stopCommitter();
	std::lock_guard g(mu_);
	if (!writable_)
		return {};
	/* The kernel is gone: unlinked inodes it still held are freed now. */
	std::vector<ext2_ino_t> orphans;
	for (const auto &o : orphans_)
		orphans.push_back(o.first);
	for (ext2_ino_t ino : orphans)
		(void)freeInode(ino);
	orphans_.clear();
	nlookup_.clear();
	opens_.clear();
	if (!errors_)
		fs_->super->s_state |= EXT2_VALID_FS;
	else
		logLine("errors while writing: the filesystem stays marked unclean (run e2fsck)");
	fs_->super->s_wtime = uint32_t(time(nullptr));
	ext2fs_mark_super_dirty(fs_);
	auto r = flushLocked();
	writable_ = false;
	return r;
}

void Filesystem::invalidate(ext2_ino_t ino)
{
	attr_cache_.erase(ino);
	if (auto it = dir_cache_.find(ino); it != dir_cache_.end()) {
		dir_cache_entries_ -= std::min(dir_cache_entries_, it->second->entries.size());
		dir_cache_.erase(it);
	}
	if (auto it = map_cache_.find(ino); it != map_cache_.end()) {
		map_cache_weight_ -= std::min(map_cache_weight_, it->second->runs.size() + 1);
		map_cache_.erase(it);
	}
}

Result<void> Filesystem::checkName(std::string_view name) const
{
	if (!writable_)
		return Error{-EROFS};
	if (name.empty() || name.size() > EXT2_NAME_LEN)
		return Error{-ENAMETOOLONG};
	if (name.find('/') != std::string_view::npos || name == "." || name == "..")
		return Error{-EINVAL};
	return {};
}

Result<ext2_ino_t> Filesystem::lookupLocked(ext2_ino_t parent, std::string_view name)
{
	auto dir = dirLocked(parent);
	if (!dir)
		return Error{dir.error()};
	auto it = (*dir)->index.find(name);
	if (it == (*dir)->index.end())
		return Error{-ENOENT};
	ext2_ino_t ino = (*dir)->entries[it->second].ino;
	if (!validIno(ino)) {
		logLine("directory %u: entry points to invalid inode %u", parent, ino);
		return Error{-EUCLEAN};
	}
	return ino;
}

Result<void> Filesystem::writeInode(ext2_ino_t ino, ext2_inode_large &in)
{
	int size = int(std::min<size_t>(sizeof(in), EXT2_INODE_SIZE(fs_->super)));
	errcode_t err =
	    ext2fs_write_inode_full(fs_, ino, reinterpret_cast<ext2_inode *>(&in), size);
	invalidate(ino);
	if (!err)
		err = commitIfDue();
	if (err) {
		errors_ = true;
		return ext2Error(err, "writing the inode", ino);
	}
	return {};
}

/* The periodic commit of held inode-table blocks (no fsync), like the
 * kernel's journal commit interval. */
errcode_t Filesystem::commitIfDue()
{
	auto t = std::chrono::steady_clock::now();
	if (t - last_commit_ < kCommitInterval)
		return 0;
	last_commit_ = t;
	if (inode_table_cache_dirty(fs_->io) == 0)
		return 0;
	return inode_table_cache_writeback(fs_->io);
}

Result<void> Filesystem::touchDir(ext2_ino_t dir)
{
	auto in = readInode(dir);
	if (!in)
		return Error{in.error()};
	auto t = now();
	setMtime(fs_, *in, t);
	setCtime(fs_, *in, t);
	return writeInode(dir, *in);
}

/* A new entry; a full linear directory grows by a block (htree ones grow
 * inside ext2fs_link). */
Result<void> Filesystem::addEntry(ext2_ino_t dir, const std::string &name, ext2_ino_t ino,
				  unsigned mode)
{
	invalidate(dir);
	errcode_t err = ext2fs_link(fs_, dir, name.c_str(), ino, fileType(mode));
	if (err == EXT2_ET_DIR_NO_SPACE) {
		err = ext2fs_expand_dir(fs_, dir);
		if (!err)
			err = ext2fs_link(fs_, dir, name.c_str(), ino, fileType(mode));
	}
	invalidate(dir);
	if (err)
		return ext2Error(err, "adding a directory entry", dir);
	return {};
}

namespace
{

struct SetEntry {
	const char *name;
	size_t len;
	ext2_ino_t ino;
	int ft;
	bool filetype;
	bool done = false;
};

int setEntryProc(ext2_ino_t, int, struct ext2_dir_entry *d, int, int, char *, void *priv)
{
	auto *s = static_cast<SetEntry *>(priv);
	if (d->inode == 0 || size_t(ext2fs_dirent_name_len(d)) != s->len ||
	    std::memcmp(d->name, s->name, s->len) != 0)
		return 0;
	d->inode = s->ino;
	if (s->filetype)
		ext2fs_dirent_set_file_type(d, s->ft);
	s->done = true;
	return DIRENT_CHANGED | DIRENT_ABORT;
}

} // namespace

/* Point the existing entry @p name of @p dir at @p ino (rename over a
 * name, "..", exchange): no space is needed, the hash is unchanged. */
Result<void> Filesystem::setEntry(ext2_ino_t dir, const char *name, ext2_ino_t ino, unsigned mode)
{
	SetEntry s{name, std::strlen(name), ino, fileType(mode),
		   ext2fs_has_feature_filetype(fs_->super) != 0};
	invalidate(dir);
	errcode_t err = ext2fs_dir_iterate2(fs_, dir, 0, nullptr, setEntryProc, &s);
	if (err) {
		errors_ = true;
		return ext2Error(err, "changing a directory entry", dir);
	}
	if (!s.done)
		return Error{-ENOENT};
	return {};
}

/* Free an inode nobody references: its blocks, its xattr block, the inode. */
Result<void> Filesystem::freeInode(ext2_ino_t ino)
{
	auto in = readInode(ino);
	if (!in)
		return Error{in.error()};
	auto *raw = reinterpret_cast<ext2_inode *>(&*in);
	bool dir = LINUX_S_ISDIR(in->i_mode);
	if (ext2fs_inode_has_valid_blocks2(fs_, raw)) {
		errcode_t err = ext2fs_punch(fs_, ino, raw, nullptr, 0, ~0ULL);
		if (err) {
			errors_ = true;
			return ext2Error(err, "freeing the blocks", ino);
		}
		/* ext2fs_punch wrote the inode; read back what it left. */
		auto again = readInode(ino);
		if (!again)
			return Error{again.error()};
		*in = *again;
	}
	errcode_t err = ext2fs_free_ext_attr(fs_, ino, &*in);
	if (err) {
		errors_ = true;
		return ext2Error(err, "freeing the xattr block", ino);
	}
	in->i_links_count = 0;
	in->i_size = 0;
	in->i_size_high = 0;
	in->i_dtime = uint32_t(time(nullptr));
	if (auto r = writeInode(ino, *in); !r)
		return r;
	ext2fs_inode_alloc_stats2(fs_, ino, -1, dir ? 1 : 0);
	orphans_.erase(ino);
	return {};
}

/* One name of @p ino is gone: drop its link count, free it when no name
 * and no kernel reference is left. */
Result<void> Filesystem::dropLink(ext2_ino_t ino, bool dir)
{
	auto in = readInode(ino);
	if (!in)
		return Error{in.error()};
	if (dir || in->i_links_count <= 1)
		in->i_links_count = 0;
	else
		in->i_links_count--;
	setCtime(fs_, *in, now());
	if (auto r = writeInode(ino, *in); !r)
		return r;
	if (in->i_links_count > 0)
		return {};
	/* Still open: freed at the last release. A directory may still be
	 * someone's cwd: freed at the kernel's last forget. */
	bool held = opens_.count(ino) != 0;
	if (dir)
		if (auto it = nlookup_.find(ino); it != nlookup_.end() && it->second > 0)
			held = true;
	if (held) {
		orphans_[ino] = true;
		return {};
	}
	return freeInode(ino);
}

void Filesystem::opened(ext2_ino_t ino)
{
	if (!writable_)
		return;
	std::lock_guard g(mu_);
	opens_[ino]++;
}

void Filesystem::released(ext2_ino_t ino)
{
	if (!writable_)
		return;
	std::unique_lock dl(dataLock(ino));
	std::lock_guard g(mu_);
	auto it = opens_.find(ino);
	if (it == opens_.end())
		return;
	if (--it->second > 0)
		return;
	opens_.erase(it);
	if (orphans_.count(ino))
		(void)freeInode(ino);
}

void Filesystem::remember(ext2_ino_t ino, uint64_t n)
{
	if (!writable_)
		return;
	std::lock_guard g(mu_);
	nlookup_[ino] += n;
}

void Filesystem::forget(ext2_ino_t ino, uint64_t n)
{
	if (!writable_)
		return;
	std::unique_lock dl(dataLock(ino));
	std::lock_guard g(mu_);
	auto it = nlookup_.find(ino);
	if (it == nlookup_.end())
		return;
	it->second -= std::min(it->second, n);
	if (it->second > 0)
		return;
	nlookup_.erase(it);
	if (orphans_.count(ino) && !opens_.count(ino))
		(void)freeInode(ino);
}

/* The owner of a new node, as inode_init_owner() makes it: under a
 * set-group-ID directory the group is the directory's, and a new
 * directory is set-group-ID too. */
Result<Creator> Filesystem::ownerIn(ext2_ino_t parent, const Creator &who, mode_t &mode)
{
	auto p = readInode(parent);
	if (!p)
		return Error{p.error()};
	Creator c = who;
	if (p->i_mode & S_ISGID) {
		c.gid = inode_gid(*p);
		if (S_ISDIR(mode))
			mode |= S_ISGID;
	}
	return c;
}

/* A new inode linked as @p name in @p parent (not a directory). */
Result<ext2_ino_t> Filesystem::newNode(ext2_ino_t parent, std::string_view name, mode_t mode,
				       dev_t rdev, const Creator &creator)
{
	auto owner = ownerIn(parent, creator, mode);
	if (!owner)
		return Error{owner.error()};
	const Creator &who = *owner;
	if (auto r = checkName(name); !r)
		return Error{r.error()};
	auto exists = lookupLocked(parent, name);
	if (exists)
		return Error{-EEXIST};
	if (exists.error() != -ENOENT)
		return Error{exists.error()};
	ext2_ino_t ino = 0;
	errcode_t err = ext2fs_new_inode(fs_, parent, int(mode), nullptr, &ino);
	if (err)
		return ext2Error(err, "allocating an inode", parent);
	ext2_inode_large in{};
	in.i_mode = uint16_t(mode);
	in.i_uid = uint16_t(who.uid);
	ext2fs_set_i_uid_high(in, uint16_t(who.uid >> 16));
	in.i_gid = uint16_t(who.gid);
	ext2fs_set_i_gid_high(in, uint16_t(who.gid >> 16));
	in.i_links_count = 1;
	if (getrandom(&in.i_generation, sizeof(in.i_generation), GRND_NONBLOCK) < 0)
		in.i_generation = uint32_t(time(nullptr)) ^ ino;
	if (S_ISCHR(mode) || S_ISBLK(mode)) {
		/* The old 8:8 encoding when it fits, else the new one in block 1. */
		unsigned maj = major(rdev), min = minor(rdev);
		if (maj < 256 && min < 256)
			in.i_block[0] = (maj << 8) | min;
		else
			in.i_block[1] = (min & 0xff) | (maj << 8) | ((min & ~0xffU) << 12);
	}
	/* Initialises the whole on-disk inode (zeroed tail, extra_isize). */
	err = ext2fs_write_new_inode(fs_, ino, reinterpret_cast<ext2_inode *>(&in));
	if (err)
		return ext2Error(err, "writing a new inode", ino);
	if (EXT2_INODE_SIZE(fs_->super) > EXT2_GOOD_OLD_INODE_SIZE)
		in.i_extra_isize = uint16_t(
		    std::min<size_t>(sizeof(ext2_inode_large) - EXT2_GOOD_OLD_INODE_SIZE,
				     EXT2_INODE_SIZE(fs_->super) - EXT2_GOOD_OLD_INODE_SIZE));
	auto t = now();
	setAtime(fs_, in, t);
	setMtime(fs_, in, t);
	setCtime(fs_, in, t);
	if (hasExtra(fs_, in, FIELD_END(i_crtime_extra)))
		encodeTime(t, in.i_crtime, &in.i_crtime_extra);
	if (S_ISREG(mode) && ext2fs_has_feature_extents(fs_->super)) {
		ext2_extent_handle_t h = nullptr;
		err = ext2fs_extent_open2(fs_, ino, reinterpret_cast<ext2_inode *>(&in), &h);
		if (err)
			return ext2Error(err, "starting an extent tree", ino);
		ext2fs_extent_free(h);
	}
	if (auto r = writeInode(ino, in); !r)
		return Error{r.error()};
	if (auto r = addEntry(parent, std::string(name), ino, mode); !r)
		return Error{r.error()};
	ext2fs_inode_alloc_stats2(fs_, ino, +1, 0);
	if (auto m = inheritAcl(parent, ino, mode, who); !m)
		return Error{m.error()};
	if (auto r = touchDir(parent); !r)
		return Error{r.error()};
	return ino;
}

/* The kernel leaves the umask and default ACLs to us (FUSE_POSIX_ACL):
 * with a default ACL on the parent the new inode inherits it, masked by
 * the mode asked for (as posix_acl_create() does), else the umask applies. */
Result<mode_t> Filesystem::inheritAcl(ext2_ino_t parent, ext2_ino_t ino, mode_t mode,
				      const Creator &who)
{
	std::vector<std::byte> dflt;
	if (!S_ISLNK(mode)) {
		struct ext2_xattr_handle *h = nullptr;
		if (!ext2fs_xattrs_open(fs_, parent, &h)) {
			void *v = nullptr;
			size_t len = 0;
			if (!ext2fs_xattrs_read(h) &&
			    !ext2fs_xattr_get(h, "system.posix_acl_default", &v, &len)) {
				dflt.assign(static_cast<std::byte *>(v),
					    static_cast<std::byte *>(v) + len);
				ext2fs_free_mem(&v);
			}
			ext2fs_xattrs_close(&h);
		}
	}
	mode_t perm = mode & 07777;
	std::vector<std::byte> access;
	if (!dflt.empty()) {
		access = dflt;
		auto masked = aclCreateMasq(access, perm);
		if (!masked) {
			/* A malformed default ACL: ignored, as if absent. */
			access.clear();
			dflt.clear();
			perm = mode & 07777;
		} else if (!*masked) {
			access.clear(); /* the mode says it all */
		}
	}
	if (dflt.empty())
		perm &= ~who.umask;
	auto in = readInode(ino);
	if (!in)
		return Error{in.error()};
	in->i_mode = uint16_t((mode & S_IFMT) | perm);
	if (auto r = writeInode(ino, *in); !r)
		return Error{r.error()};
	if (access.empty() && !(S_ISDIR(mode) && !dflt.empty()))
		return mode_t(in->i_mode);
	struct ext2_xattr_handle *h = nullptr;
	errcode_t err = ext2fs_xattrs_open(fs_, ino, &h);
	if (!err)
		err = ext2fs_xattrs_read(h);
	if (!err && !access.empty())
		err = ext2fs_xattr_set(h, "system.posix_acl_access", access.data(), access.size());
	if (!err && S_ISDIR(mode) && !dflt.empty())
		err = ext2fs_xattr_set(h, "system.posix_acl_default", dflt.data(), dflt.size());
	if (h)
		ext2fs_xattrs_close(&h);
	invalidate(ino);
	if (err)
		return ext2Error(err, "inheriting the default ACL", ino);
	return mode_t(in->i_mode);
}

Result<ext2_ino_t> Filesystem::mknod(ext2_ino_t parent, std::string_view name, mode_t mode,
				     dev_t rdev, const Creator &who)
{
	if (!S_ISREG(mode) && !S_ISFIFO(mode) && !S_ISSOCK(mode) && !S_ISCHR(mode) &&
	    !S_ISBLK(mode))
		return Error{-EINVAL};
	std::lock_guard g(mu_);
	return newNode(parent, name, mode, rdev, who);
}

Result<ext2_ino_t> Filesystem::mkdir(ext2_ino_t parent, std::string_view name, mode_t mode,
				     const Creator &creator)
{
	std::lock_guard g(mu_);
	mode = S_IFDIR | (mode & 07777);
	auto owner = ownerIn(parent, creator, mode);
	if (!owner)
		return Error{owner.error()};
	const Creator &who = *owner;
	if (auto r = checkName(name); !r)
		return Error{r.error()};
	auto exists = lookupLocked(parent, name);
	if (exists)
		return Error{-EEXIST};
	if (exists.error() != -ENOENT)
		return Error{exists.error()};
	std::string n(name);
	invalidate(parent);
	errcode_t err = ext2fs_mkdir(fs_, parent, 0, n.c_str());
	if (err == EXT2_ET_DIR_NO_SPACE) {
		err = ext2fs_expand_dir(fs_, parent);
		if (!err)
			err = ext2fs_mkdir(fs_, parent, 0, n.c_str());
	}
	invalidate(parent);
	if (err)
		return ext2Error(err, "making a directory", parent);
	auto ino = lookupLocked(parent, name);
	if (!ino)
		return Error{ino.error()};
	auto in = readInode(*ino);
	if (!in)
		return Error{in.error()};
	in->i_uid = uint16_t(who.uid);
	ext2fs_set_i_uid_high(*in, uint16_t(who.uid >> 16));
	in->i_gid = uint16_t(who.gid);
	ext2fs_set_i_gid_high(*in, uint16_t(who.gid >> 16));
	/* i_generation stays as libext2fs wrote it: metadata_csum seeds the
	 * checksums of the blocks it already wrote with it. */
	auto t = now();
	setAtime(fs_, *in, t);
	setMtime(fs_, *in, t);
	setCtime(fs_, *in, t);
	if (hasExtra(fs_, *in, FIELD_END(i_crtime_extra)))
		encodeTime(t, in->i_crtime, &in->i_crtime_extra);
	if (auto r = writeInode(*ino, *in); !r)
		return Error{r.error()};
	if (auto m = inheritAcl(parent, *ino, mode, who); !m)
		return Error{m.error()};
	if (auto r = touchDir(parent); !r)
		return Error{r.error()};
	return *ino;
}

Result<ext2_ino_t> Filesystem::symlink(ext2_ino_t parent, std::string_view name,
				       std::string_view target, const Creator &creator)
{
	std::lock_guard g(mu_);
	mode_t lmode = S_IFLNK | 0777;
	auto owner = ownerIn(parent, creator, lmode);
	if (!owner)
		return Error{owner.error()};
	const Creator &who = *owner;
	if (auto r = checkName(name); !r)
		return Error{r.error()};
	if (target.empty() || target.size() >= std::min<size_t>(block_size_, 4096) ||
	    target.find('\0') != std::string_view::npos)
		return Error{-ENAMETOOLONG};
	auto exists = lookupLocked(parent, name);
	if (exists)
		return Error{-EEXIST};
	if (exists.error() != -ENOENT)
		return Error{exists.error()};
	std::string n(name), t(target);
	invalidate(parent);
	/* Fast (in the inode) below 60 bytes, else one block. */
	errcode_t err = ext2fs_symlink(fs_, parent, 0, n.c_str(), t.c_str());
	if (err == EXT2_ET_DIR_NO_SPACE) {
		err = ext2fs_expand_dir(fs_, parent);
		if (!err)
			err = ext2fs_symlink(fs_, parent, 0, n.c_str(), t.c_str());
	}
	invalidate(parent);
	if (err)
		return ext2Error(err, "making a symlink", parent);
	auto ino = lookupLocked(parent, name);
	if (!ino)
		return Error{ino.error()};
	auto in = readInode(*ino);
	if (!in)
		return Error{in.error()};
	in->i_uid = uint16_t(who.uid);
	ext2fs_set_i_uid_high(*in, uint16_t(who.uid >> 16));
	in->i_gid = uint16_t(who.gid);
	ext2fs_set_i_gid_high(*in, uint16_t(who.gid >> 16));
	/* i_generation stays as libext2fs wrote it: metadata_csum seeds the
	 * checksums of the blocks it already wrote with it. */
	if (EXT2_INODE_SIZE(fs_->super) > EXT2_GOOD_OLD_INODE_SIZE && in->i_extra_isize == 0)
		in->i_extra_isize = uint16_t(
		    std::min<size_t>(sizeof(ext2_inode_large) - EXT2_GOOD_OLD_INODE_SIZE,
				     EXT2_INODE_SIZE(fs_->super) - EXT2_GOOD_OLD_INODE_SIZE));
	auto ts = now();
	setAtime(fs_, *in, ts);
	setMtime(fs_, *in, ts);
	setCtime(fs_, *in, ts);
	if (hasExtra(fs_, *in, FIELD_END(i_crtime_extra)))
		encodeTime(ts, in->i_crtime, &in->i_crtime_extra);
	if (auto r = writeInode(*ino, *in); !r)
		return Error{r.error()};
	if (auto r = touchDir(parent); !r)
		return Error{r.error()};
	return *ino;
}

Result<void> Filesystem::link(ext2_ino_t ino, ext2_ino_t parent, std::string_view name)
{
	std::lock_guard g(mu_);
	if (auto r = checkName(name); !r)
		return r;
	auto exists = lookupLocked(parent, name);
	if (exists)
		return Error{-EEXIST};
	if (exists.error() != -ENOENT)
		return Error{exists.error()};
	auto in = readInode(ino);
	if (!in)
		return Error{in.error()};
	if (LINUX_S_ISDIR(in->i_mode))
		return Error{-EPERM};
	if (in->i_links_count >= kLinkMax)
		return Error{-EMLINK};
	if (in->i_links_count == 0)
		return Error{-ENOENT};
	if (auto r = addEntry(parent, std::string(name), ino, in->i_mode); !r)
		return r;
	in->i_links_count++;
	setCtime(fs_, *in, now());
	if (auto r = writeInode(ino, *in); !r)
		return r;
	return touchDir(parent);
}

Result<void> Filesystem::unlink(ext2_ino_t parent, std::string_view name)
{
	std::lock_guard g(mu_);
	if (auto r = checkName(name); !r)
		return r;
	auto ino = lookupLocked(parent, name);
	if (!ino)
		return Error{ino.error()};
	auto in = readInode(*ino);
	if (!in)
		return Error{in.error()};
	if (LINUX_S_ISDIR(in->i_mode))
		return Error{-EISDIR};
	std::string n(name);
	invalidate(parent);
	errcode_t err = ext2fs_unlink(fs_, parent, n.c_str(), *ino, 0);
	invalidate(parent);
	if (err)
		return ext2Error(err, "removing a directory entry", parent);
	if (auto r = touchDir(parent); !r)
		return r;
	return dropLink(*ino, false);
}

Result<void> Filesystem::rmdir(ext2_ino_t parent, std::string_view name)
{
	std::lock_guard g(mu_);
	if (auto r = checkName(name); !r)
		return r;
	auto ino = lookupLocked(parent, name);
	if (!ino)
		return Error{ino.error()};
	auto dir = dirLocked(*ino);
	if (!dir)
		return Error{dir.error()};
	for (const DirEntry &e : (*dir)->entries)
		if (e.name != "." && e.name != "..")
			return Error{-ENOTEMPTY};
	std::string n(name);
	invalidate(parent);
	errcode_t err = ext2fs_unlink(fs_, parent, n.c_str(), *ino, 0);
	invalidate(parent);
	if (err)
		return ext2Error(err, "removing a directory entry", parent);
	/* Its ".." no longer counts for the parent. */
	auto pin = readInode(parent);
	if (!pin)
		return Error{pin.error()};
	if (pin->i_links_count > 2)
		pin->i_links_count--;
	auto t = now();
	setMtime(fs_, *pin, t);
	setCtime(fs_, *pin, t);
	if (auto r = writeInode(parent, *pin); !r)
		return r;
	return dropLink(*ino, true);
}

Result<void> Filesystem::rename(ext2_ino_t parent, std::string_view name, ext2_ino_t newparent,
				std::string_view newname, unsigned flags)
{
	std::lock_guard g(mu_);
	if (auto r = checkName(name); !r)
		return r;
	if (auto r = checkName(newname); !r)
		return r;
	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE))
		return Error{-EINVAL};
	auto src = lookupLocked(parent, name);
	if (!src)
		return Error{src.error()};
	auto dst = lookupLocked(newparent, newname);
	if (!dst && dst.error() != -ENOENT)
		return Error{dst.error()};
	if (dst && (flags & RENAME_NOREPLACE))
		return Error{-EEXIST};
	if (!dst && (flags & RENAME_EXCHANGE))
		return Error{-ENOENT};
	auto sin = readInode(*src);
	if (!sin)
		return Error{sin.error()};
	const bool sdir = LINUX_S_ISDIR(sin->i_mode);
	ext2_inode_large din{};
	bool ddir = false;
	if (dst) {
		if (*dst == *src)
			return {}; /* two names of one inode: nothing to do */
		auto d = readInode(*dst);
		if (!d)
			return Error{d.error()};
		din = *d;
		ddir = LINUX_S_ISDIR(din.i_mode);
	}
	std::string on(name), nn(newname);
	auto t = now();
	/* Directory link counts: +1 for each subdirectory's "..". */
	auto adjustLinks = [&](ext2_ino_t dir, int delta) -> Result<void> {
		auto in = readInode(dir);
		if (!in)
			return Error{in.error()};
		if (delta > 0 && in->i_links_count > 1 && in->i_links_count < kLinkMax)
			in->i_links_count++;
		else if (delta < 0 && in->i_links_count > 2)
			in->i_links_count--;
		setMtime(fs_, *in, t);
		setCtime(fs_, *in, t);
		return writeInode(dir, *in);
	};

	if (flags & RENAME_EXCHANGE) {
		if (auto r = setEntry(parent, on.c_str(), *dst, din.i_mode); !r)
			return r;
		if (auto r = setEntry(newparent, nn.c_str(), *src, sin->i_mode); !r)
			return r;
		if (parent != newparent) {
			if (sdir) {
				if (auto r = setEntry(*src, "..", newparent, S_IFDIR); !r)
					return r;
			}
			if (ddir) {
				if (auto r = setEntry(*dst, "..", parent, S_IFDIR); !r)
					return r;
			}
			if (sdir != ddir) {
				if (auto r = adjustLinks(parent, sdir ? -1 : 1); !r)
					return r;
				if (auto r = adjustLinks(newparent, sdir ? 1 : -1); !r)
					return r;
			}
		}
		for (ext2_ino_t i : {*src, *dst}) {
			auto in = readInode(i);
			if (!in)
				return Error{in.error()};
			setCtime(fs_, *in, t);
			if (auto r = writeInode(i, *in); !r)
				return r;
		}
		if (auto r = touchDir(parent); !r)
			return r;
		return newparent != parent ? touchDir(newparent) : Result<void>{};
	}

	if (dst) {
		if (sdir && !ddir)
			return Error{-ENOTDIR};
		if (!sdir && ddir)
			return Error{-EISDIR};
		if (ddir) {
			auto d = dirLocked(*dst);
			if (!d)
				return Error{d.error()};
			for (const DirEntry &e : (*d)->entries)
				if (e.name != "." && e.name != "..")
					return Error{-ENOTEMPTY};
		}
		if (auto r = setEntry(newparent, nn.c_str(), *src, sin->i_mode); !r)
			return r;
	} else {
		if (auto r = addEntry(newparent, nn, *src, sin->i_mode); !r)
			return r;
	}
	invalidate(parent);
	errcode_t err = ext2fs_unlink(fs_, parent, on.c_str(), *src, 0);
	invalidate(parent);
	if (err) {
		errors_ = true;
		return ext2Error(err, "removing the old name", parent);
	}
	if (sdir && parent != newparent) {
		if (auto r = setEntry(*src, "..", newparent, S_IFDIR); !r)
			return r;
		if (auto r = adjustLinks(parent, -1); !r)
			return r;
		if (auto r = adjustLinks(newparent, +1); !r)
			return r;
	}
	if (dst) {
		if (ddir) {
			if (auto r = adjustLinks(newparent, -1); !r)
				return r;
		}
		if (auto r = dropLink(*dst, ddir); !r)
			return r;
	}
	auto in = readInode(*src);
	if (!in)
		return Error{in.error()};
	setCtime(fs_, *in, t);
	if (auto r = writeInode(*src, *in); !r)
		return r;
	if (auto r = touchDir(parent); !r)
		return r;
	return newparent != parent ? touchDir(newparent) : Result<void>{};
}

Result<void> Filesystem::truncateLocked(ext2_ino_t ino, uint64_t size)
{
	ext2_file_t f = nullptr;
	errcode_t err = ext2fs_file_open(fs_, ino, EXT2_FILE_WRITE, &f);
	if (err)
		return ext2Error(err, "opening for truncate", ino);
	/* Frees the blocks past the end and zeroes the tail of the last one. */
	err = ext2fs_file_set_size2(f, size);
	errcode_t cerr = ext2fs_file_close(f);
	invalidate(ino);
	if (err || cerr) {
		errors_ = true;
		return ext2Error(err ? err : cerr, "truncating", ino);
	}
	return {};
}

Result<void> Filesystem::chmodAcl(ext2_ino_t ino, mode_t mode)
{
	struct ext2_xattr_handle *h = nullptr;
	errcode_t err = ext2fs_xattrs_open(fs_, ino, &h);
	if (err == EXT2_ET_MISSING_EA_FEATURE)
		return {};
	if (!err)
		err = ext2fs_xattrs_read(h);
	void *v = nullptr;
	size_t len = 0;
	if (!err && ext2fs_xattr_get(h, "system.posix_acl_access", &v, &len) == 0) {
		std::vector<std::byte> acl(static_cast<std::byte *>(v),
					   static_cast<std::byte *>(v) + len);
		ext2fs_free_mem(&v);
		if (aclChmod(acl, mode))
			err =
			    ext2fs_xattr_set(h, "system.posix_acl_access", acl.data(), acl.size());
	}
	if (h)
		ext2fs_xattrs_close(&h);
	invalidate(ino);
	if (err)
		return ext2Error(err, "updating the ACL", ino);
	return {};
}

Result<struct stat> Filesystem::setattr(ext2_ino_t ino, const struct stat &attr, int to_set)
{
	std::unique_lock dl(dataLock(ino), std::defer_lock);
	if (to_set & set_attr::size)
		dl.lock();
	std::lock_guard g(mu_);
	if (!writable_)
		return Error{-EROFS};
	auto in = readInode(ino);
	if (!in)
		return Error{in.error()};
	if ((to_set & set_attr::mode) && !LINUX_S_ISLNK(in->i_mode)) {
		/* With FUSE_POSIX_ACL a chmod is ours to carry into the ACL;
		 * first, as it may rewrite the inode (its xattr block). */
		if (auto r = chmodAcl(ino, (in->i_mode & S_IFMT) | (attr.st_mode & 07777)); !r)
			return Error{r.error()};
		in = readInode(ino);
		if (!in)
			return Error{in.error()};
	}
	auto t = now();
	if (to_set & set_attr::size) {
		if (LINUX_S_ISDIR(in->i_mode))
			return Error{-EISDIR};
		if (!LINUX_S_ISREG(in->i_mode))
			return Error{-EINVAL};
		if (attr.st_size < 0)
			return Error{-EINVAL};
		if (uint64_t(attr.st_size) != inodeSize(*in)) {
			if (auto r = truncateLocked(ino, uint64_t(attr.st_size)); !r)
				return Error{r.error()};
			auto again = readInode(ino);
			if (!again)
				return Error{again.error()};
			*in = *again;
		}
		setMtime(fs_, *in, t);
	}
	if (to_set & set_attr::mode)
		in->i_mode = uint16_t((in->i_mode & S_IFMT) | (attr.st_mode & 07777));
	if (to_set & set_attr::uid) {
		in->i_uid = uint16_t(attr.st_uid);
		ext2fs_set_i_uid_high(*in, uint16_t(attr.st_uid >> 16));
	}
	if (to_set & set_attr::gid) {
		in->i_gid = uint16_t(attr.st_gid);
		ext2fs_set_i_gid_high(*in, uint16_t(attr.st_gid >> 16));
	}
	if (to_set & set_attr::atime_now)
		setAtime(fs_, *in, t);
	else if (to_set & set_attr::atime)
		setAtime(fs_, *in, attr.st_atim);
	if (to_set & set_attr::mtime_now)
		setMtime(fs_, *in, t);
	else if (to_set & set_attr::mtime)
		setMtime(fs_, *in, attr.st_mtim);
	if (to_set & set_attr::ctime)
		setCtime(fs_, *in, attr.st_ctim);
	else
		setCtime(fs_, *in, t);
	if (auto r = writeInode(ino, *in); !r)
		return Error{r.error()};
	return statLocked(ino);
}

namespace
{

/* The leaves of an extent tree that meet [b0, b1): their runs, in order. */
errcode_t extentRuns(ext2_filsys fs, ext2_ino_t ino, ext2_inode_large &in, uint64_t b0, uint64_t b1,
		     std::vector<Run> &out)
{
	ext2_extent_handle_t h = nullptr;
	errcode_t err = ext2fs_extent_open2(fs, ino, reinterpret_cast<ext2_inode *>(&in), &h);
	if (err)
		return err;
	struct ext2fs_extent ex {
	};
	err = ext2fs_extent_get(h, EXT2_EXTENT_ROOT, &ex);
	while (!err) {
		bool leaf = (ex.e_flags & EXT2_EXTENT_FLAGS_LEAF) &&
			    !(ex.e_flags & EXT2_EXTENT_FLAGS_SECOND_VISIT);
		if (leaf && ex.e_lblk < b1 && ex.e_lblk + ex.e_len > b0)
			out.push_back(Run{ex.e_lblk, ex.e_pblk, ex.e_len,
					  (ex.e_flags & EXT2_EXTENT_FLAGS_UNINIT) != 0});
		err = ext2fs_extent_get(h, EXT2_EXTENT_NEXT, &ex);
	}
	ext2fs_extent_free(h);
	if (err == EXT2_ET_EXTENT_NO_NEXT || err == EXT2_ET_NO_CURRENT_NODE)
		err = 0;
	return err;
}

bool writeAll(int fd, const std::byte *p, size_t len, uint64_t pos)
{
	while (len > 0) {
		ssize_t n = ::pwrite(fd, p, len, off_t(pos));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= size_t(n);
		pos += uint64_t(n);
	}
	return true;
}

} // namespace

/* Whole blocks [b0, b1) of an extent-mapped file that are all a hole (the
 * common case: a file written from start to end): allocated in one go,
 * then written with pwrite(), not block by block through libext2fs.
 * Returns false when the range is not all a hole (nothing done). */
Result<bool> Filesystem::writeFresh(ext2_ino_t ino, std::span<const std::byte> data, uint64_t b0,
				    uint64_t b1)
{
	auto in = readInode(ino);
	if (!in)
		return Error{in.error()};
	std::vector<Run> runs;
	errcode_t err = extentRuns(fs_, ino, *in, b0, b1, runs);
	if (err)
		return ext2Error(err, "reading the extent tree", ino);
	if (!runs.empty())
		return false;
	/* Initialised extents, not zeroed: every block is written below,
	 * before the locks are let go. */
	err = ext2fs_fallocate(fs_, EXT2_FALLOCATE_FORCE_INIT, ino,
			       reinterpret_cast<ext2_inode *>(&*in), ~0ULL, b0, b1 - b0);
	auto w = writeInode(ino, *in);
	if (err)
		return ext2Error(err, "allocating", ino);
	if (!w)
		return Error{w.error()};
	err = extentRuns(fs_, ino, *in, b0, b1, runs);
	if (err)
		return ext2Error(err, "reading the extent tree", ino);
	const uint64_t bs = block_size_;
	uint64_t next = b0;
	for (const Run &r : runs) {
		uint64_t a = std::max(r.lblk, b0), z = std::min(r.lblk + r.len, b1);
		uint64_t pblk = r.pblk + (a - r.lblk);
		if (a != next || r.unwritten || pblk + (z - a) > blocks_count_ ||
		    inSystemZone(pblk, z - a)) {
			errors_ = true;
			logLine("inode %u: allocation did not map blocks %llu-%llu as expected",
				ino, (unsigned long long)b0, (unsigned long long)b1);
			return Error{-EIO};
		}
		if (!writeAll(fd_.get(), data.data() + (a - b0) * bs, (z - a) * bs, pblk * bs)) {
			errors_ = true;
			return Error{-EIO};
		}
		next = z;
	}
	if (next != b1) {
		errors_ = true;
		logLine("inode %u: allocation left a hole", ino);
		return Error{-EIO};
	}
	return true;
}

Result<size_t> Filesystem::write(ext2_ino_t ino, std::span<const std::byte> data, uint64_t off)
{
	std::unique_lock dl(dataLock(ino));
	std::lock_guard g(mu_);
	if (!writable_)
		return Error{-EROFS};
	auto in = readInode(ino);
	if (!in)
		return Error{in.error()};
	if (!LINUX_S_ISREG(in->i_mode))
		return Error{-EINVAL};
	/* ext4's limit for extent files (2^32 blocks), and 2^32-block indirect maps. */
	uint64_t max = uint64_t(block_size_) << 32;
	if (off >= max || data.size() > max - off)
		return Error{-EFBIG};
	/* Through libext2fs's file API, block by block. */
	auto slow = [&](uint64_t pos, std::span<const std::byte> part) -> Result<size_t> {
		ext2_file_t f = nullptr;
		errcode_t err = ext2fs_file_open(fs_, ino, EXT2_FILE_WRITE, &f);
		if (err)
			return ext2Error(err, "opening for write", ino);
		size_t done = 0;
		err = ext2fs_file_llseek(f, pos, EXT2_SEEK_SET, nullptr);
		while (!err && done < part.size()) {
			unsigned int n = 0;
			size_t chunk = std::min<size_t>(part.size() - done, size_t(1) << 30);
			err = ext2fs_file_write(f, part.data() + done, unsigned(chunk), &n);
			if (n == 0 && !err)
				err = EXT2_ET_BLOCK_ALLOC_FAIL;
			done += n;
		}
		if (!err && pos + done > EXT2_I_SIZE(ext2fs_file_get_inode(f)))
			err = ext2fs_file_set_size2(f, pos + done);
		errcode_t cerr = ext2fs_file_close(f);
		invalidate(ino);
		if (cerr && !err)
			err = cerr;
		if (err && done == 0)
			return ext2Error(err, "writing", ino);
		return done;
	};
	const uint64_t bs = block_size_, end = off + data.size();
	const uint64_t b0 = (off + bs - 1) / bs, b1 = end / bs;
	size_t done = 0;
	bool fast = false;
	if ((in->i_flags & kExtentsFl) && b1 >= b0 + 16) {
		auto f = writeFresh(
		    ino, data.subspan(size_t(b0 * bs - off), size_t((b1 - b0) * bs)), b0, b1);
		if (!f)
			return Error{f.error()};
		fast = *f;
	}
	if (fast) {
		/* The partial blocks at both ends, then the size. */
		if (b0 * bs > off) {
			auto n = slow(off, data.first(size_t(b0 * bs - off)));
			if (!n)
				return Error{n.error()};
		}
		if (end > b1 * bs) {
			auto n = slow(b1 * bs, data.last(size_t(end - b1 * bs)));
			if (!n)
				return Error{n.error()};
		}
		done = data.size();
	} else {
		auto n = slow(off, data);
		if (!n)
			return Error{n.error()};
		done = *n;
	}
	auto after = readInode(ino);
	if (!after)
		return Error{after.error()};
	if (off + done > inodeSize(*after)) {
		errcode_t err =
		    ext2fs_inode_size_set(fs_, reinterpret_cast<ext2_inode *>(&*after), off + done);
		if (err)
			return ext2Error(err, "setting the size", ino);
	}
	auto t = now();
	setMtime(fs_, *after, t);
	setCtime(fs_, *after, t);
	if (auto r = writeInode(ino, *after); !r)
		return Error{r.error()};
	return done;
}

/* Zeros over [off, off+len) without allocating: mapped blocks are
 * overwritten, holes stay holes. */
Result<void> Filesystem::zeroRange(ext2_ino_t ino, uint64_t off, uint64_t len)
{
	if (len == 0)
		return {};
	ext2_file_t f = nullptr;
	errcode_t err = ext2fs_file_open(fs_, ino, EXT2_FILE_WRITE, &f);
	if (err)
		return ext2Error(err, "opening to zero", ino);
	std::vector<std::byte> zero(block_size_);
	uint64_t pos = off, end = off + len;
	while (!err && pos < end) {
		uint64_t lblk = pos / block_size_;
		uint64_t stop = std::min(end, (lblk + 1) * block_size_);
		blk64_t pblk = 0;
		int ret = 0;
		err =
		    ext2fs_bmap2(fs_, ino, ext2fs_file_get_inode(f), nullptr, 0, lblk, &ret, &pblk);
		if (!err && pblk && !(ret & BMAP_RET_UNINIT)) {
			err = ext2fs_file_llseek(f, pos, EXT2_SEEK_SET, nullptr);
			unsigned int n = 0;
			if (!err)
				err = ext2fs_file_write(f, zero.data(), unsigned(stop - pos), &n);
		}
		pos = stop;
	}
	errcode_t cerr = ext2fs_file_close(f);
	invalidate(ino);
	if (err || cerr) {
		errors_ = true;
		return ext2Error(err ? err : cerr, "zeroing", ino);
	}
	return {};
}

Result<void> Filesystem::fallocate(ext2_ino_t ino, int mode, uint64_t off, uint64_t len)
{
	std::unique_lock dl(dataLock(ino));
	std::lock_guard g(mu_);
	if (!writable_)
		return Error{-EROFS};
	if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE))
		return Error{-EOPNOTSUPP};
	if ((mode & FALLOC_FL_PUNCH_HOLE) && !(mode & FALLOC_FL_KEEP_SIZE))
		return Error{-EOPNOTSUPP};
	if ((mode & FALLOC_FL_PUNCH_HOLE) && (mode & FALLOC_FL_ZERO_RANGE))
		return Error{-EOPNOTSUPP};
	if (len == 0)
		return Error{-EINVAL};
	uint64_t max = uint64_t(block_size_) << 32;
	if (off >= max || len > max - off)
		return Error{-EFBIG};
	auto in = readInode(ino);
	if (!in)
		return Error{in.error()};
	if (!LINUX_S_ISREG(in->i_mode))
		return Error{-ENODEV};
	const bool extents = (in->i_flags & kExtentsFl) != 0;
	const uint64_t bs = block_size_, size = inodeSize(*in), end = off + len;
	/* Whole blocks inside the range, and the partial edges. */
	uint64_t first = (off + bs - 1) / bs, last = end / bs; /* [first, last) */
	if (mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)) {
		uint64_t zend = (mode & FALLOC_FL_PUNCH_HOLE) ? std::min(end, size) : end;
		if (mode & FALLOC_FL_ZERO_RANGE && !extents)
			return Error{-EOPNOTSUPP};
		if (first < last) {
			if (auto r = zeroRange(ino, off,
					       std::min(zend, first * bs) - std::min(off, zend));
			    !r)
				return r;
			if (zend > last * bs)
				if (auto r = zeroRange(ino, last * bs, zend - last * bs); !r)
					return r;
			auto cur = readInode(ino);
			if (!cur)
				return Error{cur.error()};
			errcode_t err = 0;
			if (extents) {
				err = ext2fs_punch(fs_, ino, reinterpret_cast<ext2_inode *>(&*cur),
						   nullptr, first, last - 1);
			} else {
				/* libext2fs 1.47's block-map punch misses the last block
				 * of such a range: one block at a time (block-mapped
				 * files are small and rare). */
				for (uint64_t b = first; !err && b < last; b++)
					err = ext2fs_punch(fs_, ino,
							   reinterpret_cast<ext2_inode *>(&*cur),
							   nullptr, b, b);
			}
			invalidate(ino);
			if (err) {
				errors_ = true;
				return ext2Error(err, "punching", ino);
			}
		} else if (off < zend) {
			if (auto r = zeroRange(ino, off, zend - off); !r)
				return r;
		}
		if (mode & FALLOC_FL_PUNCH_HOLE)
			goto times;
	}
	if (!extents)
		return Error{-EOPNOTSUPP};
	{
		/* Allocate (unwritten: reads as zeros) every block of the range
		 * that is a hole, including the partial edges. */
		auto cur = readInode(ino);
		if (!cur)
			return Error{cur.error()};
		uint64_t a = off / bs, b = (end + bs - 1) / bs;
		errcode_t err =
		    ext2fs_fallocate(fs_, EXT2_FALLOCATE_FORCE_UNINIT, ino,
				     reinterpret_cast<ext2_inode *>(&*cur), ~0ULL, a, b - a);
		/* ext2fs_fallocate() leaves an inode it was handed unwritten
		 * (i_blocks, the size of the tree): write it, also after a
		 * failure halfway (what was allocated stays consistent). */
		auto w = writeInode(ino, *cur);
		if (err)
			return ext2Error(err, "allocating", ino);
		if (!w)
			return w;
		if (!(mode & FALLOC_FL_KEEP_SIZE) && end > size) {
			err =
			    ext2fs_inode_size_set(fs_, reinterpret_cast<ext2_inode *>(&*cur), end);
			if (err)
				return ext2Error(err, "setting the size", ino);
			if (auto r = writeInode(ino, *cur); !r)
				return r;
		}
	}
times:
	auto cur = readInode(ino);
	if (!cur)
		return Error{cur.error()};
	auto t = now();
	setMtime(fs_, *cur, t);
	setCtime(fs_, *cur, t);
	return writeInode(ino, *cur);
}

Result<void> Filesystem::setxattr(ext2_ino_t ino, std::string_view name,
				  std::span<const std::byte> value, int flags)
{
	std::lock_guard g(mu_);
	if (!writable_)
		return Error{-EROFS};
	if (name.empty() || name.size() > 255)
		return Error{-ERANGE};
	if (name == "system.data")
		return Error{-EPERM};
	std::string key(name);
	std::vector<std::byte> v(value.begin(), value.end());
	auto in = readInode(ino);
	if (!in)
		return Error{in.error()};
	bool drop = false;
	if (key == "system.posix_acl_access" || key == "system.posix_acl_default") {
		if (key == "system.posix_acl_default" && !LINUX_S_ISDIR(in->i_mode))
			return Error{-EACCES};
		/* Keep the mode in step with an access ACL; one equivalent to
		 * the mode is not stored (as ext4 does). */
		mode_t m = in->i_mode & 07777;
		auto equiv = aclToMode(v, m);
		if (!equiv)
			return Error{equiv.error()};
		if (key == "system.posix_acl_access") {
			in->i_mode = uint16_t((in->i_mode & S_IFMT) | m);
			setCtime(fs_, *in, now());
			if (auto r = writeInode(ino, *in); !r)
				return r;
			drop = *equiv;
		}
	}
	struct ext2_xattr_handle *h = nullptr;
	errcode_t err = ext2fs_xattrs_open(fs_, ino, &h);
	if (err)
		return ext2Error(err, "opening xattrs", ino);
	err = ext2fs_xattrs_read(h);
	void *old = nullptr;
	size_t oldlen = 0;
	bool exists = false;
	if (!err) {
		errcode_t e = ext2fs_xattr_get(h, key.c_str(), &old, &oldlen);
		exists = e == 0;
		if (old)
			ext2fs_free_mem(&old);
	}
	if (!err && (flags & XATTR_CREATE) && exists) {
		ext2fs_xattrs_close(&h);
		return Error{-EEXIST};
	}
	if (!err && (flags & XATTR_REPLACE) && !exists) {
		ext2fs_xattrs_close(&h);
		return Error{-ENODATA};
	}
	if (!err) {
		if (drop)
			err = exists ? ext2fs_xattr_remove(h, key.c_str()) : 0;
		else
			err = ext2fs_xattr_set(h, key.c_str(), v.data(), v.size());
	}
	errcode_t cerr = ext2fs_xattrs_close(&h);
	invalidate(ino);
	/* A value too large for the inode and one block: as ext4 says. */
	if (err == EXT2_ET_EA_BAD_VALUE_SIZE || err == EXT2_ET_EA_NO_SPACE)
		return Error{-ENOSPC};
	if (err || cerr)
		return ext2Error(err ? err : cerr, "setting an xattr", ino);
	auto after = readInode(ino);
	if (!after)
		return Error{after.error()};
	setCtime(fs_, *after, now());
	return writeInode(ino, *after);
}

Result<void> Filesystem::removexattr(ext2_ino_t ino, std::string_view name)
{
	std::lock_guard g(mu_);
	if (!writable_)
		return Error{-EROFS};
	if (name == "system.data")
		return Error{-ENODATA};
	std::string key(name);
	struct ext2_xattr_handle *h = nullptr;
	errcode_t err = ext2fs_xattrs_open(fs_, ino, &h);
	if (err)
		return ext2Error(err, "opening xattrs", ino);
	err = ext2fs_xattrs_read(h);
	void *old = nullptr;
	size_t oldlen = 0;
	if (!err) {
		err = ext2fs_xattr_get(h, key.c_str(), &old, &oldlen);
		if (old)
			ext2fs_free_mem(&old);
	}
	if (!err)
		err = ext2fs_xattr_remove(h, key.c_str());
	errcode_t cerr = ext2fs_xattrs_close(&h);
	invalidate(ino);
	if (err == EXT2_ET_EA_KEY_NOT_FOUND)
		return Error{-ENODATA};
	if (err || cerr)
		return ext2Error(err ? err : cerr, "removing an xattr", ino);
	auto after = readInode(ino);
	if (!after)
		return Error{after.error()};
	setCtime(fs_, *after, now());
	return writeInode(ino, *after);
}

} // namespace fsvc::ext4
