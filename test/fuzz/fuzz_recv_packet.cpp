/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Both sides: recv_packet, the one place packets (and the fds riding on them)
 * come off the socket. The first input byte picks the receiver's fd policy,
 * whether an fd (or two) rides along and whether the packet is blown up past
 * the size cap; the rest is the packet. The oracle: every outcome is the
 * documented one, and no fd is ever left behind by a refusal.
 */
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

#include "core/packet_io.h"
#include "fuzz_check.h"

using namespace fsvc;

namespace
{

struct Pair {
	int a = -1, b = -1;
};

Pair &sockets()
{
	static Pair p = [] {
		int sv[2];
		FUZZ_CHECK(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0);
		int big = 4 * 1024 * 1024;
		(void)::setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
		(void)::setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
		return Pair{sv[0], sv[1]};
	}();
	return p;
}

/* The lowest free fd number: a leaked fd would take it. */
int lowest_free_fd()
{
	int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
	FUZZ_CHECK(fd >= 0);
	::close(fd);
	return fd;
}

/* sendmsg with 0, 1 or 2 fds; the sender side is not the code under test. */
void raw_send(int sock, const std::vector<std::byte> &data, int nfds)
{
	iovec iov{const_cast<std::byte *>(data.data()), data.size()};
	msghdr msg{};
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	alignas(cmsghdr) char control[CMSG_SPACE(2 * sizeof(int))] = {};
	if (nfds > 0) {
		int fds[2] = {STDIN_FILENO, STDERR_FILENO};
		msg.msg_control = control;
		msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		std::memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	}
	FUZZ_CHECK(::sendmsg(sock, &msg, MSG_EOR | MSG_NOSIGNAL) ==
		   static_cast<ssize_t>(data.size()));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	const uint8_t mode = data[0];
	const auto policy = (mode & 1) ? FdPolicy::AcceptOne : FdPolicy::Refuse;
	const int nfds = (mode >> 1) & 3; /* 3 means 0 */
	const bool oversize = mode & 8;
	const int sent_fds = nfds == 3 ? 0 : nfds;

	std::vector<std::byte> pkt(reinterpret_cast<const std::byte *>(data + 1),
				   reinterpret_cast<const std::byte *>(data + size));
	if (oversize)
		pkt.resize(proto::kMaxPacketSize + 1 + pkt.size(), std::byte{0x5a});

	const Pair &sp = sockets(); /* created before counting fds */
	const int before = lowest_free_fd();
	raw_send(sp.a, pkt, sent_fds);
	{
		auto got = recv_packet(sp.b, policy, 1000);
		if (pkt.empty()) {
			/* Indistinguishable from a hang-up; the caller drops the
			 * connection. Left queued, so take it off here. */
			FUZZ_CHECK(got.error() == -ECONNRESET);
			char none;
			FUZZ_CHECK(::recv(sp.b, &none, 1, MSG_DONTWAIT) == 0);
		} else if (oversize) {
			FUZZ_CHECK(got.error() == -EMSGSIZE);
		} else if (sent_fds == 0) {
			FUZZ_CHECK(got.ok() && got->data == pkt && !got->fd.isValid());
		} else if (sent_fds == 1 && policy == FdPolicy::AcceptOne) {
			FUZZ_CHECK(got.ok() && got->data == pkt && got->fd.isValid());
			FUZZ_CHECK(::fcntl(got->fd.get(), F_GETFD) == FD_CLOEXEC);
		} else {
			FUZZ_CHECK(got.error() == -EBADMSG);
		}
	}
	/* Nothing left queued, nothing left open. */
	char probe;
	FUZZ_CHECK(::recv(sp.b, &probe, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN);
	FUZZ_CHECK(lowest_free_fd() == before);
	return 0;
}
