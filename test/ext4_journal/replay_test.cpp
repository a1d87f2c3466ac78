/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* JournalOverlay::scan on journals crafted block by block. */
#include "core/unique_fd.h"
#include "fs/ext4/replay/open_replayed.h"
#include "fs/ext4/replay/replay_to_device.h"
#include "journal_builder.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <iterator>
#include <string>
#include <unistd.h>

using namespace fsvc::ext4;
using namespace fsvc::ext4::test;
namespace jbd2 = fsvc::ext4::jbd2;

namespace
{

constexpr uint64_t kFsBlocks = 1 << 20;

Block fill(uint8_t v)
{
	return JournalBuilder::filled(1024, v);
}

fsvc::Result<JournalOverlay> scan(JournalBuilder &j, std::string &why,
				  uint64_t fs_blocks = kFsBlocks, ReplayLimits limits = {})
{
	j.finish();
	return JournalOverlay::scan(j.reader(), j.blocks.size(), j.bs, fs_blocks, why, limits);
}

bool holds(const JournalOverlay &o, uint64_t blk, uint8_t v)
{
	auto b = o.find(blk);
	return b.size() == 1024 && b[0] == std::byte(v) && b[1023] == std::byte(v);
}

/* Every checksum/tag-format variant replays the same two transactions. */
void two_transactions(JournalBuilder &j)
{
	j.transaction(100, {{10, fill(1)}, {11, fill(2)}});
	j.transaction(101, {{11, fill(3)}, {12, fill(4)}});
	std::string why;
	auto r = scan(j, why);
	ASSERT_TRUE(r.ok()) << why;
	EXPECT_EQ(r->size(), 3u);
	EXPECT_EQ(r->stats().transactions, 2u);
	EXPECT_TRUE(holds(*r, 10, 1));
	EXPECT_TRUE(holds(*r, 11, 3)) << "a later transaction wins";
	EXPECT_TRUE(holds(*r, 12, 4));
	EXPECT_TRUE(r->find(13).empty());
}

} // namespace

TEST(Replay, CsumV3With64BitTags)
{
	JournalBuilder j;
	two_transactions(j);
}

TEST(Replay, CsumV2)
{
	JournalBuilder j;
	j.incompat = jbd2::kIncompatRevoke | jbd2::kIncompatCsumV2;
	two_transactions(j);
	JournalBuilder k;
	k.incompat = jbd2::kIncompatRevoke | jbd2::kIncompatCsumV2 | jbd2::kIncompat64bit;
	two_transactions(k);
}

TEST(Replay, NoChecksums32BitTags)
{
	JournalBuilder j;
	j.incompat = jbd2::kIncompatRevoke;
	two_transactions(j);
}

TEST(Replay, VersionOneSuperblock)
{
	JournalBuilder j;
	j.incompat = 0;
	j.v1_superblock = true;
	two_transactions(j);
}

TEST(Replay, CompatChecksumV1)
{
	JournalBuilder j;
	j.incompat = jbd2::kIncompatRevoke;
	j.compat = jbd2::kCompatChecksum;
	two_transactions(j);
}

TEST(Replay, CompatChecksumV1MismatchIsCorruption)
{
	JournalBuilder j;
	j.incompat = jbd2::kIncompatRevoke;
	j.compat = jbd2::kCompatChecksum;
	j.transaction(100, {{10, fill(1)}});
	j.descriptor(101, {{11, fill(2)}});
	uint32_t c = j.commit(101);
	j.blocks[c][jbd2::kCommitChecksum + 3] ^= std::byte(1);
	std::string why;
	auto r = scan(j, why);
	ASSERT_FALSE(r.ok());
	EXPECT_EQ(r.error(), -EUCLEAN);
}

TEST(Replay, HighBlockNumbers)
{
	JournalBuilder j;
	uint64_t high = (uint64_t(1) << 33) + 5;
	j.transaction(100, {{high, fill(7)}});
	std::string why;
	auto r = scan(j, why, uint64_t(1) << 40);
	ASSERT_TRUE(r.ok()) << why;
	EXPECT_TRUE(holds(*r, high, 7));
	EXPECT_TRUE(r->find(5).empty()) << "the high part was not dropped";
}

