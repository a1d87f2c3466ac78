/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helper side: the policy deciding which server-named paths the caller's
 * command line allows (OPEN: an argument or an option value; MNTP: the
 * mountpoint argument), and the caller's -o floor read from the same
 * line. Input: NUL-separated arguments, the last piece is the path the
 * server asks for. The oracle: a path is only ever allowed if the caller
 * wrote it, a mountpoint only if it is an argument verbatim, and the floor
 * never both requires and forbids a flag.
 */
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "util/argument_policy.h"
#include "util/caller_options.h"

using namespace fsvc;

namespace
{

std::string without_backslashes(std::string_view s)
{
	std::string out;
	for (char c : s)
		if (c != '\\')
			out.push_back(c);
	return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	std::vector<std::string> pieces;
	std::string cur;
	for (size_t i = 0; i < size; i++) {
		if (data[i] == 0) {
			pieces.push_back(cur);
			cur.clear();
		} else {
			cur.push_back(static_cast<char>(data[i]));
		}
	}
	const std::string path = cur;
	if (pieces.size() > 64)
		return 0;

	const bool positional = helper::is_mountpoint_argument(pieces, path);
	const bool named = helper::is_named_on_command_line(pieces, path);

	bool verbatim = false;
	bool contained = false;
	const std::string bare = without_backslashes(path);
	for (const auto &a : pieces) {
		verbatim = verbatim || a == path;
		contained = contained || without_backslashes(a).find(bare) != std::string::npos;
	}
	if (positional)
		FUZZ_CHECK(verbatim); /* an empty path never gets here: MNTP refuses it */
	if (named)
		FUZZ_CHECK(!path.empty() && (verbatim || contained));
	const helper::CallerMountOptions floor = helper::parse_caller_mount_options(pieces);
	FUZZ_CHECK((floor.required_flags & floor.forbidden_flags) == 0);
	return 0;
}
