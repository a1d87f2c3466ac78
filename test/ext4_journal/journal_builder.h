/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Crafts JBD2 journals block by block for the replay tests, from the format
 * in the kernel's journal.rst: superblock, descriptor + data, revoke and
 * commit blocks, with the checksums of each variant.
 */
#pragma once

#include "fs/ext4/replay/jbd2_format.h"
#include "fs/ext4/replay/journal_overlay.h"

#include <cstring>
#include <vector>

namespace fsvc::ext4::test
{

using Block = std::vector<std::byte>;

struct Write {
	uint64_t target;
	Block data;
};

class JournalBuilder
{
public:
	uint32_t bs = 1024;
	uint32_t maxlen = 64;
	uint32_t first = 1;
	uint32_t start = 1;
	uint32_t sequence = 100;
	uint32_t compat = 0;
	uint32_t incompat = jbd2::kIncompatRevoke | jbd2::kIncompat64bit | jbd2::kIncompatCsumV3;
	uint32_t num_fc = 0;
	uint64_t commit_time = 1000; /* h_commit_sec of the next commit block */
	bool v1_superblock = false;
	std::vector<Block> blocks;

	JournalBuilder() { reset(); }

	void reset()
	{
		blocks.assign(maxlen, Block(bs));
		pos_ = start;
	}

	/* Start writing the log at @p s (call after changing the geometry). */
	void begin(uint32_t s)
	{
		start = s;
		blocks.assign(maxlen, Block(bs));
		pos_ = s;
	}

	[[nodiscard]] bool csum() const
	{
		return incompat & (jbd2::kIncompatCsumV2 | jbd2::kIncompatCsumV3);
	}
	[[nodiscard]] bool v3() const { return incompat & jbd2::kIncompatCsumV3; }
	[[nodiscard]] bool bit64() const { return incompat & jbd2::kIncompat64bit; }
	[[nodiscard]] uint32_t log_end() const { return maxlen - num_fc; }

	static Block filled(uint32_t bs, uint8_t v) { return Block(bs, std::byte(v)); }

	/* The journal superblock, written last (it checksums the final fields). */
	void finish()
	{
		Block &b = blocks[0];
		std::fill(b.begin(), b.end(), std::byte(0));
		header(b, v1_superblock ? jbd2::kSuperblockV1 : jbd2::kSuperblockV2, 0);
		jbd2::put_be32(b, jbd2::kSbBlocksize, bs);
		jbd2::put_be32(b, jbd2::kSbMaxlen, maxlen);
		jbd2::put_be32(b, jbd2::kSbFirst, first);
		jbd2::put_be32(b, jbd2::kSbSequence, sequence);
		jbd2::put_be32(b, jbd2::kSbStart, start);
		if (!v1_superblock) {
			jbd2::put_be32(b, jbd2::kSbFeatureCompat, compat);
			jbd2::put_be32(b, jbd2::kSbFeatureIncompat, incompat);
			for (size_t i = 0; i < 16; i++)
				b[jbd2::kSbUuid + i] = std::byte(0xa0 + i);
			jbd2::put_be32(b, jbd2::kSbNrUsers, 1);
			jbd2::put_be32(b, jbd2::kSbNumFcBlocks, num_fc);
		}
		if (csum()) {
			b[jbd2::kSbChecksumType] = std::byte(jbd2::kChecksumCrc32c);
			jbd2::put_be32(b, jbd2::kSbChecksum, crc(~0U, std::span(b).first(1024)));
		}
	}

	[[nodiscard]] uint32_t seed() const
	{
		std::byte uuid[16];
		for (size_t i = 0; i < 16; i++)
			uuid[i] = std::byte(0xa0 + i);
		return crc(~0U, uuid);
	}

