/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A libext2fs io_manager that reads through the unixfd manager and lays a
 * JournalOverlay over every read, so libext2fs sees the replayed superblock,
 * group descriptors, inodes and directories. Writes fail with EROFS.
 */
#pragma once

#include "core/result.h"
#include "fs/ext4/replay/journal_overlay.h"

#include <ext2fs/ext2fs.h>

#include <memory>
#include <string>

namespace fsvc::ext4
{

/** Closes a libext2fs filesystem handle. */
struct FsCloser {
	void operator()(ext2_filsys fs) const { ext2fs_close_free(&fs); }
};
/** The owning handle of an open libext2fs filesystem. */
using FsPtr = std::unique_ptr<struct_ext2_filsys, FsCloser>;

/**
 * Open the filesystem on @p fd (not taken: a duplicate is given to
 * libext2fs) read-only through the overlay. @p flags are ext2fs_open2()'s
 * (EXT2_FLAG_RW is refused). The channel keeps @p overlay alive.
 */
Result<FsPtr> open_with_overlay(int fd, int flags, std::shared_ptr<const JournalOverlay> overlay,
				std::string &why);

/** Open @p fd plainly through unixfd_io_manager (a duplicate is given away);
 * EXT2_FLAG_RW in @p flags opens it for writing. */
Result<FsPtr> open_plain(int fd, int flags, std::string &why);

} // namespace fsvc::ext4
