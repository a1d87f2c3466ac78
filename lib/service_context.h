/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The service context behind the opaque `struct fuse_service`, and the
 * conversation with the helper. service.cpp is the C boundary; everything
 * here is C++ and returns errors as values.
 */
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

#include "core/packet_io.h"
#include "core/protocol.h"
#include "core/result.h"
#include "core/unique_fd.h"

struct fuse_args;

/* Only the public C API is exported (see also fuse_service.map). */
#define FUSE_SERVICE_EXPORT __attribute__((visibility("default")))

struct fuse_service {
	fsvc::UniqueFD sock;
	fsvc::UniqueFD argv_fd;
	fsvc::UniqueFD fusedev;
	bool allow_other = false;
	bool can_fuseblk = false;
	mode_t expected_fmt = 0;
	/* The fuse_args the command line was appended to, to recognise it later. */
	const fuse_args *args_seen_at = nullptr;
	/* Arguments as last seen, from which the mount request is computed. */
	std::vector<std::string> seen_args;
};

namespace fsvc
{

/* Log one line through fuse_log, prefixed "fuse: ". */
[[gnu::format(printf, 1, 2)]] void log_error(const char *fmt, ...);

/* Check and take the one socket-activated connection (nfds from sd_listen_fds). */
Result<UniqueFD> take_activation_socket(int nfds);

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

/* Remember the arguments a fuse_args currently holds for the mount request. */
void record_args(fuse_service &sf, const fuse_args &args);

/* Contexts are registered so fuse_service_parse_cmdline_opts(), which is not
 * given one, can record the final arguments on the right context. */
void register_context(fuse_service *sf);
void unregister_context(fuse_service *sf);
void record_args_for(const fuse_args &args);

} // namespace fsvc
