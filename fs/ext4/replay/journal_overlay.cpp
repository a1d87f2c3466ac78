/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * JBD2 recovery without writing: scan the log from s_start for committed
 * transactions, then lay their blocks, minus the revoked ones, over the
 * device in memory. Written from the kernel's journal.rst description of the
 * on-disk format.
 */
#include "fs/ext4/replay/journal_overlay.h"
#include "fs/ext4/replay/jbd2_format.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>

namespace fsvc::ext4
{

namespace
{

using namespace jbd2;

std::string hex(uint32_t v)
{
	char buf[16];
	std::snprintf(buf, sizeof(buf), "0x%x", v);
	return buf;
}

uint32_t crc32c(uint32_t seed, std::span<const std::byte> b)
{
	return ext2fs_crc32c_le(seed, reinterpret_cast<const unsigned char *>(b.data()), b.size());
}

/* crc32c over a block whose 4-byte checksum field at @p field reads as zero. */
uint32_t crc32c_without(uint32_t seed, std::span<const std::byte> b, size_t field)
{
	static constexpr std::byte zero[4] = {};
	uint32_t c = crc32c(seed, b.first(field));
	c = crc32c(c, zero);
	return crc32c(c, b.subspan(field + 4));
}

/* One block tag of a descriptor. */
struct Tag {
	uint32_t jblk;   /* where the data sits in the journal */
	uint64_t target; /* its home in the filesystem */
	uint32_t flags;
	uint32_t checksum;
};

struct Transaction {
	uint32_t sequence;
	std::vector<Tag> tags;
	std::vector<uint64_t> revokes;
};

/* The journal superblock's settings that the scan needs. */
struct Journal {
	uint32_t block_size = 0;
	uint32_t first = 0;
	uint32_t log_end = 0; /* one past the last log block (fast-commit area after it) */
	uint32_t maxlen = 0;
	uint32_t sequence = 0;
	uint32_t start = 0;
	uint32_t compat = 0;
	uint32_t incompat = 0;
	uint32_t csum_seed = 0;

	[[nodiscard]] bool csum() const { return incompat & (kIncompatCsumV2 | kIncompatCsumV3); }
	[[nodiscard]] bool v3() const { return incompat & kIncompatCsumV3; }
	[[nodiscard]] bool bit64() const { return incompat & kIncompat64bit; }
	/* Legacy v1 checksum: a crc32 of the transaction in the commit block. */
	[[nodiscard]] bool v1() const { return !csum() && (compat & kCompatChecksum); }
	[[nodiscard]] size_t tail() const { return csum() ? kTailSize : 0; }
	[[nodiscard]] size_t tag_size() const
	{
		if (v3())
			return 16;
		return 8 + (bit64() ? 4 : 0) + (csum() ? 2 : 0);
	}
	[[nodiscard]] uint32_t next(uint32_t jblk) const
	{
		return jblk + 1 >= log_end ? first : jblk + 1;
	}
	[[nodiscard]] bool tail_ok(std::span<const std::byte> b) const
	{
		size_t at = b.size() - kTailSize;
		return crc32c_without(csum_seed, b, at) == be32(b, at);
	}
};

Error fail(std::string &why, int code, std::string msg)
{
	why = std::move(msg);
	return Error{code};
}

class Scanner
{
public:
	Scanner(const JournalBlockReader &read, std::string &why) : read_(read), why_(why) {}

	std::optional<Error> superblock(uint64_t journal_blocks, uint32_t block_size);
	std::optional<Error> scan_log();
	std::optional<Error> check_fast_commit();

	Journal j;
	std::vector<Transaction> committed;

	std::optional<Error> read(uint32_t jblk, std::vector<std::byte> &buf)
	{
		buf.resize(j.block_size);
		int rc = read_(jblk, buf);
		if (rc < 0)
			return fail(why_, rc, "cannot read journal block " + std::to_string(jblk));
		return std::nullopt;
	}

	std::string &why_ref() { return why_; }

private:
	std::optional<Error> parse_descriptor(std::span<const std::byte> b, uint32_t &pos,
					      uint32_t &used, uint32_t log_len, Transaction &tx,
					      uint32_t &crc, bool &truncated);
	std::optional<Error> parse_revoke(std::span<const std::byte> b, Transaction &tx);

