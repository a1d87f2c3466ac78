/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The one way the helper opens a file for the server (OPEN and BDEV): as the
 * caller (see privileges.h), and without ever blocking. The open itself is
 * done with O_NONBLOCK | O_NOCTTY, so a FIFO or a device cannot hold the
 * helper past its deadline; the type is checked on the descriptor (a
 * regular file, a directory or a block device for OPEN, a block device for
 * BDEV); only then is O_NONBLOCK cleared again, unless the server asked for
 * it.
 */
#pragma once

#include <cstdint>
#include <string>

#include "privileges.h"
#include "result.h"
#include "unique_fd.h"

namespace fsvc::helper
{

/* The kinds of file OPEN hands out; BDEV takes block devices only. */
enum class OpenKind { File, BlockDevice };

/*
 * Open path for the server with the caller's rights. -errno on failure:
 * -EINVAL for a type OPEN never hands out (FIFO, socket, character device),
 * -ENOTBLK for BDEV of anything but a block device.
 */
Result<UniqueFD> open_for_server(const Caller &caller, const std::string &path, uint32_t flags,
				 uint32_t mode, OpenKind kind);

} // namespace fsvc::helper
