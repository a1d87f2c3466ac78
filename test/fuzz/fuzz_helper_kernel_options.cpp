/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helper side: the OPTS string a server sends, as the helper splits and
 * vets it. First byte: whether allow_other is permitted; the rest is the
 * option string. The oracle: whatever way a token is spelled (quotes, commas
 * inside quotes), an accepted string never sets an option the helper owns,
 * nor allow_other/allow_root when they are not permitted.
 */
#include <cerrno>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "util/mount_options.h"

using namespace fsvc;

namespace
{

std::string unquoted_key(std::string_view token)
{
	std::string key(token.substr(0, token.find('=')));
	std::string out;
	for (char c : key)
		if (c != '"')
			out.push_back(c);
	return out;
}

bool forbidden(const std::string &key, bool allow_other_ok)
{
	if (key == "fd" || key == "rootmode" || key == "user_id" || key == "group_id" ||
	    key == "subtype")
		return true;
	return !allow_other_ok && (key == "allow_other" || key == "allow_root");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	const bool allow_other_ok = data[0] & 1;
	const std::string_view opts(reinterpret_cast<const char *>(data + 1), size - 1);

	std::string bad;
	const int r = helper::check_kernel_options(opts, allow_other_ok, &bad);
	FUZZ_CHECK(r == 0 || r == -EPERM);
	const auto split = helper::split_kernel_options(opts);
	if (r != 0)
		return 0;

	/* Accepted: no token, however the kernel might split it, is forbidden. */
	for (const auto &o : split)
		FUZZ_CHECK(!forbidden(o.key, allow_other_ok));
	size_t start = 0;
	for (;;) {
		const size_t comma = opts.find(',', start);
		const std::string_view token = opts.substr(start, comma - start);
		FUZZ_CHECK(!forbidden(unquoted_key(token), allow_other_ok));
		if (comma == std::string_view::npos)
			break;
		start = comma + 1;
	}
	return 0;
}
