/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The mount options the caller wrote on the command line (`-o LIST`,
 * `-oLIST`), read the way the server's fuse_opt parser reads them. They are
 * a floor: every restriction the caller asked for ends up in the mount
 * whatever the server sends, and the options that widen access (suid, dev,
 * allow_other, allow_root) are used only when the caller asked for them.
 */
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace fsvc::helper
{

struct CallerMountOptions {
	/* MS_* restrictions the final mount must have (ro, nosuid, noexec, ...). */
	uint32_t required_flags = 0;
	/* MS_* flags the mount must NOT have (strictatime under noatime/relatime). */
	uint32_t forbidden_flags = 0;
	bool suid = false; /* asked for explicitly, and not taken back by a later nosuid */
	bool dev = false;
	bool allow_other = false;
	bool allow_root = false;
	bool default_permissions = false;
};

/*
 * Parse the caller's -o lists in args (the helper's command line without
 * -t and its own flags; nothing after "--"). Later tokens win, as in
 * mount(8): "ro,rw" is rw.
 */
CallerMountOptions parse_caller_mount_options(std::span<const std::string> args);

/*
 * Apply the floor to the server's DOIT flags: add the caller's restrictions,
 * drop what they exclude, and set MS_NOSUID / MS_NODEV unless the caller
 * asked for suid / dev (and may have them: allow_widening is false for a
 * non-root caller). Prints "unsafe option suid|dev ignored" when that
 * overrides the server.
 */
uint32_t apply_caller_floor(uint32_t ms_flags, const CallerMountOptions &caller,
			    bool allow_widening);

} // namespace fsvc::helper