TEST(Replay, CleanJournalIsEmpty)
{
	JournalBuilder j;
	j.transaction(100, {{10, fill(1)}});
	j.start = 0;
	std::string why;
	auto r = scan(j, why);
	ASSERT_TRUE(r.ok()) << why;
	EXPECT_TRUE(r->empty());
}

TEST(Replay, RevokeCancelsEarlierAndSameTransactionOnly)
{
	JournalBuilder j;
	j.transaction(100, {{10, fill(1)}, {20, fill(1)}});
	j.transaction(101, {{20, fill(2)}}, {10, 20}); /* revokes 10 and 20 up to 101 */
	j.transaction(102, {{10, fill(3)}});           /* after the revoke: replayed */
	std::string why;
	auto r = scan(j, why);
	ASSERT_TRUE(r.ok()) << why;
	EXPECT_TRUE(holds(*r, 10, 3));
	EXPECT_TRUE(r->find(20).empty()) << "revoked in its own transaction";
	EXPECT_EQ(r->stats().revoked, 3u);
}

TEST(Replay, Revoke32BitRecords)
{
	JournalBuilder j;
	j.incompat = jbd2::kIncompatRevoke;
	j.transaction(100, {{10, fill(1)}, {11, fill(1)}});
	j.transaction(101, {}, {10});
	std::string why;
	auto r = scan(j, why);
	ASSERT_TRUE(r.ok()) << why;
	EXPECT_TRUE(r->find(10).empty());
	EXPECT_TRUE(holds(*r, 11, 1));
}

TEST(Replay, RevokeOfUncommittedTransactionIgnored)
{
	JournalBuilder j;
	j.transaction(100, {{10, fill(1)}});
	j.revoke(101, {10}); /* no commit follows */
	std::string why;
	auto r = scan(j, why);
	ASSERT_TRUE(r.ok()) << why;
	EXPECT_TRUE(holds(*r, 10, 1));
}

TEST(Replay, EscapedBlockGetsItsMagicBack)
{
	JournalBuilder j;
	Block magic = fill(9);
	jbd2::put_be32(magic, 0, jbd2::kMagic);
	j.transaction(100, {{10, magic}});
	std::string why;
	auto r = scan(j, why);
	ASSERT_TRUE(r.ok()) << why;
	auto b = r->find(10);
	ASSERT_EQ(b.size(), 1024u);
	EXPECT_EQ(jbd2::be32(b, 0), jbd2::kMagic);
	EXPECT_EQ(b[4], std::byte(9));
}

TEST(Replay, WrapsAroundTheLog)
{
	JournalBuilder j;
	j.maxlen = 16;
	j.begin(13);
	j.transaction(100, {{10, fill(1)}, {11, fill(2)}, {12, fill(3)}});
	j.transaction(101, {{13, fill(4)}});
	EXPECT_LT(j.position(), 13u);
	std::string why;
	auto r = scan(j, why);
	ASSERT_TRUE(r.ok()) << why;
	EXPECT_EQ(r->stats().transactions, 2u);
	EXPECT_TRUE(holds(*r, 12, 3));
	EXPECT_TRUE(holds(*r, 13, 4));
}

TEST(Replay, BadCommitChecksumIsCorruption)
{
	JournalBuilder j;
	j.transaction(100, {{10, fill(1)}});
	j.descriptor(101, {{11, fill(2)}});
	uint32_t c = j.commit(101);
	j.transaction(102, {{12, fill(3)}});
	j.blocks[c][40] ^= std::byte(1);
	std::string why;
	auto r = scan(j, why);
	ASSERT_FALSE(r.ok());
	EXPECT_EQ(r.error(), -EUCLEAN);
	EXPECT_NE(why.find("transaction 101"), std::string::npos) << why;
}

TEST(Replay, StaleBadCommitEndsTheLog)
{
	JournalBuilder j;
	j.commit_time = 2000;
	j.transaction(100, {{10, fill(1)}});
	j.commit_time = 1000; /* older than the commit before it */
	j.descriptor(101, {{11, fill(2)}});
	uint32_t c = j.commit(101);
	j.transaction(102, {{12, fill(3)}});
	j.blocks[c][40] ^= std::byte(1);
	std::string why;
	auto r = scan(j, why);
	ASSERT_TRUE(r.ok()) << why;
	EXPECT_EQ(r->stats().transactions, 1u);
	EXPECT_TRUE(holds(*r, 10, 1));
	EXPECT_TRUE(r->find(11).empty());
	EXPECT_TRUE(r->find(12).empty()) << "nothing after an invalid commit";
}

