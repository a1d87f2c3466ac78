/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "util/service_socket.h"

#include <cerrno>
#include <climits>
#include <cstring>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/packet_io.h"
#include "util/messages.h"
#include "util/paths.h"

namespace fsvc::helper
{

std::optional<std::string> service_socket_path(const std::string &subtype)
{
	std::string path = std::string(kSocketDir) + "/" + subtype;
	if (path.size() >= sizeof(sockaddr_un{}.sun_path))
		return std::nullopt;
	return path;
}

bool service_available(const Caller &caller, const std::string &subtype)
{
	auto path = service_socket_path(subtype);
	if (!path)
		return false;
	AsCaller as(caller);
	struct stat st;
	if (stat(path->c_str(), &st) < 0 || !S_ISSOCK(st.st_mode))
		return false;
	/* Real ids, like the connect() that would follow. */
	return faccessat(AT_FDCWD, path->c_str(), W_OK, 0) == 0;
}

Result<UniqueFD> connect_service(const Caller &caller, const std::string &subtype, int timeout_ms)
{
	auto path = service_socket_path(subtype);
	if (!path) {
		say("filesystem type name `%s' is too long", printable(subtype).c_str());
		return Error{-ENAMETOOLONG};
	}
	UniqueFD sock(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
	if (!sock.isValid()) {
		int err = errno;
		say("opening %s service socket: %s", printable(subtype).c_str(), errstr(err));
		return Error{-err};
	}
	int sndbuf = -1;
	if (!sendbuf_big_enough(sock.get(), &sndbuf)) {
		say("max socket send buffer is %d, need at least %zu", sndbuf,
		    proto::kOpenCmdHead + PATH_MAX + 1);
		return Error{-ENOBUFS};
	}
	/* A server that stops reading must not block a send forever either. */
	timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
	(void)setsockopt(sock.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));

	sockaddr_un addr{};
	addr.sun_family = AF_UNIX;
	std::memcpy(addr.sun_path, path->c_str(), path->size() + 1);
	int r;
	int err = 0;
	{
		AsCaller as(caller);
		do {
			r = connect(sock.get(), reinterpret_cast<const sockaddr *>(&addr),
				    sizeof(addr));
		} while (r < 0 && errno == EINTR);
		if (r < 0)
			err = errno;
	}
	if (r < 0) {
		if (err == ENOENT || err == ECONNREFUSED)
			say("no safe filesystem driver for %s available",
			    printable(subtype).c_str());
		else
			say("%s: %s", printable(*path).c_str(), errstr(err));
		return Error{-err};
	}

	int zero = 0;
	if (setsockopt(sock.get(), SOL_SOCKET, SO_PASSRIGHTS, &zero, sizeof(zero)) < 0 &&
	    errno != ENOPROTOOPT) {
		/* Older kernels lack the option; receiving with FdPolicy::Refuse covers them. */
		err = errno;
		say("disabling fd passing: %s", errstr(err));
		return Error{-err};
	}
	return sock;
}

} // namespace fsvc::helper
