/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fs/ext4/replay/open_replayed.h"

namespace fsvc::ext4
{

Result<ReplayedFs> open_replayed(int fd, std::string &why, const ReplayOpenOptions &opts)
{
	if (opts.flags & EXT2_FLAG_RW) {
		why = "a replay in memory is read-only; write it back with replay_to_device()";
		return Error{-EROFS};
	}
	auto plain = open_plain(fd, opts.flags, why);
	if (!plain)
		return Error{plain.error()};
	ReplayedFs out;
	out.needed_recovery = ext2fs_has_feature_journal_needs_recovery(plain.value()->super);
	if (!opts.recovery || !out.needed_recovery) {
		out.fs = std::move(plain.value());
		return out;
	}
	auto overlay = JournalOverlay::load(plain.value().get(), why, opts.limits);
	if (!overlay)
		return Error{overlay.error()};
	out.stats = overlay->stats();
	if (overlay->empty()) {
		out.fs = std::move(plain.value());
		return out;
	}
	plain.value().reset();
	auto shared = std::make_shared<const JournalOverlay>(std::move(overlay.value()));
	auto replayed = open_with_overlay(fd, opts.flags, shared, why);
	if (!replayed) {
		why = "after journal replay: " + why;
		return Error{replayed.error()};
	}
	out.fs = std::move(replayed.value());
	out.overlay = std::move(shared);
	return out;
}

} // namespace fsvc::ext4