TEST(Replay, AsyncCommitBadCommitEndsTheLog)
{
	JournalBuilder j;
	j.incompat |= jbd2::kIncompatAsyncCommit;
	j.transaction(100, {{10, fill(1)}});
	j.descriptor(101, {{11, fill(2)}});
	uint32_t c = j.commit(101);
	j.blocks[c][40] ^= std::byte(1);
	std::string why;
	auto r = scan(j, why);
	ASSERT_TRUE(r.ok()) << why;
	EXPECT_EQ(r->stats().transactions, 1u);
	EXPECT_TRUE(r->find(11).empty());
}

TEST(Replay, BadDescriptorChecksumBeforeAValidCommitIsCorruption)
{
	JournalBuilder j;
	j.transaction(100, {{10, fill(1)}});
	uint32_t d = j.descriptor(101, {{11, fill(2)}});
	j.commit(101);
	j.blocks[d][20] ^= std::byte(1);
	std::string why;
	auto r = scan(j, why);
	ASSERT_FALSE(r.ok());
	EXPECT_EQ(r.error(), -EUCLEAN);
	EXPECT_NE(why.find("checksum"), std::string::npos) << why;
}

TEST(Replay, BadDescriptorChecksumWithoutCommitIsATornWrite)
{
	JournalBuilder j;
	j.transaction(100, {{10, fill(1)}});
	uint32_t d = j.descriptor(101, {{11, fill(2)}});
	j.blocks[d][20] ^= std::byte(1);
	std::string why;
	auto r = scan(j, why);
	ASSERT_TRUE(r.ok()) << why;
	EXPECT_EQ(r->stats().transactions, 1u);
	EXPECT_TRUE(r->find(11).empty());
}

TEST(Replay, BadRevokeChecksumBeforeAValidCommitIsCorruption)
{
	JournalBuilder j;
	j.transaction(100, {{10, fill(1)}});
	uint32_t rv = j.revoke(101, {10});
	j.commit(101);
	j.blocks[rv][20] ^= std::byte(1);
	std::string why;
	auto r = scan(j, why);
	ASSERT_FALSE(r.ok());
	EXPECT_EQ(r.error(), -EUCLEAN);
}

TEST(Replay, MissingCommitIsNotReplayed)
{
	JournalBuilder j;
	j.transaction(100, {{10, fill(1)}});
	j.descriptor(101, {{11, fill(2)}});
	std::string why;
	auto r = scan(j, why);
	ASSERT_TRUE(r.ok()) << why;
	EXPECT_EQ(r->stats().transactions, 1u);
	EXPECT_TRUE(r->find(11).empty());
}

TEST(Replay, StaleSequenceEndsTheLog)
{
	JournalBuilder j;
	j.transaction(100, {{10, fill(1)}});
	j.transaction(100, {{11, fill(2)}}); /* an older pass: wrong sequence */
	std::string why;
	auto r = scan(j, why);
	ASSERT_TRUE(r.ok()) << why;
	EXPECT_TRUE(r->find(11).empty());
}

TEST(Replay, BadDataChecksumIsCorruption)
{
	JournalBuilder j;
	uint32_t d = j.descriptor(100, {{10, fill(1)}});
	j.commit(100);
	j.blocks[d + 1][100] ^= std::byte(1);
	std::string why;
	auto r = scan(j, why);
	ASSERT_FALSE(r.ok());
	EXPECT_EQ(r.error(), -EUCLEAN);
	EXPECT_NE(why.find("checksum"), std::string::npos) << why;
}

TEST(Replay, AsyncCommitDropsAnIncompleteLastTransaction)
{
	JournalBuilder j;
	j.incompat |= jbd2::kIncompatAsyncCommit;
	j.transaction(100, {{10, fill(1)}});
	uint32_t d = j.descriptor(101, {{11, fill(2)}});
	j.commit(101);
	j.blocks[d + 1][100] ^= std::byte(1);
	std::string why;
	auto r = scan(j, why);
	ASSERT_TRUE(r.ok()) << why;
	EXPECT_EQ(r->stats().transactions, 1u);
	EXPECT_TRUE(r->find(11).empty());
}

