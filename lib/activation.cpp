/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "lib/activation.h"

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fsvc
{

namespace
{

/* systemd's number syntax: strtol's base 0 (0x hex, 0 octal), plus 0b and 0o. */
const char *number_base(const char *s, int *base)
{
	if (s[0] == '0' && (s[1] == 'b' || s[1] == 'B')) {
		*base = 2;
		return s + 2;
	}
	if (s[0] == '0' && (s[1] == 'o' || s[1] == 'O')) {
		*base = 8;
		return s + 2;
	}
	*base = 0;
	return s;
}

/* As systemd's safe_atoi (LISTEN_FDS): the whole string, in int range. */
int parse_int(const char *s, long *out)
{
	int base;
	s = number_base(s, &base);
	char *end = nullptr;
	errno = 0;
	long v = std::strtol(s, &end, base);
	if (errno > 0)
		return -errno;
	if (!end || end == s || *end != '\0')
		return -EINVAL;
	if (v < INT_MIN || v > INT_MAX)
		return -ERANGE;
	*out = v;
	return 0;
}

/* As systemd's parse_pid (LISTEN_PID): unsigned syntax, a positive pid_t. */
int parse_pid(const char *s, long *out)
{
	s += std::strspn(s, " \t\n\r");
	int base;
	s = number_base(s, &base);
	char *end = nullptr;
	errno = 0;
	unsigned long v = std::strtoul(s, &end, base);
	if (errno > 0)
		return -errno;
	if (!end || end == s || *end != '\0')
		return -EINVAL;
	if (v != 0 && s[0] == '-')
		return -ERANGE;
	if (v == 0 || v > INT_MAX)
		return -ERANGE;
	*out = static_cast<long>(v);
	return 0;
}

int listen_fds_env()
{
	const char *e = std::getenv("LISTEN_PID");
	if (!e)
		return 0;
	long pid;
	if (int r = parse_pid(e, &pid); r < 0)
		return r;
	if (pid != ::getpid())
		return 0;
	e = std::getenv("LISTEN_FDS");
	if (!e)
		return 0;
	long n;
	if (int r = parse_int(e, &n); r < 0)
		return r;
	if (n <= 0 || n > INT_MAX - kListenFdsStart)
		return -EINVAL;
	/* As sd_listen_fds: the passed fds must not leak into what we exec. */
	for (int fd = kListenFdsStart; fd < kListenFdsStart + n; fd++) {
		int flags = ::fcntl(fd, F_GETFD);
		if (flags < 0)
			return -errno;
		if (!(flags & FD_CLOEXEC) && ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0)
			return -errno;
	}
	return static_cast<int>(n);
}

} // namespace

int listen_fds(bool unset)
{
	int r = listen_fds_env();
	if (unset) {
		::unsetenv("LISTEN_PID");
		::unsetenv("LISTEN_FDS");
		::unsetenv("LISTEN_FDNAMES");
	}
	return r;
}

SocketKind socket_kind(int fd)
{
	struct stat st;
	if (::fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
		return SocketKind::NotSocket;
	sockaddr_storage addr{};
	socklen_t len = sizeof(addr);
	if (::getsockname(fd, reinterpret_cast<sockaddr *>(&addr), &len) < 0 ||
	    len < sizeof(sa_family_t) || addr.ss_family != AF_UNIX)
		return SocketKind::NotUnix;
	int type = 0, accepting = 0;
	socklen_t l = sizeof(type);
	if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l) < 0 || l != sizeof(type) ||
	    type != SOCK_SEQPACKET)
		return SocketKind::NotConnectedPacket;
	l = sizeof(accepting);
	if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &l) < 0 ||
	    l != sizeof(accepting) || accepting != 0)
		return SocketKind::NotConnectedPacket;
	return SocketKind::ConnectedPacket;
}

} // namespace fsvc
