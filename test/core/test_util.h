/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Small helpers shared by the core and lib test suites: hand-written byte
 * vectors, real SEQPACKET socket pairs, and an fd census of the process so
 * every test can prove it leaked nothing.
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <dirent.h>
#include <fcntl.h>
#include <initializer_list>
#include <set>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <unistd.h>
#include <utility>
#include <vector>

#include "core/protocol.h"
#include "core/unique_fd.h"

namespace fsvc::test
{

using proto::Bytes;

/* Bytes from small integers: B({0x53, 0x41, ...}). */
inline Bytes B(std::initializer_list<int> v)
{
	Bytes out;
	for (int x : v)
		out.push_back(static_cast<std::byte>(x));
	return out;
}

/* The bytes of a string, optionally followed by its NUL. */
inline Bytes S(std::string_view s, bool nul = true)
{
	Bytes out;
	for (char c : s)
		out.push_back(static_cast<std::byte>(c));
	if (nul)
		out.push_back(std::byte{0});
	return out;
}

inline Bytes operator+(Bytes a, const Bytes &b)
{
	a.insert(a.end(), b.begin(), b.end());
	return a;
}

/* Big-endian fields written out by hand, independent of the encoder. */
inline Bytes be32(uint32_t v)
{
	return B({static_cast<int>(v >> 24), static_cast<int>((v >> 16) & 0xff),
		  static_cast<int>((v >> 8) & 0xff), static_cast<int>(v & 0xff)});
}
inline Bytes be16(uint16_t v)
{
	return B({v >> 8, v & 0xff});
}

/* The set of fds open in this process, from /proc/self/fd. */
inline std::set<int> open_fds()
{
	std::set<int> fds;
	DIR *d = ::opendir("/proc/self/fd");
	if (!d)
		return fds;
	const int self = ::dirfd(d);
	while (dirent *e = ::readdir(d)) {
		if (e->d_name[0] == '.')
			continue;
		int fd = std::stoi(e->d_name);
		if (fd != self)
			fds.insert(fd);
	}
	::closedir(d);
	return fds;
}

inline bool fd_is_open(int fd)
{
	return ::fcntl(fd, F_GETFD) >= 0;
}

struct SocketPair {
	UniqueFD a;
	UniqueFD b;
};

/* A connected AF_UNIX SOCK_SEQPACKET pair (CLOEXEC, like the real ones). */
inline SocketPair seqpacket_pair()
{
	int sv[2] = {-1, -1};
	if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return {};
	return {UniqueFD(sv[0]), UniqueFD(sv[1])};
}

/* Send raw bytes with up to two fds attached, bypassing send_packet's checks. */
inline ssize_t send_raw(int sock, const Bytes &data, std::vector<int> fds = {})
{
	iovec iov{const_cast<std::byte *>(data.data()), data.size()};
	msghdr msg{};
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	alignas(cmsghdr) char control[CMSG_SPACE(4 * sizeof(int))] = {};
	if (!fds.empty()) {
		msg.msg_control = control;
		msg.msg_controllen = CMSG_SPACE(fds.size() * sizeof(int));
		cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(fds.size() * sizeof(int));
		for (size_t i = 0; i < fds.size(); i++)
			__builtin_memcpy(CMSG_DATA(c) + i * sizeof(int), &fds[i], sizeof(int));
	}
	return ::sendmsg(sock, &msg, MSG_EOR | MSG_NOSIGNAL);
}

/* Receive one raw packet (no fds expected); empty on error or hang-up. */
inline Bytes recv_raw(int sock)
{
	Bytes buf(70000);
	ssize_t n = ::recv(sock, buf.data(), buf.size(), MSG_DONTWAIT);
	if (n <= 0)
		return {};
	buf.resize(static_cast<size_t>(n));
	return buf;
}

} // namespace fsvc::test