TEST(Replay, TruncatedJournalIsRefused)
{
	JournalBuilder j;
	j.transaction(100, {{10, fill(1)}});
	j.finish();
	std::string why;
	auto r = JournalOverlay::scan(j.reader(), 32, j.bs, kFsBlocks, why); /* maxlen 64 */
	ASSERT_FALSE(r.ok());
	EXPECT_EQ(r.error(), -EUCLEAN);
	EXPECT_FALSE(why.empty());
}

TEST(Replay, UnreadableJournalBlockIsAnError)
{
	JournalBuilder j;
	j.transaction(100, {{10, fill(1)}});
	j.finish();
	std::string why;
	auto reader = [&](uint32_t jblk, std::span<std::byte> out) -> int {
		return jblk == 2 ? -EIO : j.reader()(jblk, out);
	};
	auto r = JournalOverlay::scan(reader, j.blocks.size(), j.bs, kFsBlocks, why);
	ASSERT_FALSE(r.ok());
	EXPECT_EQ(r.error(), -EIO);
}

TEST(Replay, DescriptorRunningPastTheLogEndsIt)
{
	JournalBuilder j;
	j.maxlen = 6; /* room for the descriptor and 4 of its 8 data blocks */
	j.begin(1);
	std::vector<Write> w;
	for (uint64_t i = 0; i < 8; i++)
		w.push_back({10 + i, fill(1)});
	j.descriptor(100, w);
	std::string why;
	auto r = scan(j, why);
	ASSERT_TRUE(r.ok()) << why;
	EXPECT_TRUE(r->empty());
}

TEST(Replay, SuperblockChecksumMismatchIsRefused)
{
	JournalBuilder j;
	j.transaction(100, {{10, fill(1)}});
	j.finish();
	j.blocks[0][jbd2::kSbSequence + 3] ^= std::byte(1);
	std::string why;
	auto r = JournalOverlay::scan(j.reader(), j.blocks.size(), j.bs, kFsBlocks, why);
	ASSERT_FALSE(r.ok());
	EXPECT_EQ(r.error(), -EUCLEAN);
}

TEST(Replay, UnknownIncompatFeatureIsRefused)
{
	JournalBuilder j;
	j.incompat |= 0x100;
	j.transaction(100, {{10, fill(1)}});
	std::string why;
	auto r = scan(j, why);
	ASSERT_FALSE(r.ok());
	EXPECT_EQ(r.error(), -EOPNOTSUPP);
	EXPECT_NE(why.find("0x100"), std::string::npos) << why;
}

TEST(Replay, BlockOutsideTheFilesystemIsRefused)
{
	JournalBuilder j;
	j.transaction(100, {{5000, fill(1)}});
	std::string why;
	auto r = scan(j, why, 4096);
	ASSERT_FALSE(r.ok());
	EXPECT_EQ(r.error(), -EUCLEAN);
}

TEST(Replay, MemoryCapIsEnforced)
{
	JournalBuilder j;
	std::vector<Write> w;
	for (uint64_t i = 0; i < 20; i++)
		w.push_back({100 + i, fill(1)});
	j.transaction(100, w);
	std::string why;
	auto r = scan(j, why, kFsBlocks, ReplayLimits{16 * 1024});
	ASSERT_FALSE(r.ok());
	EXPECT_EQ(r.error(), -EFBIG);
	JournalBuilder k;
	k.transaction(100, w);
	auto ok = scan(k, why, kFsBlocks, ReplayLimits{20 * 1024});
	EXPECT_TRUE(ok.ok()) << why;
}

TEST(Replay, BadRevokeCountIsRefused)
{
	JournalBuilder j;
	uint32_t rv = j.revoke(100, {10});
	j.commit(100);
	jbd2::put_be32(j.blocks[rv], jbd2::kRevokeCount, 5000);
	/* re-sign the tail so only the count is wrong */
	jbd2::put_be32(j.blocks[rv], 1020, 0);
	jbd2::put_be32(j.blocks[rv], 1020, JournalBuilder::crc(j.seed(), j.blocks[rv]));
	std::string why;
	auto r = scan(j, why);
	ASSERT_FALSE(r.ok());
	EXPECT_EQ(r.error(), -EUCLEAN);
}

