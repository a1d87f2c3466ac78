/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the helper is asked to mount, computed from the server's arguments
 * the way libfuse computes it for fuse_session_mount(). The system libfuse
 * keeps its parsed mount options private, so we parse the same options again
 * with its own option parser.
 */
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace fsvc
{

struct MountRequest {
	std::string fstype;                     /* fuse[blk][.subtype] */
	std::string source;                     /* fsname, else subtype, else /dev/fuse */
	std::optional<std::string> kernel_opts; /* OPTS, if any */
	std::optional<std::string> mtab_opts;   /* MTAB, if any */
	uint32_t ms_flags = 0;                  /* DOIT */
	bool fuseblk = false;                   /* TYPE */
};

/*
 * args are argv-style (args[0] is the program or subtype). When neither
 * subtype= nor fsname= is given, the subtype is the basename of args[0], as
 * fuse_parse_cmdline() would have added it. -EINVAL for arguments libfuse's
 * parser rejects.
 */
Result<MountRequest> compute_mount_request(const std::vector<std::string> &args);

/* Is this an option we handle that the system libfuse (3.14) would reject? */
bool is_service_only_option(const char *opt);

} // namespace fsvc
