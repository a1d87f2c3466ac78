/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Comma-separated option lists ("ro,nosuid,x-gvfs-show"), the one tokenizer
 * for all of them. The readers of an option list disagree on quoting, and
 * the helper must sometimes read one list the way each of them would (a
 * server hiding `allow_other` behind a quote must be caught by both
 * readings), so the quoting is always stated by the caller.
 */
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace fsvc
{

enum class Quoting {
	/* Every comma separates: mount(8)'s option lists, mtab/utab records. */
	None,
	/*
	 * fuse_opt_parse()'s -o lists: a backslash makes the next character
	 * literal (a trailing one stays as it is); the backslashes are removed.
	 */
	Backslash,
	/*
	 * The kernel's fs_parse option data: a comma between double quotes does
	 * not separate; the quotes stay in the token.
	 */
	DoubleQuotes,
};

/*
 * The tokens of list in order, empty ones included ("" is one empty token,
 * "a,,b" has three); callers that ignore empty tokens skip them.
 */
std::vector<std::string> split_options(std::string_view list, Quoting quoting);

/* The tokens joined with commas, none quoted or escaped; an empty token adds no comma. */
std::string join_options(std::span<const std::string> tokens);

} // namespace fsvc