TEST(Replay, LiveFastCommitsAreRefused)
{
	JournalBuilder j;
	j.incompat |= jbd2::kIncompatFastCommit;
	j.num_fc = 8;
	j.begin(1);
	j.transaction(100, {{10, fill(1)}});
	Block &fc = j.blocks[j.log_end() + 1]; /* the kernel skips the block at log_end */
	fc[0] = std::byte(jbd2::kFcTagHead);   /* little-endian tag, length 8 */
	fc[2] = std::byte(8);
	fc[8] = std::byte(101); /* the tid after the last commit */
	std::string why;
	auto r = scan(j, why);
	ASSERT_FALSE(r.ok());
	EXPECT_EQ(r.error(), -EOPNOTSUPP);
	EXPECT_NE(why.find("norecovery"), std::string::npos) << why;

	fc[8] = std::byte(99); /* a stale area: nothing to replay there */
	auto stale = scan(j, why);
	ASSERT_TRUE(stale.ok()) << why;
	EXPECT_TRUE(holds(*stale, 10, 1));
}

TEST(Overlay, ApplyCoversAnyByteRange)
{
	JournalBuilder j;
	j.transaction(100, {{2, fill(0xaa)}, {4, fill(0xbb)}});
	std::string why;
	auto r = scan(j, why);
	ASSERT_TRUE(r.ok()) << why;
	std::vector<std::byte> buf(3000, std::byte(0));
	r->apply(1500, buf); /* device bytes 1500..4499: blocks 1 (part), 2, 3, 4 (part) */
	EXPECT_EQ(buf[0], std::byte(0));       /* byte 1500, block 1 */
	EXPECT_EQ(buf[547], std::byte(0));     /* byte 2047 */
	EXPECT_EQ(buf[548], std::byte(0xaa));  /* byte 2048, block 2 */
	EXPECT_EQ(buf[1571], std::byte(0xaa)); /* byte 3071 */
	EXPECT_EQ(buf[1572], std::byte(0));    /* block 3 */
	EXPECT_EQ(buf[2596], std::byte(0xbb)); /* byte 4096, block 4 */
	EXPECT_EQ(buf[2999], std::byte(0xbb));
}

/* The io_manager on a real image: reads in any channel block size see the
 * overlay, writes are refused, the file is untouched. */
TEST(Overlay, IoManagerServesOverlaidBlocksAndRefusesWrites)
{
	char path[] = "/tmp/fsvc-replay-XXXXXX";
	int tmpfd = mkstemp(path);
	ASSERT_GE(tmpfd, 0);
	close(tmpfd);
	std::string cmd = std::string("mkfs.ext4 -q -F -b 1024 ") + path + " 2M";
	ASSERT_EQ(std::system(cmd.c_str()), 0);
	fsvc::UniqueFD fd(open(path, O_RDONLY | O_CLOEXEC));
	unlink(path);
	ASSERT_TRUE(fd.isValid());

	JournalBuilder j;
	j.transaction(100, {{1500, fill(0x5c)}});
	std::string why;
	auto ov = scan(j, why, 2048);
	ASSERT_TRUE(ov.ok()) << why;
	auto fs = open_with_overlay(
	    fd.get(), 0, std::make_shared<const JournalOverlay>(std::move(ov.value())), why);
	ASSERT_TRUE(fs.ok()) << why;
	io_channel io = fs.value()->io;
	std::vector<std::byte> buf(8192);
	ASSERT_EQ(io_channel_read_blk64(io, 1500, 1, buf.data()), 0);
	EXPECT_EQ(buf[0], std::byte(0x5c));
	ASSERT_EQ(io_channel_set_blksize(io, 4096), 0);
	/* 4 KiB blocks 374-375 are bytes 1531904-1540095; the 1 KiB block 1500
	 * starts at byte 1536000, offset 4096 of the buffer. */
	ASSERT_EQ(io_channel_read_blk64(io, 374, 2, buf.data()), 0);
	EXPECT_EQ(buf[4096], std::byte(0x5c));
	EXPECT_EQ(buf[5119], std::byte(0x5c));
	EXPECT_NE(buf[4095], std::byte(0x5c));
	EXPECT_NE(buf[5120], std::byte(0x5c));
	ASSERT_EQ(io_channel_set_blksize(io, 1024), 0);
	ASSERT_EQ(io_channel_read_blk64(io, 1500, -10, buf.data()), 0); /* a byte count */
	EXPECT_EQ(buf[9], std::byte(0x5c));
	EXPECT_EQ(io_channel_write_blk64(io, 1500, 1, buf.data()), EROFS);
	EXPECT_EQ(fs.value()->super->s_magic, EXT2_SUPER_MAGIC);
}

