/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The one way the helper opens a file for the server (OPEN and BDEV): as the
 * caller (see privileges.h), and without ever blocking. The open itself is
 * done with O_NONBLOCK | O_NOCTTY, so a FIFO or a device cannot hold the
 * helper past its deadline; the type is checked on the descriptor (a
 * regular file, a directory or a block device for OPEN, a block device for
 * BDEV); only then is O_NONBLOCK cleared again, unless the server asked for
 * it.
 *
 * Nor does it hand out the helper's own process. /proc/self, /proc/<pid>,
 * /proc/thread-self, /dev/fd and /dev/std* name the helper, not the caller:
 * its memory map, its timer slack, its descriptors (the socket, the fs
 * context). The lookup follows no magic link (RESOLVE_NO_MAGICLINKS:
 * /proc/.../fd/N, cwd, root, exe, and so /dev/fd/N and /dev/stdin are
 * ELOOP), and a file that turns out to live in procfs is refused (EPERM):
 * a descriptor cannot reliably tell the helper's entries from others' (pid
 * namespaces, several procfs mounts, task/ directories), and no server
 * needs a procfs file from its command line.
 */
#pragma once

#include <cstdint>
#include <string>

#include "core/result.h"
#include "core/unique_fd.h"
#include "util/privileges.h"

namespace fsvc::helper
{

/* The kinds of file OPEN hands out; BDEV takes block devices only. */
enum class OpenKind { File, BlockDevice };

/*
 * Open path for the server with the caller's rights. -errno on failure;
 * when the helper itself refused the file, *refusal says why (for the
 * message): -EINVAL for a type OPEN never hands out (FIFO, socket,
 * character device), -EPERM for a file in procfs. -ENOTBLK for BDEV of
 * anything but a block device.
 */
Result<UniqueFD> open_for_server(const Caller &caller, const std::string &path, uint32_t flags,
				 uint32_t mode, OpenKind kind, const char **refusal);

} // namespace fsvc::helper
