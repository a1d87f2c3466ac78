/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The userspace mount table record (utab, or a classic /etc/mtab file),
 * written through libmount exactly as mount(8) would, so umount(8) and
 * findmnt see user=, x-* and friends. We never exec /bin/mount.
 */
#pragma once

#include <string>
#include <string_view>

#include "privileges.h"

namespace fsvc::helper
{

struct MtabOptions {
	bool skip = false;   /* "-n": write nothing */
	std::string options; /* the options worth recording: user=, x-* */
};

/*
 * Filter the server's MTAB string. "-n" sets skip; "user=NAME" is kept only
 * when NAME is the caller (or the caller is root): a server must not make a
 * mount look like someone else's. Other tokens are not ours to record and are
 * dropped. Returns 0 or -EPERM (and prints why).
 */
int filter_mtab_options(std::string_view opts, const Caller &caller, MtabOptions *out);

/* Record the mount. Failure is reported but never undoes the mount. */
void record_mount(const std::string &source, const std::string &target, const std::string &type,
		  const MtabOptions &opts);

} // namespace fsvc::helper
