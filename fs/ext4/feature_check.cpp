/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "feature_check.h"

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

} // namespace

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
