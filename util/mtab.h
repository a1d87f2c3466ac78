/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The userspace mount table record (utab, or a classic /etc/mtab file),
 * written through libmount exactly as mount(8) would, so umount(8) and
 * findmnt see x-* and friends. We never exec /bin/mount.
 *
 * Only for root. A mount by anyone else needs no record: libmount lets
 * umount(8) unmount a FUSE mount whose user_id= is the caller's, and
 * fusermount3 -u checks user_id= in mountinfo; fusermount3 -u does not
 * remove a record either, so records of users' mounts only went stale and
 * piled up in /run. And a record means libmount's utab lock, which must
 * never be held by a process the caller may stop (SIGSTOP) while root's
 * mount(8) and umount(8) wait for it.
 *
 * The record is written by a short-lived child whose ids are all 0, and
 * waited for with a bound: a lock held elsewhere cannot hang the helper.
 * This is the only place that uses libmount, and only that child loads it
 * (dlopen): no other mount pays for it. No child at all when libmount
 * would write nothing (no user=/x-* option and no classic /etc/mtab file).
 */
#pragma once

#include <string>
#include <string_view>

#include "util/privileges.h"

namespace fsvc::helper
{

/* The longest option string recorded: a record stays one short line. */
inline constexpr size_t kMaxMtabOptions = 1024;

struct MtabOptions {
	bool skip = false;   /* "-n": write nothing */
	std::string options; /* the options worth recording: user=, x-* */
};

/*
 * Filter the server's MTAB string. "-n" sets skip; "user=NAME" is kept only
 * when NAME is the caller (or the caller is root): a server must not make a
 * mount look like someone else's. Other tokens are not ours to record and are
 * dropped. Returns 0, -EPERM, or -EINVAL when the options to keep are longer
 * than kMaxMtabOptions (and prints why).
 */
int filter_mtab_options(std::string_view opts, const Caller &caller, MtabOptions *out);

/*
 * Record the mount, for a root caller only (see above), waiting at most
 * wait_ms for the child. Failure is reported but never undoes the mount.
 */
void record_mount(const std::string &source, const std::string &target, const std::string &type,
		  const MtabOptions &opts, const Caller &caller, int wait_ms);

} // namespace fsvc::helper
