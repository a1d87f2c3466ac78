/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "core/packet_io.h"

#include <cerrno>
#include <climits>
#include <cstring>
#include <poll.h>
#include <sys/socket.h>
#include <vector>

namespace fsvc
{

namespace
{

/* Take ownership of every fd in every SCM_RIGHTS message. */
std::vector<UniqueFD> collect_fds(msghdr &msg)
{
	std::vector<UniqueFD> fds;
	for (cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		if (c->cmsg_len < CMSG_LEN(0))
			continue;
		const size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;
			std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (fd >= 0)
				fds.emplace_back(fd);
		}
	}
	return fds;
}

/* Is this exactly one SCM_RIGHTS message carrying exactly one fd? */
bool exactly_one_fd(msghdr &msg)
{
	cmsghdr *c = CMSG_FIRSTHDR(&msg);
	if (!c || CMSG_NXTHDR(&msg, c))
		return false;
	return c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
	       c->cmsg_len == CMSG_LEN(sizeof(int));
}

int wait_readable(int sock, int timeout_ms)
{
	if (timeout_ms < 0)
		return 0;
	pollfd pfd{sock, POLLIN, 0};
	for (;;) {
		int r = ::poll(&pfd, 1, timeout_ms);
		if (r > 0)
			return 0;
		if (r == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

ssize_t recvmsg_retry(int sock, msghdr *msg, int flags)
{
	ssize_t n;
	do {
		n = ::recvmsg(sock, msg, flags);
	} while (n < 0 && errno == EINTR);
	return n;
}

} // namespace

int send_packet(int sock, std::span<const std::byte> data, int fd) noexcept
{
	if (data.empty() || data.size() > proto::kMaxPacketSize)
		return -EMSGSIZE;

	iovec iov{const_cast<std::byte *>(data.data()), data.size()};
	msghdr msg{};
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;

	alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
	if (fd >= 0) {
		msg.msg_control = control;
		msg.msg_controllen = sizeof(control);
		cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}

	ssize_t n;
	do {
		n = ::sendmsg(sock, &msg, MSG_EOR | MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (static_cast<size_t>(n) != data.size())
		return -EIO;
	return 0;
}

Result<Packet> recv_packet(int sock, FdPolicy policy, int timeout_ms) noexcept
{
	if (int r = wait_readable(sock, timeout_ms); r < 0)
		return Error{r};

	/* Peek the real size of the next packet without consuming it. */
	char probe;
	iovec piov{&probe, 1};
	msghdr peek{};
	peek.msg_iov = &piov;
	peek.msg_iovlen = 1;
	ssize_t size = recvmsg_retry(sock, &peek, MSG_PEEK | MSG_TRUNC);
	if (size < 0)
		return Error{-errno};
	if (size == 0)
		return Error{-ECONNRESET};

	const bool too_big = static_cast<size_t>(size) > proto::kMaxPacketSize;
	Packet pkt;
	/* An oversized packet is still consumed (1 byte is enough) and dropped. */
	pkt.data.resize(too_big ? 1 : static_cast<size_t>(size));

	iovec iov{pkt.data.data(), pkt.data.size()};
	alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
	msghdr msg{};
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (policy == FdPolicy::AcceptOne) {
		/* Room for exactly one fd: no padding that a second fd could use. */
		msg.msg_control = control;
		msg.msg_controllen = CMSG_LEN(sizeof(int));
	}

	ssize_t n = recvmsg_retry(sock, &msg, MSG_TRUNC | MSG_CMSG_CLOEXEC);
	if (n < 0)
		return Error{-errno};

	/* Own whatever the kernel installed before looking at anything else. */
	std::vector<UniqueFD> fds = collect_fds(msg);

	if (too_big)
		return Error{-EMSGSIZE};
	if (n == 0)
		return Error{-ECONNRESET};
	if (n != size || (msg.msg_flags & MSG_TRUNC))
		return Error{-EBADMSG};
	/* MSG_CTRUNC: more control data than we allow, or an LSM refused the fd. */
	if (msg.msg_flags & MSG_CTRUNC)
		return Error{-EBADMSG};
	if (msg.msg_controllen > 0) {
		if (policy != FdPolicy::AcceptOne || !exactly_one_fd(msg) || fds.size() != 1)
			return Error{-EBADMSG};
		pkt.fd = std::move(fds.front());
	}
	return pkt;
}

bool sendbuf_big_enough(int sock, int *size_out) noexcept
{
	int size = -1;
	socklen_t len = sizeof(size);
	if (::getsockopt(sock, SOL_SOCKET, SO_SNDBUF, &size, &len) < 0 || size < 0) {
		/* Unknown: let the send itself fail if it must. */
		if (size_out)
			*size_out = -1;
		return true;
	}
	if (size_out)
		*size_out = size;
	return static_cast<size_t>(size) >= proto::kOpenCmdHead + PATH_MAX + 1;
}

} // namespace fsvc