	const JournalBlockReader &read_;
	std::string &why_;
};

std::optional<Error> Scanner::superblock(uint64_t journal_blocks, uint32_t block_size)
{
	/* The superblock is read in a buffer of the fs block size; it is 1 KiB. */
	if (block_size < kSbSize)
		return fail(why_, -EUCLEAN, "journal block size below 1024");
	j.block_size = block_size;
	std::vector<std::byte> sb;
	if (auto e = read(0, sb))
		return e;
	std::span<const std::byte> s(sb);
	uint32_t type = be32(s, 4);
	if (be32(s, 0) != kMagic || (type != kSuperblockV1 && type != kSuperblockV2))
		return fail(why_, -EUCLEAN, "journal superblock: bad magic or type");
	if (be32(s, kSbBlocksize) != block_size)
		return fail(why_, -EUCLEAN,
			    "journal block size " + std::to_string(be32(s, kSbBlocksize)) +
				" differs from the filesystem's " + std::to_string(block_size));
	uint32_t maxlen = be32(s, kSbMaxlen);
	j.first = be32(s, kSbFirst);
	j.sequence = be32(s, kSbSequence);
	j.start = be32(s, kSbStart);
	if (maxlen > journal_blocks || maxlen < 2 || j.first == 0 || j.first >= maxlen)
		return fail(why_, -EUCLEAN,
			    "journal superblock: log bounds outside the journal (first " +
				std::to_string(j.first) + ", length " + std::to_string(maxlen) +
				", journal " + std::to_string(journal_blocks) + " blocks)");
	if (type == kSuperblockV2) {
		j.compat = be32(s, kSbFeatureCompat);
		j.incompat = be32(s, kSbFeatureIncompat);
		if (j.incompat & ~kIncompatKnown)
			return fail(why_, -EOPNOTSUPP,
				    "journal has unsupported incompatible features " +
					hex(j.incompat & ~kIncompatKnown));
		if (be32(s, kSbNrUsers) > 1)
			return fail(why_, -EOPNOTSUPP, "shared journals are not supported");
	}
	if (j.csum()) {
		if (uint8_t(s[kSbChecksumType]) != kChecksumCrc32c)
			return fail(why_, -EUCLEAN, "journal checksum type is not crc32c");
		if (crc32c_without(~0U, s.first(kSbSize), kSbChecksum) != be32(s, kSbChecksum))
			return fail(why_, -EUCLEAN, "journal superblock checksum mismatch");
		j.csum_seed = crc32c(~0U, s.subspan(kSbUuid, kUuidSize));
	}
	j.log_end = maxlen;
	j.maxlen = maxlen;
	if (j.incompat & kIncompatFastCommit) {
		uint32_t fc = be32(s, kSbNumFcBlocks);
		if (fc == 0)
			fc = kFcDefaultBlocks;
		if (fc >= maxlen || maxlen - fc <= j.first)
			return fail(why_, -EUCLEAN, "journal fast-commit area leaves no log");
		j.log_end = maxlen - fc;
	}
	if (j.start != 0 && (j.start < j.first || j.start >= j.log_end))
		return fail(why_, -EUCLEAN,
			    "journal start block " + std::to_string(j.start) + " outside the log");
	return std::nullopt;
}

std::optional<Error> Scanner::parse_descriptor(std::span<const std::byte> b, uint32_t &pos,
					       uint32_t &used, uint32_t log_len, Transaction &tx,
					       uint32_t &crc, bool &truncated)
{
	const size_t tsize = j.tag_size();
	const size_t limit = b.size() - j.tail();
	size_t off = kHeaderSize;
	std::vector<std::byte> data;
	for (;;) {
		if (off + tsize > limit)
			break; /* the block is full: no LAST_TAG needed */
		Tag t{};
		uint64_t lo = be32(b, off);
		uint64_t hi = 0;
		if (j.v3()) {
			t.flags = be32(b, off + 4);
			hi = be32(b, off + 8);
			t.checksum = be32(b, off + 12);
		} else {
			t.checksum = be16(b, off + 4);
			t.flags = be16(b, off + 6);
			if (j.bit64())
				hi = be32(b, off + 8);
		}
		t.target = lo | (j.bit64() ? hi << 32 : 0);
		off += tsize;
		if (!(t.flags & kFlagSameUuid))
			off += kUuidSize;
		/* The data block follows in the log. */
		if (used >= log_len) {
			truncated = true;
			return std::nullopt;
		}
		pos = j.next(pos);
		used++;
		t.jblk = pos;
		if (j.v1()) {
			if (auto e = read(pos, data))
				return e;
			crc = ext2fs_crc32_be(crc, reinterpret_cast<unsigned char *>(data.data()),
					      data.size());
		}
		tx.tags.push_back(t);
		if (t.flags & kFlagLastTag)
			break;
		if (off > limit)
			break;
	}
	return std::nullopt;
}

std::optional<Error> Scanner::parse_revoke(std::span<const std::byte> b, Transaction &tx)
{
	uint32_t count = be32(b, kRevokeCount);
	const size_t rsize = j.bit64() ? 8 : 4;
	if (count < kRevokeRecords || count > b.size() - j.tail() ||
	    (count - kRevokeRecords) % rsize != 0)
		return fail(why_, -EUCLEAN,
			    "journal revoke block of transaction " + std::to_string(tx.sequence) +
				" has a bad record count " + std::to_string(count));
	for (size_t off = kRevokeRecords; off < count; off += rsize)
		tx.revokes.push_back(rsize == 8 ? be64(b, off) : be32(b, off));
	return std::nullopt;
}

std::optional<Error> Scanner::scan_log()
{
	const uint32_t log_len = j.log_end - j.first;
	uint32_t pos = j.start;
	uint32_t used = 0; /* log blocks consumed: a log never holds more than log_len */
	uint32_t seq = j.sequence;
	std::vector<std::byte> buf;
	Transaction tx{seq, {}, {}};
	uint32_t crc = ~0U;       /* v1 transaction checksum */
	uint32_t bad_block = 0;   /* a descriptor/revoke block of tx with a bad checksum */
	uint64_t last_commit = 0; /* h_commit_sec of the last valid commit */

	while (used < log_len) {
		if (auto e = read(pos, buf))
			return e;
		std::span<const std::byte> b(buf);
		/* A block of another (older) pass over the log ends it. */
		if (be32(b, 0) != kMagic || be32(b, 8) != seq)
			break;
		uint32_t type = be32(b, 4);
		used++;
		if (type == kDescriptorBlock) {
			/* A bad checksum is a torn write if no valid commit follows
			 * (the log ends there), corruption if one does. Its tags
			 * still say how many data blocks to skip. */
			if (j.csum() && !j.tail_ok(b) && bad_block == 0)
				bad_block = pos;
			if (j.v1())
				crc = ext2fs_crc32_be(
				    crc, reinterpret_cast<const unsigned char *>(b.data()),
				    b.size());
			bool truncated = false;
			if (auto e = parse_descriptor(b, pos, used, log_len, tx, crc, truncated))
				return e;
			if (truncated)
				break;
		} else if (type == kRevokeBlock) {
			if (j.csum() && !j.tail_ok(b)) {
				if (bad_block == 0)
					bad_block = pos;
			} else if (auto e = parse_revoke(b, tx)) {
				return e;
			}
		} else if (type == kCommitBlock) {
			bool sum_ok = true;
			if (j.csum())
				sum_ok = crc32c_without(j.csum_seed, b, kCommitChecksum) ==
					 be32(b, kCommitChecksum);
			else if (j.v1())
				sum_ok = uint8_t(b[kCommitChecksumType]) == kChecksumCrc32 &&
					 uint8_t(b[kCommitChecksumSize]) == 4 &&
					 be32(b, kCommitChecksum) == crc;
			uint64_t when = be64(b, kCommitSec);
			if (!sum_ok) {
				/* Older than the last commit: a stale block, the log
				 * ends. With async commit the commit may precede its
				 * data: the transaction is just incomplete. Otherwise a
				 * commit was written and damaged, which the kernel
				 * refuses too. */
				if (when < last_commit || (j.incompat & kIncompatAsyncCommit))
					break;
				return fail(why_, -EUCLEAN,
					    "journal transaction " + std::to_string(seq) +
						" is corrupt: its commit block fails its checksum");
			}
			if (bad_block != 0)
				return fail(why_, -EUCLEAN,
					    "journal block " + std::to_string(bad_block) +
						" of committed transaction " + std::to_string(seq) +
						" fails its checksum");
			last_commit = when;
			committed.push_back(std::move(tx));
			seq++;
			tx = Transaction{seq, {}, {}};
			crc = ~0U;
		} else {
			break;
		}
		pos = j.next(pos);
	}
	return std::nullopt;
}

/* Fast commits live after the log; they are live when the area starts with a
 * head tag for the transaction after the last committed one. We cannot replay
 * them, and serving the state without them would be silently stale. */
std::optional<Error> Scanner::check_fast_commit()
{
	if (!(j.incompat & kIncompatFastCommit))
		return std::nullopt;
	/* The kernel leaves the block at log_end unused: the area's first
	 * block is the one after it (seen on journals it writes). */
	std::vector<std::byte> buf;
	if (j.log_end + 1 >= j.maxlen)
		return std::nullopt;
	if (auto e = read(j.log_end + 1, buf))
		return e;
	std::span<const std::byte> b(buf);
	uint32_t next = j.sequence + uint32_t(committed.size());
	if (le16(b, 0) == kFcTagHead && le16(b, 2) >= 8 && le32(b, 8) == next)
		return fail(why_, -EOPNOTSUPP,
			    "journal has fast-commit blocks to replay, which are not supported; "
			    "mount with -o norecovery to read the image without them");
	return std::nullopt;
}

} // namespace

/* Builds the overlay from the committed transactions. */
class ReplayBuilder
{
public:
	ReplayBuilder(Scanner &s, uint64_t fs_blocks, const ReplayLimits &limits)
	    : s_(s), fs_blocks_(fs_blocks), limits_(limits)
	{
		out_.block_size_ = s.j.block_size;
	}

