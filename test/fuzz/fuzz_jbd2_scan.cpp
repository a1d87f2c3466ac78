/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The JBD2 scan on its own: the input is a journal (1 KiB blocks, block 0
 * the journal superblock), read through JournalOverlay::scan. Reaches the
 * tag, revoke and commit parsing far more often than whole images do. What
 * it accepts must hold together: every overlaid block inside the
 * filesystem, find() and apply() agreeing, stats matching.
 */
#include "fs/ext4/replay/journal_overlay.h"
#include "fuzz_check.h"

#include <cstring>
#include <string>
#include <vector>

using namespace fsvc::ext4;

namespace
{

constexpr uint32_t kBlock = 1024;
constexpr uint64_t kFsBlocks = 1 << 16;

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const size_t nblocks = size / kBlock;
	if (nblocks < 2)
		return 0;
	JournalBlockReader read = [&](uint32_t jblk, std::span<std::byte> out) -> int {
		if (jblk >= nblocks)
			return -EIO;
		std::memcpy(out.data(), data + size_t(jblk) * kBlock, out.size());
		return 0;
	};
	std::string why;
	auto r = JournalOverlay::scan(read, nblocks, kBlock, kFsBlocks, why,
				      ReplayLimits{size_t(4) << 20});
	if (!r) {
		FUZZ_CHECK(r.error() < 0);
		FUZZ_CHECK(!why.empty() && why.find('\n') == std::string::npos);
		return 0;
	}
	const JournalOverlay &o = *r;
	FUZZ_CHECK(o.stats().blocks == o.size());
	FUZZ_CHECK(o.size() * kBlock <= (size_t(4) << 20));
	std::vector<std::byte> buf(3 * kBlock);
	for (blk64_t b = 0; b < 64; b++) {
		auto f = o.find(b);
		FUZZ_CHECK(f.empty() || f.size() == kBlock);
		/* apply() over a range straddling b gives the same bytes. */
		std::fill(buf.begin(), buf.end(), std::byte(0x5a));
		uint64_t off = b * kBlock + kBlock / 2;
		o.apply(off, std::span(buf).first(kBlock));
		if (!f.empty())
			FUZZ_CHECK(std::memcmp(buf.data(), f.data() + kBlock / 2, kBlock / 2) == 0);
	}
	return 0;
}