	/* A descriptor block and its data blocks; returns the descriptor's
	 * journal block number. */
	uint32_t descriptor(uint32_t seq, const std::vector<Write> &writes)
	{
		uint32_t at = take();
		Block d(bs);
		header(d, jbd2::kDescriptorBlock, seq);
		size_t off = jbd2::kHeaderSize;
		for (size_t i = 0; i < writes.size(); i++) {
			Block data = writes[i].data;
			uint32_t flags = i == 0 ? 0 : jbd2::kFlagSameUuid;
			if (jbd2::be32(data, 0) == jbd2::kMagic) {
				jbd2::put_be32(data, 0, 0);
				flags |= jbd2::kFlagEscape;
			}
			if (i + 1 == writes.size())
				flags |= jbd2::kFlagLastTag;
			std::byte sq[4];
			jbd2::put_be32(sq, 0, seq);
			uint32_t c = crc(crc(seed(), sq), data);
			uint64_t t = writes[i].target;
			jbd2::put_be32(d, off, uint32_t(t));
			if (v3()) {
				jbd2::put_be32(d, off + 4, flags);
				jbd2::put_be32(d, off + 8, uint32_t(t >> 32));
				jbd2::put_be32(d, off + 12, c);
				off += 16;
			} else {
				put_be16(d, off + 4, csum() ? uint16_t(c) : 0);
				put_be16(d, off + 6, uint16_t(flags));
				off += 8;
				if (bit64()) {
					jbd2::put_be32(d, off, uint32_t(t >> 32));
					off += 4;
				}
				if (csum())
					off += 2;
			}
			if (i == 0)
				off += 16; /* the UUID; its bytes do not matter */
			uint32_t dat = take();
			blocks[dat] = data;
			if (compat & jbd2::kCompatChecksum)
				pending_.push_back(dat);
		}
		if (csum())
			tail(d);
		blocks[at] = d;
		if (compat & jbd2::kCompatChecksum)
			pending_.insert(
			    pending_.begin() + ptrdiff_t(pending_.size() - writes.size()), at);
		return at;
	}

	uint32_t revoke(uint32_t seq, const std::vector<uint64_t> &revoked)
	{
		uint32_t at = take();
		Block r(bs);
		header(r, jbd2::kRevokeBlock, seq);
		size_t off = jbd2::kRevokeRecords;
		for (uint64_t blk : revoked) {
			if (bit64()) {
				jbd2::put_be32(r, off, uint32_t(blk >> 32));
				jbd2::put_be32(r, off + 4, uint32_t(blk));
				off += 8;
			} else {
				jbd2::put_be32(r, off, uint32_t(blk));
				off += 4;
			}
		}
		jbd2::put_be32(r, jbd2::kRevokeCount, uint32_t(off));
		if (csum())
			tail(r);
		blocks[at] = r;
		return at;
	}

	uint32_t commit(uint32_t seq)
	{
		uint32_t at = take();
		Block c(bs);
		header(c, jbd2::kCommitBlock, seq);
		jbd2::put_be32(c, jbd2::kCommitSec, uint32_t(commit_time >> 32));
		jbd2::put_be32(c, jbd2::kCommitSec + 4, uint32_t(commit_time));
		if (csum()) {
			jbd2::put_be32(c, jbd2::kCommitChecksum,
				       crc(seed(), c)); /* field is zero while summed */
		} else if (compat & jbd2::kCompatChecksum) {
			uint32_t v = ~0U;
			for (uint32_t b : pending_)
				v = ext2fs_crc32_be(
				    v, reinterpret_cast<unsigned char *>(blocks[b].data()), bs);
			c[jbd2::kCommitChecksumType] = std::byte(jbd2::kChecksumCrc32);
			c[jbd2::kCommitChecksumSize] = std::byte(4);
			jbd2::put_be32(c, jbd2::kCommitChecksum, v);
		}
		pending_.clear();
		blocks[at] = c;
		return at;
	}

	/* A whole transaction. */
	void transaction(uint32_t seq, const std::vector<Write> &writes,
			 const std::vector<uint64_t> &revoked = {})
	{
		if (!revoked.empty())
			revoke(seq, revoked);
		if (!writes.empty())
			descriptor(seq, writes);
		commit(seq);
	}

	[[nodiscard]] JournalBlockReader reader() const
	{
		return [this](uint32_t jblk, std::span<std::byte> out) -> int {
			if (jblk >= blocks.size())
				return -EIO;
			std::memcpy(out.data(), blocks[jblk].data(), out.size());
			return 0;
		};
	}

	[[nodiscard]] uint32_t position() const { return pos_; }

	static uint32_t crc(uint32_t seed, std::span<const std::byte> b)
	{
		return ext2fs_crc32c_le(seed, reinterpret_cast<const unsigned char *>(b.data()),
					b.size());
	}

private:
	uint32_t take()
	{
		uint32_t at = pos_;
		pos_ = pos_ + 1 >= log_end() ? first : pos_ + 1;
		return at;
	}
	static void header(Block &b, uint32_t type, uint32_t seq)
	{
		jbd2::put_be32(b, 0, jbd2::kMagic);
		jbd2::put_be32(b, 4, type);
		jbd2::put_be32(b, 8, seq);
	}
	static void put_be16(Block &b, size_t off, uint16_t v)
	{
		b[off] = std::byte(v >> 8);
		b[off + 1] = std::byte(v);
	}
	void tail(Block &b)
	{
		jbd2::put_be32(b, bs - 4, 0);
		jbd2::put_be32(b, bs - 4, crc(seed(), b));
	}

	uint32_t pos_ = 1;
	std::vector<uint32_t> pending_; /* v1: blocks the commit's crc32 covers */
};

} // namespace fsvc::ext4::test