	Result<JournalOverlay> run();

private:
	std::optional<Error> data_ok(const Transaction &tx, const Tag &t,
				     std::vector<std::byte> &buf, bool &ok);

	Scanner &s_;
	uint64_t fs_blocks_;
	const ReplayLimits &limits_;
	JournalOverlay out_;
};

std::optional<Error> ReplayBuilder::data_ok(const Transaction &tx, const Tag &t,
					    std::vector<std::byte> &buf, bool &ok)
{
	if (auto e = s_.read(t.jblk, buf))
		return e;
	ok = true;
	if (!s_.j.csum())
		return std::nullopt;
	std::byte seq[4];
	put_be32(seq, 0, tx.sequence);
	uint32_t c = crc32c(crc32c(s_.j.csum_seed, seq), buf);
	ok = s_.j.v3() ? c == t.checksum : (c & 0xffff) == t.checksum;
	return std::nullopt;
}

Result<JournalOverlay> ReplayBuilder::run()
{
	auto &tx_list = s_.committed;
	auto &why = s_.why_ref();
	std::vector<std::byte> buf;

	/* With async commit the commit block may reach the disk before the
	 * data: a last transaction whose data does not match was never
	 * complete, and is dropped rather than reported as corruption. */
	if ((s_.j.incompat & kIncompatAsyncCommit) && s_.j.csum() && !tx_list.empty()) {
		for (const Tag &t : tx_list.back().tags) {
			bool ok = false;
			if (auto e = data_ok(tx_list.back(), t, buf, ok))
				return *e;
			if (!ok) {
				tx_list.pop_back();
				break;
			}
		}
	}

	/* A revoke record cancels the journalled copies of its block in every
	 * transaction up to and including the one that revoked it. */
	std::map<uint64_t, uint32_t> revoked;
	for (const Transaction &tx : tx_list)
		for (uint64_t blk : tx.revokes) {
			auto [it, fresh] = revoked.try_emplace(blk, tx.sequence);
			if (!fresh && tid_after(tx.sequence, it->second))
				it->second = tx.sequence;
		}

	const uint32_t bs = s_.j.block_size;
	for (const Transaction &tx : tx_list) {
		for (const Tag &t : tx.tags) {
			auto r = revoked.find(t.target);
			if (r != revoked.end() && !tid_after(tx.sequence, r->second)) {
				out_.stats_.revoked++;
				continue;
			}
			bool ok = false;
			if (auto e = data_ok(tx, t, buf, ok))
				return *e;
			if (!ok)
				return fail(why, -EUCLEAN,
					    "journal block " + std::to_string(t.jblk) +
						" (filesystem block " + std::to_string(t.target) +
						", transaction " + std::to_string(tx.sequence) +
						") fails its checksum");
			if (t.target >= fs_blocks_)
				return fail(why, -EUCLEAN,
					    "journal replays block " + std::to_string(t.target) +
						" beyond the end of the filesystem");
			if (t.flags & kFlagEscape)
				put_be32(buf, 0, kMagic);
			auto [it, fresh] = out_.index_.try_emplace(t.target, 0);
			if (fresh) {
				if ((out_.index_.size()) * size_t(bs) > limits_.max_bytes)
					return fail(why, -EFBIG,
						    "journal replay needs more than " +
							std::to_string(limits_.max_bytes >> 20) +
							" MiB; mount with -o norecovery");
				it->second = out_.data_.size() / bs;
				out_.data_.insert(out_.data_.end(), buf.begin(), buf.end());
			} else {
				std::copy(buf.begin(), buf.end(),
					  out_.data_.begin() + ptrdiff_t(it->second * bs));
			}
		}
	}
	out_.stats_.transactions = uint32_t(tx_list.size());
	out_.stats_.first_sequence = s_.j.sequence;
	out_.stats_.blocks = out_.index_.size();
	return std::move(out_);
}

Result<JournalOverlay> JournalOverlay::scan(const JournalBlockReader &read, uint64_t journal_blocks,
					    uint32_t block_size, uint64_t fs_blocks,
					    std::string &why, const ReplayLimits &limits)
{
	Scanner s(read, why);
	if (auto e = s.superblock(journal_blocks, block_size))
		return *e;
	if (s.j.start == 0) {
		/* Everything was checkpointed: nothing to replay. */
		JournalOverlay empty;
		empty.block_size_ = block_size;
		return empty;
	}
	if (auto e = s.scan_log())
		return *e;
	if (auto e = s.check_fast_commit())
		return *e;
	ReplayBuilder b(s, fs_blocks, limits);
	return b.run();
}

Result<JournalOverlay> JournalOverlay::load(ext2_filsys fs, std::string &why,
					    const ReplayLimits &limits)
{
	JournalOverlay empty;
	empty.block_size_ = fs->blocksize;
	struct ext2_super_block *sb = fs->super;
	if (!ext2fs_has_feature_journal_needs_recovery(sb))
		return empty;
	if (!ext2fs_has_feature_journal(sb))
		return fail(why, -EUCLEAN, "needs_recovery is set but there is no journal");
	if (sb->s_journal_inum == 0)
		return fail(why, -EOPNOTSUPP,
			    "the journal is on an external device, which is not supported; "
			    "mount with -o norecovery");
	ext2_ino_t ino = sb->s_journal_inum;
	struct ext2_inode_large inode {
	};
	errcode_t err =
	    ext2fs_read_inode_full(fs, ino, reinterpret_cast<ext2_inode *>(&inode), sizeof(inode));
	if (err)
		return fail(why, -EUCLEAN,
			    std::string("cannot read the journal inode: ") + error_message(err));
	uint64_t size = EXT2_I_SIZE(&inode);
	uint64_t journal_blocks = size / fs->blocksize;
	if (journal_blocks > UINT32_MAX)
		journal_blocks = UINT32_MAX;
	uint64_t fs_blocks = ext2fs_blocks_count(sb);
	JournalBlockReader reader = [&](uint32_t jblk, std::span<std::byte> out) -> int {
		blk64_t phys = 0;
		errcode_t e = ext2fs_bmap2(fs, ino, reinterpret_cast<ext2_inode *>(&inode), nullptr,
					   0, jblk, nullptr, &phys);
		if (e || phys == 0 || phys >= fs_blocks)
			return -EUCLEAN;
		e = io_channel_read_blk64(fs->io, phys, 1, out.data());
		return e ? -EIO : 0;
	};
	return scan(reader, journal_blocks, fs->blocksize, fs_blocks, why, limits);
}

std::span<const std::byte> JournalOverlay::find(blk64_t blk) const
{
	auto it = index_.find(blk);
	if (it == index_.end())
		return {};
	return std::span<const std::byte>(data_).subspan(it->second * block_size_, block_size_);
}

void JournalOverlay::apply(uint64_t offset, std::span<std::byte> buf) const
{
	if (index_.empty() || buf.empty())
		return;
	const uint64_t bs = block_size_;
	const uint64_t end = offset + buf.size();
	for (auto it = index_.lower_bound(offset / bs); it != index_.end() && it->first * bs < end;
	     ++it) {
		uint64_t bstart = it->first * bs;
		uint64_t from = std::max(bstart, offset);
		uint64_t to = std::min(bstart + bs, end);
		std::memcpy(buf.data() + (from - offset),
			    data_.data() + it->second * bs + (from - bstart), to - from);
	}
}

void JournalOverlay::for_each(
    const std::function<void(blk64_t, std::span<const std::byte>)> &fn) const
{
	std::span<const std::byte> all(data_);
	for (const auto &[blk, slot] : index_)
		fn(blk, all.subspan(slot * block_size_, block_size_));
}

} // namespace fsvc::ext4
