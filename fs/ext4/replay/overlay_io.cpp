/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The overlay io_manager. libext2fs reads in whatever block size the channel
 * currently has (1 KiB while it looks for the superblock, byte counts for
 * the superblock itself), so each read is turned into a byte range and every
 * overlaid filesystem block intersecting it is copied over the device's
 * bytes.
 */
#include "fs/ext4/replay/overlay_io.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <mutex>

namespace fsvc::ext4
{

namespace
{

struct OverlayChannel {
	io_channel inner = nullptr;
	std::shared_ptr<const JournalOverlay> overlay;
};

/* io_manager's open() gets only a name: the overlay for the open in progress
 * is handed over here, under the lock that serialises such opens. */
std::mutex g_open_lock;
std::shared_ptr<const JournalOverlay> g_pending;

OverlayChannel &priv(io_channel ch)
{
	return *static_cast<OverlayChannel *>(ch->private_data);
}

errcode_t ov_open(const char *name, int flags, io_channel *channel);

errcode_t ov_close(io_channel ch)
{
	if (--ch->refcount > 0)
		return 0;
	std::unique_ptr<OverlayChannel> p(static_cast<OverlayChannel *>(ch->private_data));
	errcode_t err = io_channel_close(p->inner);
	ext2fs_free_mem(&ch->name);
	ext2fs_free_mem(&ch);
	return err;
}

errcode_t ov_set_blksize(io_channel ch, int blksize)
{
	errcode_t err = io_channel_set_blksize(priv(ch).inner, blksize);
	if (!err)
		ch->block_size = blksize;
	return err;
}

errcode_t ov_read(io_channel ch, unsigned long long block, int count, void *data)
{
	OverlayChannel &p = priv(ch);
	errcode_t err = io_channel_read_blk64(p.inner, block, count, data);
	if (err)
		return err;
	size_t size = count < 0 ? size_t(-int64_t(count)) : size_t(count) * size_t(ch->block_size);
	p.overlay->apply(uint64_t(block) * uint64_t(ch->block_size),
			 std::span<std::byte>(static_cast<std::byte *>(data), size));
	return 0;
}

errcode_t ov_read32(io_channel ch, unsigned long block, int count, void *data)
{
	return ov_read(ch, block, count, data);
}

errcode_t ov_write(io_channel, unsigned long long, int, const void *)
{
	return EROFS;
}

errcode_t ov_write32(io_channel, unsigned long, int, const void *)
{
	return EROFS;
}

errcode_t ov_write_byte(io_channel, unsigned long, int, const void *)
{
	return EROFS;
}

errcode_t ov_discard(io_channel, unsigned long long, unsigned long long)
{
	return EROFS;
}

errcode_t ov_flush(io_channel ch)
{
	return io_channel_flush(priv(ch).inner);
}

errcode_t ov_set_option(io_channel ch, const char *option, const char *arg)
{
	io_channel in = priv(ch).inner;
	if (!in->manager->set_option)
		return EXT2_ET_INVALID_ARGUMENT;
	return in->manager->set_option(in, option, arg);
}

errcode_t ov_get_stats(io_channel ch, io_stats *stats)
{
	io_channel in = priv(ch).inner;
	if (!in->manager->get_stats)
		return EXT2_ET_OP_NOT_SUPPORTED;
	return in->manager->get_stats(in, stats);
}

errcode_t ov_readahead(io_channel ch, unsigned long long block, unsigned long long count)
{
	return io_channel_cache_readahead(priv(ch).inner, block, count);
}

struct struct_io_manager g_manager = {
    .magic = EXT2_ET_MAGIC_IO_MANAGER,
    .name = "fsvc journal overlay",
    .open = ov_open,
    .close = ov_close,
    .set_blksize = ov_set_blksize,
    .read_blk = ov_read32,
    .write_blk = ov_write32,
    .flush = ov_flush,
    .write_byte = ov_write_byte,
    .set_option = ov_set_option,
    .get_stats = ov_get_stats,
    .read_blk64 = ov_read,
    .write_blk64 = ov_write,
    .discard = ov_discard,
    .cache_readahead = ov_readahead,
    .zeroout = ov_discard,
    .reserved = {},
};

errcode_t ov_open(const char *name, int flags, io_channel *channel)
{
	if (flags & IO_FLAG_RW)
		return EROFS;
	if (!g_pending)
		return EXT2_ET_INVALID_ARGUMENT;
	auto p = std::make_unique<OverlayChannel>();
	p->overlay = g_pending;
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

/* libext2fs closes the descriptor it was given, also on most failures; a
 * failed open before the channel exists leaves it to us. */
Result<FsPtr> open_dup(int fd, int flags, io_manager mgr, std::string &why)
{
	int dup = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (dup < 0) {
		why =
		    std::string("cannot duplicate the device descriptor: ") + std::strerror(errno);
		return Error{-errno};
	}
	std::string name = std::to_string(dup);
	ext2_filsys fs = nullptr;
	errcode_t err =
	    ext2fs_open2(name.c_str(), nullptr, flags | EXT2_FLAG_64BITS, 0, 0, mgr, &fs);
	if (err) {
		if (fcntl(dup, F_GETFD) >= 0)
			close(dup);
		why = std::string("cannot open the filesystem: ") + error_message(err);
		if (err > 0 && err < 256)
			return Error{-int(err)};
		if (err == EXT2_ET_UNSUPP_FEATURE || err == EXT2_ET_RO_UNSUPP_FEATURE)
			return Error{-EOPNOTSUPP};
		return Error{err == EXT2_ET_SHORT_READ ? -EIO : -EUCLEAN};
	}
	return FsPtr(fs);
}

} // namespace

Result<FsPtr> open_plain(int fd, int flags, std::string &why)
{
	return open_dup(fd, flags, unixfd_io_manager, why);
}

Result<FsPtr> open_with_overlay(int fd, int flags, std::shared_ptr<const JournalOverlay> overlay,
				std::string &why)
{
	if (flags & EXT2_FLAG_RW) {
		why = "the journal overlay is read-only";
		return Error{-EROFS};
	}
	std::lock_guard lock(g_open_lock);
	g_pending = std::move(overlay);
	auto r = open_dup(fd, flags, &g_manager, why);
	g_pending.reset();
	return r;
}

} // namespace fsvc::ext4
