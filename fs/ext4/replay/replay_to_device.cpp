/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Recovery in place: the in-memory replay's blocks written home, then the
 * journal marked empty and needs_recovery cleared. The order (data, sync,
 * journal superblock, sync, fs superblock, sync) keeps every intermediate
 * state recoverable: replaying the same blocks twice is harmless.
 */
#include "fs/ext4/replay/replay_to_device.h"
#include "fs/ext4/replay/jbd2_format.h"
#include "fs/ext4/replay/overlay_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <vector>

namespace fsvc::ext4
{

namespace
{

Error fail(std::string &why, int code, std::string msg)
{
	why = std::move(msg);
	return Error{code};
}

int pwrite_all(int fd, std::span<const std::byte> b, uint64_t off)
{
	while (!b.empty()) {
		ssize_t n = pwrite(fd, b.data(), b.size(), off_t(off));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		b = b.subspan(size_t(n));
		off += uint64_t(n);
	}
	return 0;
}

int pread_all(int fd, std::span<std::byte> b, uint64_t off)
{
	while (!b.empty()) {
		ssize_t n = pread(fd, b.data(), b.size(), off_t(off));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		b = b.subspan(size_t(n));
		off += uint64_t(n);
	}
	return 0;
}

int sync_fd(int fd)
{
	return fdatasync(fd) < 0 ? -errno : 0;
}

/* Where the journal superblock lives: block 0 of the journal inode. */
Result<blk64_t> journal_superblock_block(ext2_filsys fs, std::string &why)
{
	ext2_ino_t ino = fs->super->s_journal_inum;
	struct ext2_inode_large inode {
	};
	errcode_t err =
	    ext2fs_read_inode_full(fs, ino, reinterpret_cast<ext2_inode *>(&inode), sizeof(inode));
	blk64_t phys = 0;
	if (!err)
		err = ext2fs_bmap2(fs, ino, reinterpret_cast<ext2_inode *>(&inode), nullptr, 0, 0,
				   nullptr, &phys);
	if (err || phys == 0 || phys >= ext2fs_blocks_count(fs->super))
		return fail(why, -EUCLEAN, "cannot locate the journal superblock");
	return phys;
}

/* Step 3: s_start = 0, s_sequence = @p next, checksum. A journal already
 * empty is left alone. */
int reset_journal(int fd, uint64_t offset, uint32_t next)
{
	using namespace jbd2;
	std::vector<std::byte> sb(kSbSize);
	if (int rc = pread_all(fd, sb, offset); rc < 0)
		return rc;
	if (be32(sb, kSbStart) == 0)
		return 0;
	put_be32(sb, kSbStart, 0);
	put_be32(sb, kSbSequence, next);
	uint32_t incompat = be32(sb, kSbFeatureIncompat);
	if (be32(sb, 4) == kSuperblockV2 && (incompat & (kIncompatCsumV2 | kIncompatCsumV3))) {
		put_be32(sb, kSbChecksum, 0);
		uint32_t c =
		    ext2fs_crc32c_le(~0U, reinterpret_cast<unsigned char *>(sb.data()), kSbSize);
		put_be32(sb, kSbChecksum, c);
	}
	if (int rc = pwrite_all(fd, sb, offset); rc < 0)
		return rc;
	return sync_fd(fd);
}

/* Step 4, through libext2fs: only the primary superblock is written. */
Result<void> mark_recovered(int fd, std::string &why)
{
	auto fs = open_plain(fd, EXT2_FLAG_RW, why);
	if (!fs) {
		why = "after the replay: " + why;
		return Error{fs.error()};
	}
	ext2_filsys f = fs.value().get();
	blk64_t free_blocks = 0;
	uint64_t free_inodes = 0;
	for (dgrp_t g = 0; g < f->group_desc_count; g++) {
		free_blocks += ext2fs_bg_free_blocks_count(f, g);
		free_inodes += ext2fs_bg_free_inodes_count(f, g);
	}
	/* Counts are in clusters on bigalloc filesystems. */
	ext2fs_free_blocks_count_set(f->super, EXT2FS_C2B(f, free_blocks));
	f->super->s_free_inodes_count = uint32_t(free_inodes);
	ext2fs_clear_feature_journal_needs_recovery(f->super);
	f->flags |= EXT2_FLAG_SUPER_ONLY;
	ext2fs_mark_super_dirty(f);
	ext2_filsys raw = fs.value().release();
	errcode_t err = ext2fs_close_free(&raw);
	if (err)
		return fail(why, -EIO,
			    std::string("cannot write the superblock: ") + error_message(err));
	if (int rc = sync_fd(fd); rc < 0)
		return fail(why, rc, std::string("fdatasync: ") + std::strerror(-rc));
	return {};
}

} // namespace

Result<ReplayStats> replay_to_device(int fd, std::string &why, const ReplayLimits &limits)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0)
		return fail(why, -errno, std::string("bad descriptor: ") + std::strerror(errno));
	if ((fl & O_ACCMODE) != O_RDWR)
		return fail(why, -EROFS, "the device is not open for writing");

	auto plain = open_plain(fd, 0, why);
	if (!plain)
		return Error{plain.error()};
	ext2_filsys fs = plain.value().get();
	if (!ext2fs_has_feature_journal_needs_recovery(fs->super))
		return ReplayStats{};
	auto overlay = JournalOverlay::load(fs, why, limits);
	if (!overlay)
		return Error{overlay.error()};
	const ReplayStats stats = overlay->stats();
	const uint64_t bs = fs->blocksize;
	std::optional<uint64_t> jsb_offset;
	if (ext2fs_has_feature_journal(fs->super) && fs->super->s_journal_inum != 0) {
		auto jsb = journal_superblock_block(fs, why);
		if (!jsb)
			return Error{jsb.error()};
		jsb_offset = *jsb * bs;
	}
	plain.value().reset();

	if (!overlay->empty()) {
		int rc = 0;
		blk64_t bad = 0;
		overlay->for_each([&](blk64_t blk, std::span<const std::byte> data) {
			if (rc == 0) {
				rc = pwrite_all(fd, data, blk * bs);
				bad = blk;
			}
		});
		if (rc < 0)
			return fail(why, rc,
				    "cannot write replayed block " + std::to_string(bad) + ": " +
					std::strerror(-rc));
		if (rc = sync_fd(fd); rc < 0)
			return fail(why, rc, std::string("fdatasync: ") + std::strerror(-rc));
	}
	/* The log held transactions first_sequence .. +transactions-1 (and
	 * maybe an uncommitted one after them): the next one starts past all
	 * of them, as the kernel's recovery leaves it. */
	if (jsb_offset) {
		uint32_t next = stats.first_sequence + stats.transactions + 1;
		if (int rc = reset_journal(fd, *jsb_offset, next); rc < 0)
			return fail(why, rc,
				    std::string("cannot reset the journal: ") + std::strerror(-rc));
	}
	if (auto st = mark_recovered(fd, why); !st)
		return Error{st.error()};
	return stats;
}

} // namespace fsvc::ext4
