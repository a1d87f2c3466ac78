/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Packets over AF_UNIX SOCK_SEQPACKET: one message per packet, sent with
 * MSG_EOR | MSG_NOSIGNAL, at most one fd attached by SCM_RIGHTS.
 *
 * Receiving follows systemd's recvmsg_safe()/cmsg_close_all() discipline:
 * every fd the kernel installs is owned by a UniqueFD at once, so no error
 * path can leak one.
 */
#pragma once

#include <span>

#include "core/protocol.h"
#include "core/result.h"
#include "core/unique_fd.h"

namespace fsvc
{

/* SO_PASSRIGHTS (Linux 6.16) is missing from older libc headers. */
#ifndef SO_PASSRIGHTS
#define SO_PASSRIGHTS 83
#endif

struct Packet {
	proto::Bytes data;
	UniqueFD fd; /* valid only if the sender attached one */
};

enum class FdPolicy {
	Refuse,    /* no control buffer: an attached fd is never installed, -EBADMSG */
	AcceptOne, /* room for exactly one fd; anything else is -EBADMSG */
};

/*
 * Send one packet, optionally with one fd. Returns 0, or a negative errno
 * (-EMSGSIZE for an empty or oversized packet, -EIO for a short send).
 */
int send_packet(int sock, std::span<const std::byte> data, int fd = -1) noexcept;

/*
 * Receive one packet. The size is peeked first (MSG_PEEK | MSG_TRUNC) so the
 * buffer is exactly the packet. timeout_ms < 0 waits forever.
 *
 * Errors: -ECONNRESET when the peer hung up (a zero-length read),
 * -ETIMEDOUT when nothing arrived in time, -EMSGSIZE for a packet over
 * proto::kMaxPacketSize (which is consumed and dropped), -EBADMSG for
 * truncated or unexpected control data (any fd that came with it is
 * closed), or the errno of the failing system call.
 */
Result<Packet> recv_packet(int sock, FdPolicy policy, int timeout_ms = -1) noexcept;

/*
 * Is the socket's send buffer large enough for an OPEN carrying a PATH_MAX
 * path? Both sides check this before talking.
 */
bool sendbuf_big_enough(int sock, int *size_out = nullptr) noexcept;

} // namespace fsvc
