/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The inode-table write-back io_manager. Reads go to the device and the
 * held blocks are copied over what they intersect (libext2fs also reads in
 * byte counts and other block sizes); a write of whole blocks that all lie
 * in inode tables replaces what is held; any other write first writes back
 * the held blocks it touches, so the device never gets them out of order.
 */
#include "fs/ext4/inode_table_cache.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>

namespace fsvc::ext4
{

namespace
{

/* Bound on the bytes held (the unit's memory limit is 256 MiB); past it,
 * all is written. */
constexpr uint64_t kMaxDirtyBytes = 16ULL << 20;

struct CacheChannel {
	io_channel inner = nullptr;
	/* Sorted [first, end) inode-table ranges, in blocks of bs. */
	std::vector<std::pair<uint64_t, uint64_t>> tables;
	uint64_t bs = 0;
	std::map<uint64_t, std::vector<std::byte>> dirty;
};

CacheChannel &priv(io_channel ch)
{
	return *static_cast<CacheChannel *>(ch->private_data);
}

bool inTables(const CacheChannel &p, uint64_t first, uint64_t count)
{
	auto it = std::upper_bound(
	    p.tables.begin(), p.tables.end(), first,
	    [](uint64_t b, const std::pair<uint64_t, uint64_t> &r) { return b < r.first; });
	if (it == p.tables.begin())
		return false;
	--it;
	return first >= it->first && first + count <= it->second;
}

/* Write the held blocks in [first, end) (block numbers in bs), merging
 * consecutive ones into one write. */
errcode_t writeBack(CacheChannel &p, uint64_t first, uint64_t end)
{
	auto it = p.dirty.lower_bound(first);
	std::vector<std::byte> run;
	while (it != p.dirty.end() && it->first < end) {
		uint64_t start = it->first;
		run.clear();
		auto stop = it;
		while (stop != p.dirty.end() && stop->first < end &&
		       stop->first == start + run.size() / p.bs) {
			run.insert(run.end(), stop->second.begin(), stop->second.end());
			++stop;
		}
		errcode_t err =
		    io_channel_write_blk64(p.inner, start, int(run.size() / p.bs), run.data());
		if (err)
			return err;
		it = p.dirty.erase(it, stop);
	}
	return 0;
}

/* The byte range of a request, as libext2fs gives it. */
std::pair<uint64_t, uint64_t> byteRange(io_channel ch, unsigned long long block, int count)
{
	uint64_t size =
	    count < 0 ? uint64_t(-int64_t(count)) : uint64_t(count) * uint64_t(ch->block_size);
	uint64_t start = uint64_t(block) * uint64_t(ch->block_size);
	return {start, start + size};
}

/* Before a write the cache does not take: write back what it overlaps. */
errcode_t writeBackBytes(CacheChannel &p, uint64_t start, uint64_t end)
{
	if (p.dirty.empty() || p.bs == 0)
		return 0;
	return writeBack(p, start / p.bs, (end + p.bs - 1) / p.bs);
}

errcode_t tc_open(const char *name, int flags, io_channel *channel);

errcode_t tc_close(io_channel ch)
{
	if (--ch->refcount > 0)
		return 0;
	std::unique_ptr<CacheChannel> p(static_cast<CacheChannel *>(ch->private_data));
	errcode_t err = writeBack(*p, 0, UINT64_MAX);
	errcode_t cerr = io_channel_close(p->inner);
	ext2fs_free_mem(&ch->name);
	ext2fs_free_mem(&ch);
	return err ? err : cerr;
}

errcode_t tc_set_blksize(io_channel ch, int blksize)
{
	CacheChannel &p = priv(ch);
	/* Held blocks are written in the inner channel's block size. */
	if (uint64_t(blksize) != p.bs) {
		if (errcode_t err = writeBack(p, 0, UINT64_MAX))
			return err;
	}
	errcode_t err = io_channel_set_blksize(p.inner, blksize);
	if (!err)
		ch->block_size = blksize;
	return err;
}

errcode_t tc_read(io_channel ch, unsigned long long block, int count, void *data)
{
	CacheChannel &p = priv(ch);
	errcode_t err = io_channel_read_blk64(p.inner, block, count, data);
	if (err || p.dirty.empty())
		return err;
	auto [start, end] = byteRange(ch, block, count);
	auto *out = static_cast<std::byte *>(data);
	for (auto it = p.dirty.lower_bound(start / p.bs); it != p.dirty.end(); ++it) {
		uint64_t bstart = it->first * p.bs;
		if (bstart >= end)
			break;
		uint64_t a = std::max(start, bstart), z = std::min(end, bstart + p.bs);
		std::memcpy(out + (a - start), it->second.data() + (a - bstart), size_t(z - a));
	}
	return 0;
}

errcode_t tc_read32(io_channel ch, unsigned long block, int count, void *data)
{
	return tc_read(ch, block, count, data);
}

errcode_t tc_write(io_channel ch, unsigned long long block, int count, const void *data)
{
	CacheChannel &p = priv(ch);
	if (count > 0 && p.bs != 0 && uint64_t(ch->block_size) == p.bs &&
	    inTables(p, block, uint64_t(count))) {
		const auto *in = static_cast<const std::byte *>(data);
		for (int i = 0; i < count; i++) {
			auto &b = p.dirty[block + uint64_t(i)];
			b.assign(in + size_t(i) * p.bs, in + size_t(i + 1) * p.bs);
		}
		if (uint64_t(p.dirty.size()) * p.bs > kMaxDirtyBytes)
			return writeBack(p, 0, UINT64_MAX);
		return 0;
	}
	auto [start, end] = byteRange(ch, block, count);
	if (errcode_t err = writeBackBytes(p, start, end))
		return err;
	return io_channel_write_blk64(p.inner, block, count, data);
}

errcode_t tc_write32(io_channel ch, unsigned long block, int count, const void *data)
{
	return tc_write(ch, block, count, data);
}

errcode_t tc_write_byte(io_channel ch, unsigned long offset, int size, const void *data)
{
	CacheChannel &p = priv(ch);
	if (errcode_t err = writeBackBytes(p, offset, uint64_t(offset) + uint64_t(size)))
		return err;
	return io_channel_write_byte(p.inner, offset, size, data);
}

errcode_t tc_discard(io_channel ch, unsigned long long block, unsigned long long count)
{
	CacheChannel &p = priv(ch);
	uint64_t bsz = uint64_t(ch->block_size);
	if (errcode_t err = writeBackBytes(p, block * bsz, (block + count) * bsz))
		return err;
	return io_channel_discard(p.inner, block, count);
}

errcode_t tc_zeroout(io_channel ch, unsigned long long block, unsigned long long count)
{
	CacheChannel &p = priv(ch);
	uint64_t bsz = uint64_t(ch->block_size);
	if (errcode_t err = writeBackBytes(p, block * bsz, (block + count) * bsz))
		return err;
	return io_channel_zeroout(p.inner, block, count);
}

errcode_t tc_flush(io_channel ch)
{
	CacheChannel &p = priv(ch);
	if (errcode_t err = writeBack(p, 0, UINT64_MAX))
		return err;
	return io_channel_flush(p.inner);
}

errcode_t tc_set_option(io_channel ch, const char *option, const char *arg)
{
	io_channel in = priv(ch).inner;
	if (!in->manager->set_option)
		return EXT2_ET_INVALID_ARGUMENT;
	return in->manager->set_option(in, option, arg);
}

errcode_t tc_get_stats(io_channel ch, io_stats *stats)
{
	io_channel in = priv(ch).inner;
	if (!in->manager->get_stats)
		return EXT2_ET_OP_NOT_SUPPORTED;
	return in->manager->get_stats(in, stats);
}

errcode_t tc_readahead(io_channel ch, unsigned long long block, unsigned long long count)
{
	return io_channel_cache_readahead(priv(ch).inner, block, count);
}

struct struct_io_manager g_manager = {
    .magic = EXT2_ET_MAGIC_IO_MANAGER,
    .name = "fsvc inode-table cache",
    .open = tc_open,
    .close = tc_close,
    .set_blksize = tc_set_blksize,
    .read_blk = tc_read32,
    .write_blk = tc_write32,
    .flush = tc_flush,
    .write_byte = tc_write_byte,
    .set_option = tc_set_option,
    .get_stats = tc_get_stats,
    .read_blk64 = tc_read,
    .write_blk64 = tc_write,
    .discard = tc_discard,
    .cache_readahead = tc_readahead,
    .zeroout = tc_zeroout,
    .reserved = {},
};

errcode_t tc_open(const char *name, int flags, io_channel *channel)
{
	auto p = std::make_unique<CacheChannel>();
	errcode_t err = unixfd_io_manager->open(name, flags, &p->inner);
	if (err)
		return err;
	io_channel ch = nullptr;
	err = ext2fs_get_memzero(sizeof(*ch), &ch);
	if (!err)
		err = ext2fs_get_mem(std::strlen(name) + 1, &ch->name);
	if (err) {
		if (ch)
			ext2fs_free_mem(&ch);
		io_channel_close(p->inner);
		return err;
	}
	std::strcpy(ch->name, name);
	ch->magic = EXT2_ET_MAGIC_IO_CHANNEL;
	ch->manager = &g_manager;
	ch->block_size = p->inner->block_size;
	ch->refcount = 1;
	ch->flags = p->inner->flags;
	ch->align = p->inner->align;
	ch->private_data = p.release();
	*channel = ch;
	return 0;
}

} // namespace

io_manager inode_table_cache_manager()
{
	return &g_manager;
}

void inode_table_cache_enable(io_channel ch, ext2_filsys fs)
{
	if (ch->manager != &g_manager)
		return;
	CacheChannel &p = priv(ch);
	p.tables.clear();
	for (dgrp_t g = 0; g < fs->group_desc_count; g++) {
		uint64_t first = ext2fs_inode_table_loc(fs, g);
		if (first != 0)
			p.tables.emplace_back(first, first + fs->inode_blocks_per_group);
	}
	std::sort(p.tables.begin(), p.tables.end());
	p.bs = fs->blocksize;
}

errcode_t inode_table_cache_writeback(io_channel ch)
{
	if (ch->manager != &g_manager)
		return 0;
	return writeBack(priv(ch), 0, UINT64_MAX);
}

size_t inode_table_cache_dirty(io_channel ch)
{
	if (ch->manager != &g_manager)
		return 0;
	return priv(ch).dirty.size();
}

} // namespace fsvc::ext4
