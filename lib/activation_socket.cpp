/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "lib/activation_socket.h"

#include <cerrno>
#include <climits>
#include <cstring>
#include <fcntl.h>

#include "core/packet_io.h"
#include "core/protocol.h"
#include "lib/activation.h"
#include "lib/log.h"

namespace fsvc
{

Result<UniqueFD> take_activation_socket(int nfds)
{
	if (nfds != 1) {
		log_error("can only handle 1 service socket, got %d", nfds);
		return Error{err::kOverLimit};
	}
	const int fd = kListenFdsStart;
	const SocketKind kind = socket_kind(fd);
	if (kind == SocketKind::NotSocket) {
		log_error("service fd %d is not a socket", fd);
		return Error{-ENOTSOCK};
	}
	if (kind == SocketKind::NotUnix) {
		log_error("service socket is not AF_UNIX");
		return Error{-EAFNOSUPPORT};
	}
	if (kind != SocketKind::ConnectedPacket) {
		log_error("service socket is not a connected SOCK_SEQPACKET socket "
			  "(the socket unit needs ListenSequentialPacket= and Accept=yes)");
		return Error{-ESOCKTNOSUPPORT};
	}
	/* Until every check passed, fd 3 stays the caller's: not closed on failure. */
	int flags = ::fcntl(fd, F_GETFD);
	if (flags < 0 || ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0) {
		int err = errno;
		log_error("service socket set cloexec: %s", std::strerror(err));
		return Error{-err};
	}
	int size;
	if (!sendbuf_big_enough(fd, &size)) {
		log_error("max socket send buffer is %d, need at least %zu", size,
			  proto::kOpenCmdHead + PATH_MAX + 1);
		return Error{-ENOBUFS};
	}
	return UniqueFD(fd);
}

} // namespace fsvc
