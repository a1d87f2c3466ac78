/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The JBD2 on-disk format, as described in the kernel's
 * Documentation/filesystems/ext4/journal.rst. Every field is big-endian.
 * Only the numbers live here; the reading logic is in journal_scan.cpp.
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace fsvc::ext4::jbd2
{

inline constexpr uint32_t kMagic = 0xC03B3998;

/* h_blocktype */
inline constexpr uint32_t kDescriptorBlock = 1;
inline constexpr uint32_t kCommitBlock = 2;
inline constexpr uint32_t kSuperblockV1 = 3;
inline constexpr uint32_t kSuperblockV2 = 4;
inline constexpr uint32_t kRevokeBlock = 5;

/* Common block header: magic, type, sequence. */
inline constexpr size_t kHeaderSize = 12;

/* Journal superblock field offsets. */
inline constexpr size_t kSbBlocksize = 0x0C;
inline constexpr size_t kSbMaxlen = 0x10;
inline constexpr size_t kSbFirst = 0x14;
inline constexpr size_t kSbSequence = 0x18;
inline constexpr size_t kSbStart = 0x1C;
inline constexpr size_t kSbErrno = 0x20;
inline constexpr size_t kSbFeatureCompat = 0x24;
inline constexpr size_t kSbFeatureIncompat = 0x28;
inline constexpr size_t kSbFeatureRoCompat = 0x2C;
inline constexpr size_t kSbUuid = 0x30;
inline constexpr size_t kSbNrUsers = 0x40;
inline constexpr size_t kSbChecksumType = 0x50;
inline constexpr size_t kSbNumFcBlocks = 0x54;
inline constexpr size_t kSbChecksum = 0xFC;
inline constexpr size_t kSbSize = 1024;

/* s_feature_compat */
inline constexpr uint32_t kCompatChecksum = 0x1; /* v1: crc32 of the transaction in commit */

/* s_feature_incompat */
inline constexpr uint32_t kIncompatRevoke = 0x1;
inline constexpr uint32_t kIncompat64bit = 0x2;
inline constexpr uint32_t kIncompatAsyncCommit = 0x4;
inline constexpr uint32_t kIncompatCsumV2 = 0x8;
inline constexpr uint32_t kIncompatCsumV3 = 0x10;
inline constexpr uint32_t kIncompatFastCommit = 0x20;
inline constexpr uint32_t kIncompatKnown = kIncompatRevoke | kIncompat64bit | kIncompatAsyncCommit |
					   kIncompatCsumV2 | kIncompatCsumV3 | kIncompatFastCommit;

/* s_checksum_type / h_chksum_type */
inline constexpr uint8_t kChecksumCrc32 = 1;
inline constexpr uint8_t kChecksumCrc32c = 4;

/* Block tag flags. */
inline constexpr uint32_t kFlagEscape = 0x1;
inline constexpr uint32_t kFlagSameUuid = 0x2;
inline constexpr uint32_t kFlagLastTag = 0x8;

/* Tag layouts: tag3 (csum v3) is 16 bytes; the classic tag is
 * blocknr(4) checksum16(2) flags16(2) [blocknr_high(4) with 64bit], and csum v2
 * journals pad it with two more bytes (the kernel's tag size). A 16-byte
 * UUID follows a tag without kFlagSameUuid. */
inline constexpr size_t kUuidSize = 16;

/* The checksum tail of descriptor and revoke blocks (csum v2/v3). */
inline constexpr size_t kTailSize = 4;

/* Revoke block: header, then r_count (bytes used, header included). */
inline constexpr size_t kRevokeCount = 0x0C;
inline constexpr size_t kRevokeRecords = 0x10;

/* Commit block fields. */
inline constexpr size_t kCommitChecksumType = 0x0C;
inline constexpr size_t kCommitChecksumSize = 0x0D;
inline constexpr size_t kCommitChecksum = 0x10;

/* Fast-commit area: little-endian TLVs; the first one of a live area is a
 * head tag carrying the transaction id the fast commits follow. */
inline constexpr uint16_t kFcTagHead = 0x9;
inline constexpr uint32_t kFcDefaultBlocks = 256;

inline uint32_t be32(std::span<const std::byte> b, size_t off)
{
	return (uint32_t(b[off]) << 24) | (uint32_t(b[off + 1]) << 16) |
	       (uint32_t(b[off + 2]) << 8) | uint32_t(b[off + 3]);
}

inline uint16_t be16(std::span<const std::byte> b, size_t off)
{
	return uint16_t((uint32_t(b[off]) << 8) | uint32_t(b[off + 1]));
}

inline uint64_t be64(std::span<const std::byte> b, size_t off)
{
	return (uint64_t(be32(b, off)) << 32) | be32(b, off + 4);
}

inline uint16_t le16(std::span<const std::byte> b, size_t off)
{
	return uint16_t(uint32_t(b[off]) | (uint32_t(b[off + 1]) << 8));
}

inline uint32_t le32(std::span<const std::byte> b, size_t off)
{
	return uint32_t(le16(b, off)) | (uint32_t(le16(b, off + 2)) << 16);
}

inline void put_be32(std::span<std::byte> b, size_t off, uint32_t v)
{
	b[off] = std::byte(v >> 24);
	b[off + 1] = std::byte(v >> 16);
	b[off + 2] = std::byte(v >> 8);
	b[off + 3] = std::byte(v);
}

/* Transaction ids wrap: a is after b when the signed distance is positive. */
inline bool tid_after(uint32_t a, uint32_t b)
{
	return int32_t(a - b) > 0;
}

} // namespace fsvc::ext4::jbd2
