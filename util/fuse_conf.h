/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuse.conf, shared with fusermount3: `user_allow_other`, `mount_max = N`,
 * `#` comments and blank lines. We add no keys of our own (fusermount3 would
 * complain about them). A bad line is reported and skipped; it never stops a
 * mount.
 */
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace fsvc::helper
{

struct FuseConf {
	bool user_allow_other = false;
	int mount_max = 1000; /* -1: no limit */
};

struct ConfProblem {
	int line; /* 1-based; 0 for the file as a whole */
	std::string text;
};

struct ParsedConf {
	FuseConf conf;
	std::vector<ConfProblem> problems;
};

/* Parse the text of a fuse.conf. Never fails: problems are collected. */
ParsedConf parse_fuse_conf(std::string_view text);

/*
 * Read and parse the file at path. A missing file means the defaults. Any
 * other problem, and every bad line, is printed as
 * "fuservicemount3: <path>:<line>: <problem>".
 */
FuseConf load_fuse_conf(const char *path);

} // namespace fsvc::helper