/* replay_to_device() on what must not be written: an image made by mkfs,
 * changed with debugfs where the test needs it. */
class WriteBack : public ::testing::Test
{
protected:
	void SetUp() override
	{
		int fd = mkstemp(path_);
		ASSERT_GE(fd, 0);
		close(fd);
		ASSERT_EQ(sh(std::string("mkfs.ext4 -q -F -b 1024 ") + path_ + " 4M"), 0);
	}
	void TearDown() override { unlink(path_); }

	int sh(const std::string &cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()); }
	std::string bytes()
	{
		std::ifstream in(path_, std::ios::binary);
		return {std::istreambuf_iterator<char>(in), {}};
	}
	fsvc::UniqueFD open_image(int flags)
	{
		return fsvc::UniqueFD(open(path_, flags | O_CLOEXEC));
	}
	void set_needs_recovery()
	{
		ASSERT_EQ(sh(std::string("debugfs -w -R 'feature needs_recovery' ") + path_), 0);
	}
	bool needs_recovery()
	{
		return sh(std::string("dumpe2fs -h ") + path_ + " | grep -q needs_recovery") == 0;
	}

	char path_[32] = "/tmp/fsvc-writeback-XXXXXX";
};

TEST_F(WriteBack, CleanImageIsNotWritten)
{
	std::string before = bytes();
	auto fd = open_image(O_RDWR);
	std::string why;
	auto r = replay_to_device(fd.get(), why);
	ASSERT_TRUE(r.ok()) << why;
	EXPECT_EQ(r->transactions, 0u);
	EXPECT_EQ(bytes(), before);
}

TEST_F(WriteBack, ReadOnlyDescriptorIsRefusedUntouched)
{
	set_needs_recovery();
	std::string before = bytes();
	auto fd = open_image(O_RDONLY);
	std::string why;
	auto r = replay_to_device(fd.get(), why);
	ASSERT_FALSE(r.ok());
	EXPECT_EQ(r.error(), -EROFS);
	EXPECT_NE(why.find("not open for writing"), std::string::npos) << why;
	EXPECT_EQ(bytes(), before);
}

TEST_F(WriteBack, CorruptJournalIsRefusedBeforeAnyWrite)
{
	set_needs_recovery();
	/* A journal superblock that claims a log (s_start 1) and has lost its
	 * magic (mkfs's journal has no checksum to break). */
	auto rw = open_image(O_RDWR);
	std::string why;
	auto plain = open_plain(rw.get(), 0, why);
	ASSERT_TRUE(plain.ok()) << why;
	blk64_t jsb = 0;
	ASSERT_EQ(ext2fs_bmap2(plain.value().get(), plain.value()->super->s_journal_inum, nullptr,
			       nullptr, 0, 0, nullptr, &jsb),
		  0);
	plain.value().reset();
	std::vector<std::byte> sb(1024);
	ASSERT_EQ(pread(rw.get(), sb.data(), sb.size(), off_t(jsb * 1024)), 1024);
	jbd2::put_be32(sb, jbd2::kSbStart, 1);
	jbd2::put_be32(sb, 0, 0xdeadbeef);
	ASSERT_EQ(pwrite(rw.get(), sb.data(), sb.size(), off_t(jsb * 1024)), 1024);
	std::string before = bytes();
	auto r = replay_to_device(rw.get(), why);
	ASSERT_FALSE(r.ok());
	EXPECT_EQ(r.error(), -EUCLEAN);
	EXPECT_NE(why.find("bad magic"), std::string::npos) << why;
	EXPECT_EQ(bytes(), before);
	EXPECT_TRUE(needs_recovery());
}

TEST_F(WriteBack, EmptyJournalOnlyClearsTheFlag)
{
	set_needs_recovery();
	auto fd = open_image(O_RDWR);
	std::string why;
	auto r = replay_to_device(fd.get(), why);
	ASSERT_TRUE(r.ok()) << why;
	EXPECT_EQ(r->transactions, 0u);
	EXPECT_FALSE(needs_recovery());
	EXPECT_EQ(sh(std::string("e2fsck -fn ") + path_), 0);
}
