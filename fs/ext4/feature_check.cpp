/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fs/ext4/feature_check.h"

#include <cstdint>
#include <cstdio>

namespace fsvc::ext4
{

namespace
{

struct Feature {
	uint32_t bit;
	const char *name;
};

/* Incompatible features we read correctly (the journal one is handled by the caller). */
constexpr uint32_t kIncompatKnown =
    EXT2_FEATURE_INCOMPAT_FILETYPE | EXT3_FEATURE_INCOMPAT_RECOVER | EXT2_FEATURE_INCOMPAT_META_BG |
    EXT3_FEATURE_INCOMPAT_EXTENTS | EXT4_FEATURE_INCOMPAT_64BIT | EXT4_FEATURE_INCOMPAT_MMP |
    EXT4_FEATURE_INCOMPAT_FLEX_BG | EXT4_FEATURE_INCOMPAT_EA_INODE |
    EXT4_FEATURE_INCOMPAT_CSUM_SEED | EXT4_FEATURE_INCOMPAT_LARGEDIR |
    EXT4_FEATURE_INCOMPAT_INLINE_DATA;

/* Names for the ones we refuse, so the message says which. */
constexpr Feature kIncompatNames[] = {
    {EXT2_FEATURE_INCOMPAT_COMPRESSION, "compression"},
    {EXT3_FEATURE_INCOMPAT_JOURNAL_DEV, "journal_dev (an external journal, not a filesystem)"},
    {EXT4_FEATURE_INCOMPAT_DIRDATA, "dirdata"},
    {EXT4_FEATURE_INCOMPAT_ENCRYPT, "encrypt"},
    {EXT4_FEATURE_INCOMPAT_CASEFOLD, "casefold"},
};

/* Read-only-compatible features whose files we would serve wrongly. */
constexpr Feature kRoCompatRefused[] = {
    {EXT4_FEATURE_RO_COMPAT_VERITY, "verity"},
};

std::string describe(const char *what)
{
	return std::string("unsupported filesystem feature: ") + what;
}

/* What libext2fs writes and we keep consistent; anything else is refused
 * for writing, by name when we know it. */
constexpr uint32_t kCompatWritable =
    EXT2_FEATURE_COMPAT_DIR_PREALLOC | EXT3_FEATURE_COMPAT_HAS_JOURNAL |
    EXT2_FEATURE_COMPAT_EXT_ATTR | EXT2_FEATURE_COMPAT_RESIZE_INODE |
    EXT2_FEATURE_COMPAT_DIR_INDEX | EXT4_FEATURE_COMPAT_SPARSE_SUPER2 |
    EXT4_FEATURE_COMPAT_STABLE_INODES;
constexpr uint32_t kRoCompatWritable =
    EXT2_FEATURE_RO_COMPAT_SPARSE_SUPER | EXT2_FEATURE_RO_COMPAT_LARGE_FILE |
    EXT4_FEATURE_RO_COMPAT_HUGE_FILE | EXT4_FEATURE_RO_COMPAT_GDT_CSUM |
    EXT4_FEATURE_RO_COMPAT_DIR_NLINK | EXT4_FEATURE_RO_COMPAT_EXTRA_ISIZE |
    EXT4_FEATURE_RO_COMPAT_METADATA_CSUM;
constexpr uint32_t kIncompatWritable =
    EXT2_FEATURE_INCOMPAT_FILETYPE | EXT3_FEATURE_INCOMPAT_RECOVER | EXT3_FEATURE_INCOMPAT_EXTENTS |
    EXT4_FEATURE_INCOMPAT_64BIT | EXT4_FEATURE_INCOMPAT_FLEX_BG | EXT4_FEATURE_INCOMPAT_CSUM_SEED |
    EXT4_FEATURE_INCOMPAT_LARGEDIR;

constexpr Feature kCompatNames[] = {
    {EXT2_FEATURE_COMPAT_IMAGIC_INODES, "imagic_inodes"},
    {EXT2_FEATURE_COMPAT_LAZY_BG, "lazy_bg"},
    {EXT2_FEATURE_COMPAT_EXCLUDE_BITMAP, "exclude_bitmap"},
    {EXT4_FEATURE_COMPAT_FAST_COMMIT, "fast_commit"},
    {EXT4_FEATURE_COMPAT_ORPHAN_FILE, "orphan_file"},
};
constexpr Feature kRoCompatNames[] = {
    {EXT4_FEATURE_RO_COMPAT_QUOTA, "quota (usage would not be updated)"},
    {EXT4_FEATURE_RO_COMPAT_BIGALLOC, "bigalloc"},
    {EXT4_FEATURE_RO_COMPAT_HAS_SNAPSHOT, "snapshot"},
    {EXT4_FEATURE_RO_COMPAT_PROJECT, "project (quota)"},
    {EXT4_FEATURE_RO_COMPAT_SHARED_BLOCKS, "shared_blocks"},
    {EXT4_FEATURE_RO_COMPAT_READONLY, "read-only"},
    {EXT4_FEATURE_RO_COMPAT_ORPHAN_PRESENT, "orphan_present"},
    {EXT4_FEATURE_RO_COMPAT_VERITY, "verity"},
};
constexpr Feature kIncompatWriteNames[] = {
    {EXT2_FEATURE_INCOMPAT_META_BG, "meta_bg"},
    {EXT4_FEATURE_INCOMPAT_MMP, "mmp"},
    {EXT4_FEATURE_INCOMPAT_EA_INODE, "ea_inode"},
    {EXT4_FEATURE_INCOMPAT_INLINE_DATA, "inline_data"},
};

std::string writeDescribe(const char *what)
{
	return std::string("cannot write filesystem feature ") + what;
}

std::string unknownBits(const char *kind, uint32_t bits)
{
	char buf[64];
	std::snprintf(buf, sizeof(buf), "unknown %s 0x%x", kind, bits);
	return writeDescribe(buf);
}

} // namespace

std::string writeRefusal(const ext2_super_block &sb)
{
	if (sb.s_rev_level == EXT2_GOOD_OLD_REV)
		return "cannot write a revision 0 filesystem";
	for (const auto &f : kCompatNames)
		if (sb.s_feature_compat & f.bit)
			return writeDescribe(f.name);
	for (const auto &f : kRoCompatNames)
		if (sb.s_feature_ro_compat & f.bit)
			return writeDescribe(f.name);
	for (const auto &f : kIncompatWriteNames)
		if (sb.s_feature_incompat & f.bit)
			return writeDescribe(f.name);
	if (uint32_t u = sb.s_feature_compat & ~kCompatWritable)
		return unknownBits("compat", u);
	if (uint32_t u = sb.s_feature_ro_compat & ~kRoCompatWritable)
		return unknownBits("ro_compat", u);
	if (uint32_t u = sb.s_feature_incompat & ~kIncompatWritable)
		return unknownBits("incompat", u);
	return {};
}

std::string unsupportedFeature(const ext2_super_block &sb)
{
	if (sb.s_magic != EXT2_SUPER_MAGIC)
		return "not an ext2/ext3/ext4 filesystem (bad superblock magic)";
	if (sb.s_log_block_size > EXT2_MAX_BLOCK_LOG_SIZE - EXT2_MIN_BLOCK_LOG_SIZE)
		return "corrupt superblock: block size out of range";
	if (sb.s_rev_level > EXT2_DYNAMIC_REV)
		return "unsupported revision level " + std::to_string(sb.s_rev_level);
	if (sb.s_rev_level == EXT2_GOOD_OLD_REV)
		return {};
	uint32_t incompat = sb.s_feature_incompat;
	for (const auto &f : kIncompatNames)
		if (incompat & f.bit)
			return describe(f.name);
	if (uint32_t unknown = incompat & ~kIncompatKnown) {
		char buf[64];
		std::snprintf(buf, sizeof(buf), "unknown incompat 0x%x", unknown);
		return describe(buf);
	}
	for (const auto &f : kRoCompatRefused)
		if (sb.s_feature_ro_compat & f.bit)
			return describe(f.name);
	return {};
}

} // namespace fsvc::ext4
