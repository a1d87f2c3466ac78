/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Socket activation without libsystemd. Linking libsystemd costs every
 * contained server ~0.6 ms of start-up (it brings libgcrypt, liblzma,
 * libzstd, liblz4 and libcap) for two small functions; these keep the exact
 * semantics of sd_listen_fds() and of the sd_is_socket*() checks we made.
 * test/lib/activation_test.cpp compares them with libsystemd's.
 */
#pragma once

namespace fsvc
{

/* The first passed fd, as SD_LISTEN_FDS_START. */
inline constexpr int kListenFdsStart = 3;

/*
 * As sd_listen_fds(unset): 0 when LISTEN_PID is unset or not our pid, or
 * LISTEN_FDS is unset; the count of passed fds (which are made close-on-exec)
 * otherwise; a negative errno for a malformed LISTEN_PID or LISTEN_FDS, a
 * count <= 0, or an fd that is not open. With unset, LISTEN_PID, LISTEN_FDS
 * and LISTEN_FDNAMES are removed from the environment in every case.
 * LISTEN_FDNAMES is otherwise ignored.
 */
int listen_fds(bool unset);

/* What kind of socket fd is, for the activation checks. */
enum class SocketKind {
	NotSocket,          /* not a socket (or fstat failed) */
	NotUnix,            /* a socket, not AF_UNIX */
	NotConnectedPacket, /* AF_UNIX, but not SOCK_SEQPACKET, or listening */
	ConnectedPacket,    /* a connected (non-listening) AF_UNIX SOCK_SEQPACKET socket */
};
SocketKind socket_kind(int fd);

} // namespace fsvc
