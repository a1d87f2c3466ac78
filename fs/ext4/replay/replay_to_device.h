/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Journal recovery written to the device, for read-write mounts: what the
 * kernel does at mount time when an ext3/ext4 image needs recovery.
 */
#pragma once

#include "core/result.h"
#include "fs/ext4/replay/journal_overlay.h"

#include <string>

namespace fsvc::ext4
{

/**
 * Replay the dirty JBD2 journal of the filesystem on @p fd onto the device,
 * then mark the journal empty, as the kernel leaves an image it recovered.
 *
 * Call it before a read-write mount serves anything. @p fd must be open for
 * reading and writing (it is not taken; libext2fs gets duplicates). Steps,
 * each one safe to interrupt (a crash in between leaves an image that still
 * needs, and still gets, the same recovery):
 *
 *  1. the journal is scanned exactly as JournalOverlay::load() does (same
 *     checks, same refusals: corrupt journal -EUCLEAN, external journal or
 *     fast commits to replay -EOPNOTSUPP, more than @p limits -EFBIG);
 *  2. every replayed block is written to its home location, then
 *     fdatasync();
 *  3. the journal superblock gets s_start = 0 (empty) and s_sequence one
 *     past the last transaction the log can hold (so no stale block is
 *     ever taken for a new transaction), its checksum updated (csum v2/v3),
 *     then fdatasync();
 *  4. the primary superblock loses needs_recovery, its free block and inode
 *     counts are set from the (replayed) group descriptors, as the kernel's
 *     mount and unmount would, its checksum is updated (metadata_csum), then
 *     fdatasync().
 *
 * A filesystem that does not need recovery is not written at all. Nothing
 * is written before the scan succeeds, so a refusal leaves the image as it
 * was. On failure @p why holds one line (no program prefix).
 *
 * @return what was replayed (transactions, blocks, revoked copies); all
 *         zero when nothing needed recovery.
 */
Result<ReplayStats> replay_to_device(int fd, std::string &why, const ReplayLimits &limits = {});

} // namespace fsvc::ext4
