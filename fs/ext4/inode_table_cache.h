/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A write-back cache of inode-table blocks for read-write mounts: a
 * libext2fs io_manager over unixfd that keeps the inode-table blocks
 * libext2fs writes in memory until written back (fsync, the periodic
 * commit, unmount), so the dozens of inode writes one created file costs
 * become one device write per inode-table block and commit. Only inode
 * tables are held: they never hold file data, so the lock-free data path,
 * which pread()s file blocks from the descriptor, never needs what is held.
 * Every other block goes straight to the device. Not thread-safe: used
 * under the engine's lock, like libext2fs.
 */
#pragma once

#include <ext2fs/ext2fs.h>

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace fsvc::ext4
{

/** The io_manager: open a unixfd name (a descriptor number) through it. */
io_manager inode_table_cache_manager();

/**
 * Let @p ch (a channel of inode_table_cache_manager()) hold the blocks of
 * @p fs's inode tables, in @p fs's block size. Until this is called, every
 * write goes to the device.
 */
void inode_table_cache_enable(io_channel ch, ext2_filsys fs);

/** Write every held block to the device (no fsync); 0 or an errcode. */
errcode_t inode_table_cache_writeback(io_channel ch);

/** The number of blocks held and not yet written. */
size_t inode_table_cache_dirty(io_channel ch);

} // namespace fsvc::ext4
