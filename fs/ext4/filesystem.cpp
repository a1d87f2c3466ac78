/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fs/ext4/filesystem.h"

#include "fs/ext4/feature_check.h"
#include "fs/ext4/inode_table_cache.h"
#include "fs/ext4/replay/replay_to_device.h"

#include <ext2fs/ext2_err.h>
#include <ext2fs/ext2_ext_attr.h>

#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>

namespace fsvc::ext4
{

namespace
{

/* Cache caps: enough for a big tree walk, small enough for a 64 MiB RSS budget. */
constexpr size_t kAttrCacheMax = 32768;
constexpr size_t kDirCacheEntriesMax = 262144;
constexpr size_t kMapCacheMax = 8192;
constexpr size_t kMapCacheRuns = size_t(1) << 20; /* 24 MiB of runs */
/* A file with more mapped runs than this is treated as corrupt (bounds memory). */
constexpr size_t kMaxRuns = size_t(1) << 22;
/* Longest symlink target we accept (the kernel's PATH_MAX). */
constexpr uint64_t kMaxLink = 4096;

/* The ext4 inode flags we look at (values from the on-disk format). */
constexpr uint32_t kHugeFileFl = 0x40000;
constexpr uint32_t kExtentsFl = 0x80000;
constexpr uint32_t kInlineDataFl = 0x10000000;

struct Ext2Error {
	errcode_t code;
	const char *what;
};

unsigned char dtFromFt(unsigned ft)
{
	switch (ft) {
	case EXT2_FT_REG_FILE:
		return DT_REG;
	case EXT2_FT_DIR:
		return DT_DIR;
	case EXT2_FT_CHRDEV:
		return DT_CHR;
	case EXT2_FT_BLKDEV:
		return DT_BLK;
	case EXT2_FT_FIFO:
		return DT_FIFO;
	case EXT2_FT_SOCK:
		return DT_SOCK;
	case EXT2_FT_SYMLINK:
		return DT_LNK;
	default:
		return DT_UNKNOWN;
	}
}

/* Seconds and nanoseconds of an ext4 timestamp: the extra word holds two
 * epoch bits (extending the signed 32-bit seconds) and 30 bits of ns. */
struct timespec decodeTime(uint32_t lo, uint32_t extra, bool has_extra)
{
	struct timespec ts {
	};
	ts.tv_sec = int32_t(lo);
	if (has_extra) {
		ts.tv_sec += int64_t(extra & 3) << 32;
		ts.tv_nsec = extra >> 2;
	}
	return ts;
}

/* Does the inode's extra space cover the field ending at byte @p end? */
bool fits(const ext2_inode_large &in, unsigned inode_size, size_t end)
{
	return inode_size > EXT2_GOOD_OLD_INODE_SIZE &&
	       end <= EXT2_GOOD_OLD_INODE_SIZE + size_t(in.i_extra_isize);
}

#define FIELD_END(f) (offsetof(ext2_inode_large, f) + sizeof(ext2_inode_large::f))

Result<int> fail(errcode_t err, const char *what, ext2_ino_t ino)
{
	int e = errnoFromExt2(err);
	if (e == -EUCLEAN || e == -EIO)
		logLine("inode %u: %s: %s", ino, what, error_message(err));
	return Error{e};
}

bool readExact(int fd, void *buf, size_t len, uint64_t pos)
{
	auto *p = static_cast<char *>(buf);
	while (len > 0) {
		ssize_t n = ::pread(fd, p, len, off_t(pos));
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

/* libext2fs on a duplicate of @p fd, for writing (it closes the duplicate). */
Result<FsPtr> openReadWrite(int fd)
{
	int dup = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (dup < 0) {
		logLine("cannot duplicate the device descriptor: %s", std::strerror(errno));
		return Error{-errno};
	}
	std::string name = std::to_string(dup);
	ext2_filsys fs = nullptr;
	errcode_t err = ext2fs_open2(name.c_str(), nullptr, EXT2_FLAG_RW | EXT2_FLAG_64BITS, 0, 0,
				     inode_table_cache_manager(), &fs);
	if (err) {
		if (fcntl(dup, F_GETFD) >= 0)
			::close(dup);
		logLine("cannot open the filesystem: %s", error_message(err));
		return Error{-EINVAL};
	}
	return FsPtr(fs);
}

uint64_t deviceSize(int fd)
{
	struct stat st {
	};
	if (fstat(fd, &st) < 0)
		return 0;
	if (S_ISBLK(st.st_mode)) {
		uint64_t bytes = 0;
		if (ioctl(fd, BLKGETSIZE64, &bytes) < 0)
			return 0;
		return bytes;
	}
	return uint64_t(st.st_size);
}

} // namespace

void logLine(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	std::vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	std::fprintf(stderr, "ext4-service: %s\n", buf);
}

int errnoFromExt2(errcode_t err) noexcept
{
	if (err == 0)
		return 0;
	if (err > 0 && err < 4096)
		return -int(err);
	switch (err) {
	case EXT2_ET_NO_MEMORY:
		return -ENOMEM;
	case EXT2_ET_SHORT_READ:
		return -EIO;
	case EXT2_ET_FILE_NOT_FOUND:
		return -ENOENT;
	case EXT2_ET_NO_DIRECTORY:
		return -ENOTDIR;
	case EXT2_ET_EA_KEY_NOT_FOUND:
		return -ENODATA;
	case EXT2_ET_BLOCK_ALLOC_FAIL:
	case EXT2_ET_INODE_ALLOC_FAIL:
	case EXT2_ET_EA_NO_SPACE:
	case EXT2_ET_DIR_NO_SPACE:
	case EXT2_ET_INLINE_DATA_NO_SPACE:
		return -ENOSPC;
	case EXT2_ET_RO_FILSYS:
		return -EROFS;
	case EXT2_ET_DIR_EXISTS:
		return -EEXIST;
	case EXT2_ET_FILE_TOO_BIG:
	case EXT2_ET_EXTENT_NOT_SUPPORTED:
		return -EFBIG;
	case EXT2_ET_FILE_RO:
		return -EBADF;
	default:
		/* Checksums, corrupt trees, out-of-range numbers: the image is bad. */
		return -EUCLEAN;
	}
}

Result<std::unique_ptr<Filesystem>> Filesystem::open(UniqueFD fd, const OpenOptions &opts)
{
	/* So error_message() names libext2fs errors in our log lines. */
	static std::once_flag tables;
	std::call_once(tables, [] { initialize_ext2_error_table(); });
	std::unique_ptr<Filesystem> self(new Filesystem());
	self->fd_ = std::move(fd);

	ext2_super_block sb{};
	if (!readExact(self->fd_.get(), &sb, sizeof(sb), SUPERBLOCK_OFFSET)) {
		logLine("cannot read the superblock (image too small?)");
		return Error{-EINVAL};
	}
	if (std::string why = unsupportedFeature(sb); !why.empty()) {
		logLine("%s", why.c_str());
		return Error{-EINVAL};
	}
	bool write = opts.write;
	if (write) {
		/* Written only when we write it correctly; else served read-only
		 * with one line saying why. */
		std::string no = writeRefusal(sb);
		int fl = fcntl(self->fd_.get(), F_GETFL);
		if (no.empty() && (fl < 0 || (fl & O_ACCMODE) != O_RDWR))
			no = "the source is not open for writing";
		struct stat st {
		};
		int bro = 0;
		if (no.empty() && fstat(self->fd_.get(), &st) == 0 && S_ISBLK(st.st_mode) &&
		    ioctl(self->fd_.get(), BLKROGET, &bro) == 0 && bro)
			no = "the device is read-only";
		if (no.empty() && ext2fs_has_feature_journal_needs_recovery(&sb)) {
			if (opts.norecovery) {
				no = "norecovery, and the journal needs recovery";
			} else {
				/* As the kernel does: the committed transactions go
				 * home and the journal is emptied before anything is
				 * served. */
				std::string rwhy;
				auto rs = replay_to_device(self->fd_.get(), rwhy);
				if (!rs) {
					logLine("cannot recover the journal: %s", rwhy.c_str());
					return Error{-EINVAL};
				}
				logLine(
				    "recovered the journal: %u transactions (%zu blocks) written "
				    "to the device",
				    rs->transactions, rs->blocks);
				if (!readExact(self->fd_.get(), &sb, sizeof(sb),
					       SUPERBLOCK_OFFSET)) {
					logLine("cannot read the superblock after recovery");
					return Error{-EIO};
				}
			}
		}
		if (no.empty() && (!(sb.s_state & EXT2_VALID_FS) || (sb.s_state & EXT2_ERROR_FS)))
			no = "the filesystem was not cleanly unmounted or has errors (run e2fsck)";
		if (!no.empty()) {
			logLine("%s: mounting read-only", no.c_str());
			write = false;
		}
	}
	if (write) {
		auto rw = openReadWrite(self->fd_.get());
		if (!rw)
			return Error{rw.error()};
		self->owned_fs_ = std::move(*rw);
		self->fs_ = self->owned_fs_.get();
	}
	/* A dirty journal is replayed in memory (unless norecovery): libext2fs
	 * then reads through the overlay, and so does our data path. */
	std::string why;
	ReplayOpenOptions ro;
	ro.flags = EXT2_FLAG_SKIP_MMP;
	ro.recovery = !opts.norecovery;
	auto opened =
	    write ? Result<ReplayedFs>(ReplayedFs{}) : open_replayed(self->fd_.get(), why, ro);
	if (!opened) {
		logLine("cannot open the filesystem: %s", why.c_str());
		return Error{opened.error() == -ENOMEM ? -ENOMEM : -EINVAL};
	}
	if (!write) {
		self->owned_fs_ = std::move(opened->fs);
		self->fs_ = self->owned_fs_.get();
	}
	if (opened->overlay) {
		self->journal_ = std::move(opened->overlay);
		self->overlay_ = [j = self->journal_.get()](blk64_t b) { return j->find(b); };
		logLine("replayed %u journal transactions in memory (%zu blocks); the image is "
			"unchanged",
			opened->stats.transactions, opened->stats.blocks);
	} else if (opened->needed_recovery && opts.norecovery) {
		logLine("the journal needs recovery; norecovery: serving the image without it");
	}
	/* The replayed superblock may name other features: check it too. */
	if (std::string w = unsupportedFeature(*self->fs_->super); !w.empty()) {
		logLine("%s", w.c_str());
		return Error{-EINVAL};
	}
	self->block_size_ = self->fs_->blocksize;
	self->blocks_count_ = ext2fs_blocks_count(self->fs_->super);
	/* The kernel refuses a device shorter than the block count; so do we,
	 * so a read can never come back short. */
	uint64_t need = self->blocks_count_ * self->block_size_;
	if (deviceSize(self->fd_.get()) < need) {
		logLine("image truncated: %llu bytes, the superblock says %llu",
			(unsigned long long)deviceSize(self->fd_.get()), (unsigned long long)need);
		return Error{-EINVAL};
	}
	self->buildSystemZone();
	/* The root must be a directory, or nothing can be served. */
	auto root = self->readInode(EXT2_ROOT_INO);
	if (!root)
		return Error{-EINVAL};
	if (!LINUX_S_ISDIR(root->i_mode)) {
		logLine("corrupt filesystem: the root inode is not a directory");
		return Error{-EINVAL};
	}
	if (write) {
		if (auto r = self->openForWrite(); !r)
			return Error{-EINVAL};
	}
	return self;
}

Filesystem::~Filesystem()
{
	stopCommitter();
}

void Filesystem::buildSystemZone()
{
	/* The blocks the filesystem's own metadata occupies: superblocks and
	 * group descriptors (with reserved ones), bitmaps, inode tables. File
	 * data there is corruption (the kernel's "system zone" check). */
	std::vector<std::pair<uint64_t, uint64_t>> z;
	const uint64_t itb = fs_->inode_blocks_per_group;
	for (dgrp_t g = 0; g < fs_->group_desc_count; g++) {
		blk64_t super = 0, old_desc = 0, new_desc = 0;
		blk_t used = 0;
		ext2fs_super_and_bgd_loc2(fs_, g, &super, &old_desc, &new_desc, &used);
		uint64_t first = ext2fs_group_first_block2(fs_, g);
		if (used)
			z.emplace_back(first, first + used);
		if (new_desc)
			z.emplace_back(new_desc, new_desc + 1);
		uint64_t bb = ext2fs_block_bitmap_loc(fs_, g), ib = ext2fs_inode_bitmap_loc(fs_, g);
		uint64_t it = ext2fs_inode_table_loc(fs_, g);
		z.emplace_back(bb, bb + 1);
		z.emplace_back(ib, ib + 1);
		if (it)
			z.emplace_back(it, it + itb);
	}
	std::sort(z.begin(), z.end());
	for (const auto &r : z) {
		if (!system_zone_.empty() && r.first <= system_zone_.back().second)
			system_zone_.back().second = std::max(system_zone_.back().second, r.second);
		else
			system_zone_.push_back(r);
	}
}

bool Filesystem::inSystemZone(uint64_t start, uint64_t len) const noexcept
{
	/* The first zone ending after start; overlap if it begins before our end. */
	auto it = std::upper_bound(system_zone_.begin(), system_zone_.end(), start,
				   [](uint64_t b, const auto &r) { return b < r.second; });
	return it != system_zone_.end() && it->first < start + len;
}

bool Filesystem::validIno(ext2_ino_t ino) const noexcept
{
	return ino == EXT2_ROOT_INO ||
	       (ino >= EXT2_FIRST_INO(fs_->super) && ino <= fs_->super->s_inodes_count);
}

Result<ext2_inode_large> Filesystem::readInode(ext2_ino_t ino)
{
	if (!validIno(ino)) {
		logLine("inode %u: number out of range", ino);
		return Error{-EUCLEAN};
	}
	ext2_inode_large in{};
	errcode_t err =
	    ext2fs_read_inode2(fs_, ino, reinterpret_cast<ext2_inode *>(&in), sizeof(in), 0);
	if (err) {
		auto r = fail(err, "reading the inode", ino);
		return Error{r.error()};
	}
	if (EXT2_INODE_SIZE(fs_->super) > EXT2_GOOD_OLD_INODE_SIZE &&
	    EXT2_GOOD_OLD_INODE_SIZE + size_t(in.i_extra_isize) > EXT2_INODE_SIZE(fs_->super)) {
		logLine("inode %u: i_extra_isize %u too large", ino, in.i_extra_isize);
		return Error{-EUCLEAN};
	}
	if (in.i_links_count == 0 && in.i_mode == 0) {
		logLine("inode %u: deleted inode referenced", ino);
		return Error{-EUCLEAN};
	}
	return in;
}

Result<struct stat> Filesystem::statLocked(ext2_ino_t ino)
{
	if (auto it = attr_cache_.find(ino); it != attr_cache_.end())
		return it->second.st;
	auto r = readInode(ino);
	if (!r)
		return Error{r.error()};
	const ext2_inode_large &in = *r;
	unsigned isz = EXT2_INODE_SIZE(fs_->super);
	struct stat st {
	};
	st.st_ino = ino;
	st.st_mode = in.i_mode;
	st.st_nlink = in.i_links_count;
	st.st_uid = inode_uid(in);
	st.st_gid = inode_gid(in);
	uint64_t size = in.i_size;
	if (LINUX_S_ISREG(in.i_mode) || ext2fs_has_feature_largedir(fs_->super))
		size |= uint64_t(in.i_size_high) << 32;
	st.st_size = off_t(size);
	uint64_t blocks = in.i_blocks;
	if (ext2fs_has_feature_huge_file(fs_->super)) {
		blocks |= uint64_t(in.osd2.linux2.l_i_blocks_hi) << 32;
		if (in.i_flags & kHugeFileFl)
			blocks *= block_size_ / 512;
	}
	/* Like the kernel: a regular file's inline data counts as the sectors
	 * it would fill, so tools do not take the file for a hole. */
	if (LINUX_S_ISREG(in.i_mode) && (in.i_flags & kInlineDataFl))
		blocks += (size + 511) >> 9;
	st.st_blocks = blkcnt_t(blocks);
	st.st_blksize = blksize_t(block_size_);
	if (LINUX_S_ISCHR(in.i_mode) || LINUX_S_ISBLK(in.i_mode)) {
		/* Old encoding in block[0] (8:8), else the new one in block[1]. */
		uint32_t old = in.i_block[0], nw = in.i_block[1];
		if (old)
			st.st_rdev = makedev((old >> 8) & 255, old & 255);
		else
			st.st_rdev =
			    makedev((nw & 0xfff00) >> 8, (nw & 0xff) | ((nw >> 12) & 0xfff00));
	}
	st.st_atim =
	    decodeTime(in.i_atime, in.i_atime_extra, fits(in, isz, FIELD_END(i_atime_extra)));
	st.st_mtim =
	    decodeTime(in.i_mtime, in.i_mtime_extra, fits(in, isz, FIELD_END(i_mtime_extra)));
	st.st_ctim =
	    decodeTime(in.i_ctime, in.i_ctime_extra, fits(in, isz, FIELD_END(i_ctime_extra)));
	if (attr_cache_.size() >= kAttrCacheMax)
		attr_cache_.clear();
	attr_cache_.emplace(ino, CachedAttr{st, in.i_generation});
	return st;
}

Result<struct stat> Filesystem::getattr(ext2_ino_t ino)
{
	std::lock_guard g(mu_);
	return statLocked(ino);
}

Result<struct timespec> Filesystem::crtime(ext2_ino_t ino)
{
	std::lock_guard g(mu_);
	auto r = readInode(ino);
	if (!r)
		return Error{r.error()};
	if (!fits(*r, EXT2_INODE_SIZE(fs_->super), FIELD_END(i_crtime_extra)))
		return Error{-ENODATA};
	return decodeTime(r->i_crtime, r->i_crtime_extra, true);
}

Result<uint32_t> Filesystem::generation(ext2_ino_t ino)
{
	std::lock_guard g(mu_);
	auto st = statLocked(ino);
	if (!st)
		return Error{st.error()};
	auto it = attr_cache_.find(ino);
	return it != attr_cache_.end() ? it->second.generation : 0U;
}

namespace
{

struct DirCollect {
	Directory *dir;
	bool filetype;
};

int collectEntry(ext2_ino_t, int, struct ext2_dir_entry *dirent, int, int, char *, void *priv)
{
	auto *c = static_cast<DirCollect *>(priv);
	if (dirent->inode == 0)
		return 0;
	int len = ext2fs_dirent_name_len(dirent);
	unsigned char type = DT_UNKNOWN;
	if (c->filetype)
		type = dtFromFt(unsigned(ext2fs_dirent_file_type(dirent)));
	c->dir->entries.push_back(
	    DirEntry{std::string(dirent->name, size_t(len)), dirent->inode, type});
	return 0;
}

} // namespace

Result<std::shared_ptr<const Directory>> Filesystem::dirLocked(ext2_ino_t ino)
{
	if (auto it = dir_cache_.find(ino); it != dir_cache_.end())
		return it->second;
	auto in = readInode(ino);
	if (!in)
		return Error{in.error()};
	if (!LINUX_S_ISDIR(in->i_mode))
		return Error{-ENOTDIR};
	/* libext2fs walks a directory's blocks without the kernel's checks
	 * (order, metadata blocks): map it first, which makes them. */
	if (!(in->i_flags & kInlineDataFl)) {
		if (auto m = mapLocked(ino, *in); !m)
			return Error{m.error()};
	}
	auto dir = std::make_shared<Directory>();
	DirCollect c{dir.get(), ext2fs_has_feature_filetype(fs_->super) != 0};
	errcode_t err = ext2fs_dir_iterate2(fs_, ino, 0, nullptr, collectEntry, &c);
	if (err) {
		auto r = fail(err, "reading the directory", ino);
		return Error{r.error()};
	}
	dir->index.reserve(dir->entries.size());
	for (uint32_t i = 0; i < dir->entries.size(); i++)
		dir->index.emplace(dir->entries[i].name, i);
	if (dir_cache_entries_ + dir->entries.size() > kDirCacheEntriesMax) {
		dir_cache_.clear();
		dir_cache_entries_ = 0;
	}
	dir_cache_entries_ += dir->entries.size();
	dir_cache_.emplace(ino, dir);
	return std::shared_ptr<const Directory>(std::move(dir));
}

Result<std::shared_ptr<const Directory>> Filesystem::openDir(ext2_ino_t ino)
{
	std::lock_guard g(mu_);
	return dirLocked(ino);
}

Result<ext2_ino_t> Filesystem::lookup(ext2_ino_t parent, std::string_view name)
{
	std::lock_guard g(mu_);
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

namespace
{

struct BlockCollect {
	std::vector<Run> *runs;
	uint64_t nblocks;   /* logical blocks inside i_size */
	uint64_t fs_blocks; /* blocks in the filesystem */
	bool bad = false;
};

int collectBlock(ext2_filsys, blk64_t *blocknr, e2_blkcnt_t blockcnt, blk64_t, int, void *priv)
{
	auto *c = static_cast<BlockCollect *>(priv);
	if (blockcnt < 0 || uint64_t(blockcnt) >= c->nblocks)
		return 0;
	if (*blocknr >= c->fs_blocks) {
		c->bad = true;
		return BLOCK_ABORT;
	}
	auto &runs = *c->runs;
	if (!runs.empty()) {
		Run &last = runs.back();
		if (last.lblk + last.len == uint64_t(blockcnt) &&
		    last.pblk + last.len == *blocknr && last.len < UINT32_MAX) {
			last.len++;
			return 0;
		}
	}
	if (runs.size() >= kMaxRuns) {
		c->bad = true;
		return BLOCK_ABORT;
	}
	runs.push_back(Run{uint64_t(blockcnt), *blocknr, 1, false});
	return 0;
}

} // namespace

Result<std::shared_ptr<FileMap>> Filesystem::mapLocked(ext2_ino_t ino, const ext2_inode_large &in)
{
	auto map = std::make_shared<FileMap>();
	map->ino = ino;
	map->size = uint64_t(in.i_size) | (uint64_t(in.i_size_high) << 32);
	if (!LINUX_S_ISREG(in.i_mode))
		map->size = in.i_size;
	auto *inode = reinterpret_cast<ext2_inode *>(const_cast<ext2_inode_large *>(&in));

	if (in.i_flags & kInlineDataFl) {
		size_t len = 0;
		errcode_t err = ext2fs_inline_data_size(fs_, ino, &len);
		if (err)
			return Error{fail(err, "reading inline data", ino).error()};
		map->is_inline = true;
		map->inline_data.resize(std::max<size_t>(len, 1));
		err = ext2fs_inline_data_get(fs_, ino, inode, map->inline_data.data(), &len);
		if (err)
			return Error{fail(err, "reading inline data", ino).error()};
		/* Past the inline bytes the file reads as zeros (as in the kernel). */
		map->inline_data.resize(len);
		return map;
	}

	uint64_t nblocks = (map->size + block_size_ - 1) / block_size_;
	if (in.i_flags & kExtentsFl) {
		ext2_extent_handle_t h = nullptr;
		errcode_t err = ext2fs_extent_open2(fs_, ino, inode, &h);
		if (err)
			return Error{fail(err, "opening the extent tree", ino).error()};
		struct ext2fs_extent ex {
		};
		uint64_t next_lblk = 0;
		err = ext2fs_extent_get(h, EXT2_EXTENT_ROOT, &ex);
		while (!err) {
			bool leaf = (ex.e_flags & EXT2_EXTENT_FLAGS_LEAF) &&
				    !(ex.e_flags & EXT2_EXTENT_FLAGS_SECOND_VISIT);
			/* Like the kernel: leaves in increasing order, none overlapping. */
			if (leaf && ex.e_lblk < next_lblk) {
				ext2fs_extent_free(h);
				logLine("inode %u: extents out of order", ino);
				return Error{-EUCLEAN};
			}
			if (leaf)
				next_lblk = ex.e_lblk + ex.e_len;
			if (leaf && ex.e_len > 0 && ex.e_lblk < nblocks) {
				if (ex.e_pblk + ex.e_len > blocks_count_ ||
				    ex.e_pblk < fs_->super->s_first_data_block ||
				    inSystemZone(ex.e_pblk, ex.e_len) ||
				    map->runs.size() >= kMaxRuns) {
					ext2fs_extent_free(h);
					logLine("inode %u: extent out of range", ino);
					return Error{-EUCLEAN};
				}
				map->runs.push_back(
				    Run{ex.e_lblk, ex.e_pblk, ex.e_len,
					(ex.e_flags & EXT2_EXTENT_FLAGS_UNINIT) != 0});
			}
			err = ext2fs_extent_get(h, EXT2_EXTENT_NEXT, &ex);
		}
		ext2fs_extent_free(h);
		if (err != EXT2_ET_EXTENT_NO_NEXT && err != EXT2_ET_NO_CURRENT_NODE)
			return Error{fail(err, "walking the extent tree", ino).error()};
		std::sort(map->runs.begin(), map->runs.end(),
			  [](const Run &a, const Run &b) { return a.lblk < b.lblk; });
		for (size_t i = 1; i < map->runs.size(); i++) {
			const Run &p = map->runs[i - 1];
			if (p.lblk + p.len > map->runs[i].lblk) {
				logLine("inode %u: overlapping extents", ino);
				return Error{-EUCLEAN};
			}
		}
	} else if (nblocks > 0) {
		BlockCollect c{&map->runs, nblocks, blocks_count_};
		errcode_t err = ext2fs_block_iterate3(fs_, ino, BLOCK_FLAG_READ_ONLY, nullptr,
						      collectBlock, &c);
		for (const Run &r : map->runs)
			c.bad = c.bad || inSystemZone(r.pblk, r.len);
		if (c.bad) {
			logLine("inode %u: block map out of range", ino);
			return Error{-EUCLEAN};
		}
		if (err)
			return Error{fail(err, "reading the block map", ino).error()};
	}
	return map;
}

Result<std::shared_ptr<const FileMap>> Filesystem::openFile(ext2_ino_t ino)
{
	std::lock_guard g(mu_);
	if (auto it = map_cache_.find(ino); it != map_cache_.end())
		return it->second;
	auto in = readInode(ino);
	if (!in)
		return Error{in.error()};
	if (LINUX_S_ISDIR(in->i_mode))
		return Error{-EISDIR};
	if (!LINUX_S_ISREG(in->i_mode))
		return Error{-EINVAL};
	auto m = mapLocked(ino, *in);
	if (!m)
		return Error{m.error()};
	std::shared_ptr<const FileMap> map = std::move(*m);
	/* Bounded by count and by total runs: crafted inodes can share one
	 * huge extent tree, and each map is a copy of it. */
	size_t weight = map->runs.size() + map->inline_data.size() / sizeof(Run) + 1;
	if (map_cache_.size() >= kMapCacheMax || map_cache_weight_ + weight > kMapCacheRuns) {
		map_cache_.clear();
		map_cache_weight_ = 0;
	}
	map_cache_.emplace(ino, map);
	map_cache_weight_ += weight;
	return map;
}

Result<std::vector<Segment>> Filesystem::planRead(const FileMap &map, uint64_t off,
						  size_t size) const
{
	std::vector<Segment> segs;
	if (off >= map.size || size == 0)
		return segs;
	uint64_t end = std::min<uint64_t>(map.size, off + size);
	if (map.is_inline) {
		uint64_t have = map.inline_data.size();
		if (off < have)
			segs.push_back(Segment{Segment::Kind::Memory, 0,
					       size_t(std::min(end, have) - off),
					       map.inline_data.data() + off});
		if (end > std::max(off, have))
			segs.push_back(Segment{Segment::Kind::Zero, 0,
					       size_t(end - std::max(off, have)), nullptr});
		return segs;
	}
	const uint64_t bs = block_size_;
	auto add = [&](Segment s) {
		if (!segs.empty()) {
			Segment &b = segs.back();
			if (b.kind == s.kind && s.kind == Segment::Kind::Zero) {
				b.len += s.len;
				return;
			}
			if (b.kind == s.kind && s.kind == Segment::Kind::Device &&
			    b.pos + b.len == s.pos) {
				b.len += s.len;
				return;
			}
		}
		segs.push_back(s);
	};
	uint64_t pos = off;
	while (pos < end) {
		uint64_t lblk = pos / bs;
		/* The last run starting at or before lblk. */
		auto it = std::upper_bound(map.runs.begin(), map.runs.end(), lblk,
					   [](uint64_t l, const Run &r) { return l < r.lblk; });
		const Run *r = nullptr;
		if (it != map.runs.begin() && (it - 1)->lblk + (it - 1)->len > lblk)
			r = &*(it - 1);
		if (!r || r->unwritten) {
			uint64_t stop = end;
			if (r)
				stop = std::min(end, (r->lblk + r->len) * bs);
			else if (it != map.runs.end())
				stop = std::min(end, it->lblk * bs);
			add(Segment{Segment::Kind::Zero, 0, size_t(stop - pos), nullptr});
			pos = stop;
			continue;
		}
		uint64_t stop = std::min(end, (r->lblk + r->len) * bs);
		if (!overlay_) {
			uint64_t phys = (r->pblk + (lblk - r->lblk)) * bs + pos % bs;
			add(Segment{Segment::Kind::Device, phys, size_t(stop - pos), nullptr});
			pos = stop;
			continue;
		}
		/* A replayed journal: look at every block. */
		while (pos < stop) {
			uint64_t b = pos / bs;
			uint64_t pblk = r->pblk + (b - r->lblk);
			uint64_t bend = std::min(stop, (b + 1) * bs);
			auto over = overlay_(pblk);
			if (!over.empty()) {
				if (over.size() < bs)
					return Error{-EIO};
				add(Segment{Segment::Kind::Memory, 0, size_t(bend - pos),
					    over.data() + pos % bs});
			} else {
				add(Segment{Segment::Kind::Device, pblk * bs + pos % bs,
					    size_t(bend - pos), nullptr});
			}
			pos = bend;
		}
	}
	return segs;
}

Result<size_t> Filesystem::read(const FileMap &map, std::span<std::byte> buf, uint64_t off) const
{
	auto plan = planRead(map, off, buf.size());
	if (!plan)
		return Error{plan.error()};
	size_t done = 0;
	for (const Segment &s : *plan) {
		switch (s.kind) {
		case Segment::Kind::Zero:
			std::memset(buf.data() + done, 0, s.len);
			break;
		case Segment::Kind::Memory:
			std::memcpy(buf.data() + done, s.mem, s.len);
			break;
		case Segment::Kind::Device:
			if (!readExact(fd_.get(), buf.data() + done, s.len, s.pos))
				return Error{-EIO};
			break;
		}
		done += s.len;
	}
	return done;
}

Result<std::string> Filesystem::readlink(ext2_ino_t ino)
{
	std::shared_ptr<FileMap> map;
	{
		std::lock_guard g(mu_);
		auto in = readInode(ino);
		if (!in)
			return Error{in.error()};
		if (!LINUX_S_ISLNK(in->i_mode))
			return Error{-EINVAL};
		uint64_t size = in->i_size;
		if (size == 0 || size >= kMaxLink) {
			logLine("inode %u: bad symlink length %llu", ino, (unsigned long long)size);
			return Error{-EUCLEAN};
		}
		if (!(in->i_flags & kInlineDataFl) &&
		    ext2fs_is_fast_symlink(reinterpret_cast<ext2_inode *>(&*in)))
			return std::string(reinterpret_cast<const char *>(in->i_block), size);
		auto m = mapLocked(ino, *in);
		if (!m)
			return Error{m.error()};
		map = std::move(*m);
	}
	std::string target(map->size, '\0');
	auto n = read(*map, std::as_writable_bytes(std::span(target)), 0);
	if (!n)
		return Error{n.error()};
	if (*n != target.size() || target.find('\0') != std::string::npos) {
		logLine("inode %u: corrupt symlink target", ino);
		return Error{-EUCLEAN};
	}
	return target;
}

Result<struct statvfs> Filesystem::statfs()
{
	std::lock_guard g(mu_);
	ext2_super_block *sb = fs_->super;
	struct statvfs sv {
	};
	sv.f_bsize = block_size_;
	sv.f_frsize = block_size_;
	/* Like the kernel: free counts from the group descriptors, the
	 * metadata overhead subtracted from the total. */
	uint64_t free_blocks = 0, free_inodes = 0, overhead = sb->s_first_data_block;
	const uint64_t ipb = fs_->inode_blocks_per_group;
	for (dgrp_t g = 0; g < fs_->group_desc_count; g++) {
		free_blocks += ext2fs_bg_free_blocks_count(fs_, g);
		free_inodes += ext2fs_bg_free_inodes_count(fs_, g);
		blk64_t super = 0, old_desc = 0, new_desc = 0;
		blk_t used = 0;
		ext2fs_super_and_bgd_loc2(fs_, g, &super, &old_desc, &new_desc, &used);
		overhead += used + 2 + ipb;
	}
	if (sb->s_overhead_clusters)
		overhead = uint64_t(sb->s_overhead_clusters) * EXT2FS_CLUSTER_RATIO(fs_);
	else if (sb->s_journal_inum && ext2fs_has_feature_journal(sb)) {
		ext2_inode_large j{};
		if (!ext2fs_read_inode2(fs_, sb->s_journal_inum, reinterpret_cast<ext2_inode *>(&j),
					sizeof(j), 0))
			overhead += EXT2_I_SIZE(&j) / block_size_;
	}
	uint64_t total = ext2fs_blocks_count(sb);
	uint64_t reserved = ext2fs_r_blocks_count(sb);
	/* The kernel also keeps 2% (at most 4096 clusters) for extent splits. */
	if (ext2fs_has_feature_extents(sb))
		reserved += std::min<uint64_t>((total / EXT2FS_CLUSTER_RATIO(fs_)) / 50, 4096) *
			    EXT2FS_CLUSTER_RATIO(fs_);
	sv.f_blocks = total > overhead ? total - overhead : 0;
	sv.f_bfree = free_blocks;
	sv.f_bavail = free_blocks > reserved ? free_blocks - reserved : 0;
	sv.f_files = sb->s_inodes_count;
	sv.f_ffree = free_inodes;
	sv.f_favail = free_inodes;
	sv.f_namemax = EXT2_NAME_LEN;
	sv.f_flag = writable_ ? 0 : ST_RDONLY;
	return sv;
}

Result<struct ext2_xattr_handle *> Filesystem::xattrsLocked(ext2_ino_t ino)
{
	if (!validIno(ino))
		return Error{-EUCLEAN};
	struct ext2_xattr_handle *h = nullptr;
	errcode_t err = ext2fs_xattrs_open(fs_, ino, &h);
	if (err == EXT2_ET_MISSING_EA_FEATURE)
		return h;
	if (err)
		return Error{fail(err, "reading xattrs", ino).error()};
	err = ext2fs_xattrs_read(h);
	if (err) {
		ext2fs_xattrs_close(&h);
		return Error{fail(err, "reading xattrs", ino).error()};
	}
	return h;
}

namespace
{

/* "system.data" holds inline file data; the kernel does not list it. */
bool hidden(std::string_view name)
{
	return name == "system.data";
}

int collectName(char *name, char *, size_t, void *data)
{
	auto *names = static_cast<std::vector<std::string> *>(data);
	if (!hidden(name))
		names->emplace_back(name);
	return 0;
}

} // namespace

Result<std::vector<std::string>> Filesystem::listxattr(ext2_ino_t ino)
{
	std::lock_guard g(mu_);
	auto h = xattrsLocked(ino);
	if (!h)
		return Error{h.error()};
	std::vector<std::string> names;
	if (!*h)
		return names;
	errcode_t err = ext2fs_xattrs_iterate(*h, collectName, &names);
	ext2fs_xattrs_close(&*h);
	if (err)
		return Error{fail(err, "listing xattrs", ino).error()};
	return names;
}

Result<std::vector<std::byte>> Filesystem::getxattr(ext2_ino_t ino, std::string_view name)
{
	if (hidden(name))
		return Error{-ENODATA};
	std::lock_guard g(mu_);
	auto h = xattrsLocked(ino);
	if (!h)
		return Error{h.error()};
	if (!*h)
		return Error{-ENODATA};
	/* libext2fs returns ACLs converted from ext4's compact on-disk form
	 * to the POSIX xattr form (version 2 header, 8-byte entries). */
	void *value = nullptr;
	size_t len = 0;
	std::string key(name);
	errcode_t err = ext2fs_xattr_get(*h, key.c_str(), &value, &len);
	ext2fs_xattrs_close(&*h);
	if (err == EXT2_ET_EA_KEY_NOT_FOUND)
		return Error{-ENODATA};
	if (err)
		return Error{fail(err, "reading an xattr", ino).error()};
	std::vector<std::byte> out(static_cast<std::byte *>(value),
				   static_cast<std::byte *>(value) + len);
	ext2fs_free_mem(&value);
	return out;
}

} // namespace fsvc::ext4
