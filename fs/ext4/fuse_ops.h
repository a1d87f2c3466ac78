/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The FUSE low-level operations of ext4-service: thin adapters from
 * fuse_req_t to the Filesystem engine, each under the watchdog.
 */
#pragma once

/* FUSE_USE_VERSION comes from the build (319, for fuse_service.h). */
#include <fuse_lowlevel.h>

#include <memory>

#include "fs/ext4/filesystem.h"
#include "fs/ext4/watchdog.h"

namespace fsvc::ext4
{

/* What a session's userdata points to. */
struct Server {
	std::unique_ptr<Filesystem> fs;
	std::unique_ptr<Watchdog> watchdog;
	bool readdirplus = true; /* ask the kernel for readdirplus */
	/* Answer open with ENOSYS: the kernel then sends no open or release
	 * at all (and keeps the page cache); reads use the cached file map. */
	bool no_open = true;
	/* Device nodes may be created (the caller mounted with "dev"). */
	bool allow_dev = false;
};

/* Shared by fuse_ops.cpp and fuse_write_ops.cpp. */
namespace ops
{
/* We hold the device exclusively and every change comes through the
 * kernel, so its caches stay right for as long as it likes. */
inline constexpr double kTimeout = 86400.0 * 365;
Server &server(fuse_req_t req);
ext2_ino_t toExt(fuse_ino_t n);
fuse_ino_t toFuse(ext2_ino_t ino);
/* A valid entry for @p ino (0), or a negative errno. */
int fillEntry(Filesystem &fs, ext2_ino_t ino, fuse_entry_param &e);
/* The read-write operations into @p ops. */
void addWriteOps(fuse_lowlevel_ops &ops);
} // namespace ops

/* The operation table (with the write operations when @p writable); the
 * session's userdata must be a Server. */
const fuse_lowlevel_ops &fuseOps(bool writable);

} // namespace fsvc::ext4
