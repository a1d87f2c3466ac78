/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Open an ext2/3/4 filesystem read-only with its journal replayed in memory.
 */
#pragma once

#include "core/result.h"
#include "fs/ext4/replay/journal_overlay.h"
#include "fs/ext4/replay/overlay_io.h"

#include <memory>
#include <string>

namespace fsvc::ext4
{

struct ReplayOpenOptions {
	/** ext2fs_open2() flags; EXT2_FLAG_64BITS is always added, EXT2_FLAG_RW refused. */
	int flags = 0;
	/** false for -o norecovery: open the image as it is, journal ignored. */
	bool recovery = true;
	ReplayLimits limits;
};

struct ReplayedFs {
	FsPtr fs;
	/** The replayed blocks; null when nothing was replayed. The engine's
	 * data path, if it reads the device itself, must consult find() too
	 * (data=journal journals carry file data). */
	std::shared_ptr<const JournalOverlay> overlay;
	ReplayStats stats;
	/** True when the filesystem needed recovery (replayed, or norecovery). */
	bool needed_recovery = false;
};

/**
 * Open the filesystem on @p fd (kept by the caller; libext2fs gets
 * duplicates). If it needs recovery, load the journal overlay and reopen
 * through it so libext2fs works from the replayed superblock and group
 * descriptors. On failure @p why holds one line (no program prefix).
 */
Result<ReplayedFs> open_replayed(int fd, std::string &why, const ReplayOpenOptions &opts = {});

} // namespace fsvc::ext4
