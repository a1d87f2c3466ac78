/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Creating the FUSE mount on the pinned mountpoint: the new mount API
 * (fsopen/fsconfig/fsmount/move_mount onto the pinned fd) when it can
 * express the request, mount(2) otherwise. Runs with full privileges: the
 * caller-dependent checks happened before.
 */
#pragma once

#include <optional>
#include <string>
#include <sys/types.h>

#include "core/result.h"
#include "core/unique_fd.h"
#include "util/mountpoint.h"

namespace fsvc::helper
{

/* fsopen("fuse"/"fuseblk"), or an invalid fd when the kernel lacks it. */
UniqueFD try_fsopen(bool fuseblk);

struct MountRequest {
	bool fuseblk = false;
	std::string subtype;
	std::string source;
	std::optional<std::string> kernel_opts;
	uint32_t ms_flags = 0;
	int fusedev_fd = -1;
	uid_t uid = 0;
	gid_t gid = 0;
};

/* Which way a mount was made. */
enum class MountPath { NewApi, Legacy };

struct Mounted {
	UniqueFD root; /* the new mount's root: how we detach it again */
	MountPath how = MountPath::NewApi;
};

/*
 * Mount req on mp. fsfd is the context from try_fsopen() (consumed; may be
 * invalid). Prints the reason and returns -errno on failure; nothing is left
 * mounted then.
 */
Result<Mounted> mount_fuse(const MountRequest &req, const Mountpoint &mp, UniqueFD fsfd,
			   const Caller &caller);

/* Detach a mount made by mount_fuse(): lazily, through its root fd. */
void detach_mount(const Mounted &m);

/* "fuse.<subtype>" or "fuseblk.<subtype>". */
std::string fs_type_name(bool fuseblk, const std::string &subtype);

} // namespace fsvc::helper
