/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helper side: the fuse.conf parser (root-owned input, but parsed by a setuid
 * program, so it must hold up to anything). The oracle: values stay in range
 * and every problem points at a line that exists.
 */
#include <algorithm>
#include <string_view>

#include "fuzz_check.h"
#include "util/fuse_conf.h"

using namespace fsvc;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const std::string_view text(reinterpret_cast<const char *>(data), size);
	const auto parsed = helper::parse_fuse_conf(text);
	FUZZ_CHECK(parsed.conf.mount_max >= -1);
	const long lines = std::count(text.begin(), text.end(), '\n') + 1;
	for (const auto &p : parsed.problems)
		FUZZ_CHECK(p.line >= 0 && p.line <= lines);
	return 0;
}
