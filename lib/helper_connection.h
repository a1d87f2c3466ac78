/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The server's side of the conversation with the helper: the hello, the
 * two files every conversation starts with, and the request/reply
 * exchanges behind the C API's calls. Every function logs what went wrong
 * and returns 0 or a negative errno.
 */
#pragma once

#include <span>
#include <string_view>
#include <sys/types.h>

#include "core/protocol.h"
#include "lib/context.h"

namespace fsvc
{

int negotiate_hello(fuse_service &sf);

/* Hello, then the two files every conversation starts with: argv and fusedev. */
int open_conversation(fuse_service &sf);

/* send_packet() on the context's socket; a helper that hung up is -ECONNRESET
 * whether we notice it while sending (EPIPE) or while receiving. */
int send_to_helper(const fuse_service &sf, std::span<const std::byte> bytes);

/* Send a command and wait for its SIMPLE_REPLY: 0, the helper's refusal as a
 * negative errno, or a socket/protocol failure. `what` names it in messages. */
int send_command(const fuse_service &sf, const char *what, const proto::Command &cmd);

int request_path(const fuse_service &sf, std::string_view path, bool blockdev, int open_flags,
		 mode_t create_mode, unsigned int request_flags, unsigned int block_size);
int receive_file(const fuse_service &sf, std::string_view path, int *fdp);

} // namespace fsvc
