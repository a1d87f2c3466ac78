/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * In-memory replay of an ext3/ext4 (JBD2) journal that needs recovery.
 *
 * The kernel replays a dirty journal by writing the committed blocks to their
 * home locations. We must not write to the image, so the committed blocks are
 * collected in memory instead and laid over every read of the device (see
 * overlay_io.h): the reader sees the state the kernel would have written, and
 * the image stays byte-for-byte unchanged.
 */
#pragma once

#include "core/result.h"

#include <ext2fs/ext2fs.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace fsvc::ext4
{

/** Bounds on what a replay may cost. */
struct ReplayLimits {
	/** Most bytes of replayed block data kept in memory (default 64 MiB). A
	 * journal whose committed transactions overlay more distinct blocks is
	 * refused (-EFBIG); mount with norecovery to read it unreplayed. */
	size_t max_bytes = size_t(64) << 20;
};

/** What a replay did, for the server's log line. */
struct ReplayStats {
	uint32_t transactions = 0; /**< committed transactions replayed */
	uint32_t first_sequence = 0;
	size_t blocks = 0;  /**< distinct filesystem blocks overlaid */
	size_t revoked = 0; /**< journalled copies skipped because revoked */
};

/** Reads journal block @p jblk (0 = the journal superblock) into @p out
 * (one journal block). Returns 0 or a negative errno. */
using JournalBlockReader = std::function<int(uint32_t jblk, std::span<std::byte> out)>;

/**
 * The committed contents of a journal, by filesystem block number.
 * Immutable once loaded, so it may be shared between threads.
 */
class JournalOverlay
{
public:
	JournalOverlay() = default;

	/**
	 * Scan the internal journal of @p fs (opened read-only, without replay)
	 * and collect what a recovery would write. A filesystem that does not
	 * need recovery gives an empty overlay. Never writes.
	 *
	 * The log is read from s_start while blocks carry the expected sequence;
	 * a transaction counts when its commit block is valid. What is
	 * replayed: every tagged block of the committed transactions, the
	 * latest copy winning, except copies revoked by a revoke record of the
	 * same or a later committed transaction.
	 *
	 * Fails with a negative errno and a one-line reason in @p why:
	 * -EUCLEAN for a corrupt journal, as the kernel judges it (bad
	 * superblock; a commit block with the right sequence and a bad
	 * checksum, unless older than the previous commit or with async
	 * commit; a descriptor or revoke block with a bad checksum before a
	 * valid commit; a committed data block failing its checksum; a block
	 * outside the filesystem), -EOPNOTSUPP for an external journal or
	 * fast-commit blocks to replay, -EFBIG when the replay would exceed
	 * @p limits, or an I/O error.
	 */
	static Result<JournalOverlay> load(ext2_filsys fs, std::string &why,
					   const ReplayLimits &limits = {});

	/**
	 * The same from any source of journal blocks: @p journal_blocks is the
	 * size of the journal file in blocks of @p block_size, @p fs_blocks the
	 * number of blocks of the filesystem (replayed block numbers must be
	 * below it).
	 */
	static Result<JournalOverlay> scan(const JournalBlockReader &read, uint64_t journal_blocks,
					   uint32_t block_size, uint64_t fs_blocks,
					   std::string &why, const ReplayLimits &limits = {});

	[[nodiscard]] bool empty() const { return index_.empty(); }
	/** Number of filesystem blocks overlaid. */
	[[nodiscard]] size_t size() const { return index_.size(); }
	/** Size of every overlaid block (the filesystem block size). */
	[[nodiscard]] uint32_t block_size() const { return block_size_; }
	[[nodiscard]] const ReplayStats &stats() const { return stats_; }

	/** The replayed contents of filesystem block @p blk, or an empty span
	 * when the journal does not hold it (read the device). */
	[[nodiscard]] std::span<const std::byte> find(blk64_t blk) const;

	/**
	 * Copy every overlaid block that intersects the byte range
	 * [@p offset, @p offset + @p buf.size()) of the device into @p buf, which
	 * holds what the device has there.
	 */
	void apply(uint64_t offset, std::span<std::byte> buf) const;

	/** Call @p fn(block, contents) for every overlaid block, in block
	 * order (what a write-back must put in place). */
	void for_each(const std::function<void(blk64_t, std::span<const std::byte>)> &fn) const;

private:
	uint32_t block_size_ = 0;
	std::vector<std::byte> data_;     /* block_size_ bytes per slot */
	std::map<blk64_t, size_t> index_; /* filesystem block -> slot */
	ReplayStats stats_;

	friend class ReplayBuilder;
};

} // namespace fsvc::ext4
