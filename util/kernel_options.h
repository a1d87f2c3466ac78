/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the server may ask for in OPTS and DOIT, and how it maps onto the
 * kernel. The server is untrusted: it may not set the options the helper
 * owns (fd, rootmode, user_id, group_id, subtype), may not sneak them in
 * behind quotes or commas, and may only use mount flags that describe a new
 * FUSE mount (no MS_BIND, MS_MOVE, MS_REMOUNT, propagation changes...).
 */
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace fsvc::helper
{

struct KernelOption {
	std::string key;
	std::string value; /* quotes around the value removed */
	bool has_value = false;
};

/* Split at commas outside double quotes ("context=\"a,b\"" stays one option). */
std::vector<KernelOption> split_kernel_options(std::string_view opts);

/*
 * Check an OPTS string. Returns 0, or -EPERM with *bad set to the offending
 * option: one the helper sets itself, a superblock flag that would undo a
 * DOIT flag (rw, async, ...), or allow_other/allow_root when
 * allow_other_ok is false. Commas are considered both inside and outside
 * quotes, so a quoted value cannot hide an option from this check.
 */
int check_kernel_options(std::string_view opts, bool allow_other_ok, std::string *bad);

/* MS_* flags a server may send in DOIT. */
inline constexpr uint32_t kAllowedMsFlags =
    0x1 /* MS_RDONLY */ | 0x2 /* MS_NOSUID */ | 0x4 /* MS_NODEV */ | 0x8 /* MS_NOEXEC */ |
    0x10 /* MS_SYNCHRONOUS */ | 0x80 /* MS_DIRSYNC */ | 0x100 /* MS_NOSYMFOLLOW */ |
    0x400 /* MS_NOATIME */ | 0x800 /* MS_NODIRATIME */ | 0x8000 /* MS_SILENT */ |
    0x200000 /* MS_RELATIME */ | 0x1000000 /* MS_STRICTATIME */ | 0x2000000 /* MS_LAZYTIME */;

/* rw, async, nolazytime, nomand: refused by check_kernel_options(). */
bool is_flag_undoing_key(std::string_view key);

/*
 * The widening options the caller did not ask for: -EPERM with *bad set
 * when OPTS has allow_other (allow_root) and allow_other (allow_root) is
 * false. Both readings of quotes, as in check_kernel_options().
 */
int check_widening_options(std::string_view opts, bool allow_other, bool allow_root,
			   std::string *bad);

/* Whether OPTS sets key (with or without a value). */
bool has_kernel_option(std::string_view opts, std::string_view key);

/* How the new mount API expresses a set of MS flags. */
struct NewApiFlags {
	std::vector<const char *> sb_flags; /* fsconfig(FSCONFIG_SET_FLAG) */
	unsigned int attrs = 0;             /* fsmount() MOUNT_ATTR_* */
	uint32_t leftover = 0;              /* flags it cannot express: use mount(2) */
};
/* MS_SILENT is dropped: it changes nothing about the mount itself. */
NewApiFlags translate_ms_flags(uint32_t ms_flags);

} // namespace fsvc::helper
