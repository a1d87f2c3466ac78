/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "lib/service_context.h"

#include "lib/activation.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <mutex>
#include <sys/socket.h>

#include <fuse_log.h>
#include <fuse_opt.h>

namespace fsvc
{

void log_error(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	std::vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fuse_log(FUSE_LOG_ERR, "fuse: %s\n", line);
}

Result<UniqueFD> take_activation_socket(int nfds)
{
	if (nfds != 1) {
		log_error("can only handle 1 service socket, got %d", nfds);
		return Error{-E2BIG};
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

int negotiate_hello(fuse_service &sf)
{
	auto pkt = recv_packet(sf.sock.get(), FdPolicy::Refuse);
	if (!pkt) {
		log_error("receive service hello: %s", std::strerror(-pkt.error()));
		return pkt.error();
	}
	auto hello = proto::decode_hello(pkt->data);
	if (!hello) {
		switch (hello.error()) {
		case -EOPNOTSUPP:
			log_error("no service protocol version in common with the helper "
				  "(we speak %u to %u)",
				  proto::kMinProtoVersion, proto::kMaxProtoVersion);
			break;
		case -EINVAL:
			log_error("invalid service hello flags");
			break;
		default:
			log_error("malformed service hello (%zu bytes, magic %s)", pkt->data.size(),
				  proto::magic_name(proto::packet_magic(pkt->data)).c_str());
		}
		return hello.error();
	}
	sf.allow_other = hello->flags & proto::kHelloAllowOther;
	sf.can_fuseblk = hello->flags & proto::kHelloFuseblk;

	int r = send_to_helper(sf, proto::encode(proto::HelloReply{}));
	if (r < 0)
		log_error("service hello reply: %s", std::strerror(-r));
	return r;
}

namespace
{
/* A file the helper must send: its refusal is as fatal as a protocol error. */
Result<UniqueFD> receive_required_file(const fuse_service &sf, std::string_view name,
				       const char *what)
{
	int fd = -1;
	int r = receive_file(sf, name, &fd);
	if (r < 0)
		return Error{r};
	if (fd < 0) {
		log_error("%s: %s", what, std::strerror(-fd));
		return Error{fd};
	}
	return UniqueFD(fd);
}
} // namespace

int open_conversation(fuse_service &sf)
{
	if (int r = negotiate_hello(sf); r < 0)
		return r;
	auto argv = receive_required_file(sf, proto::kArgvFileName, "service mount options file");
	if (!argv)
		return argv.error();
	auto fusedev = receive_required_file(sf, proto::kFusedevFileName, "service fuse device");
	if (!fusedev)
		return fusedev.error();
	sf.argv_fd = std::move(*argv);
	sf.fusedev = std::move(*fusedev);
	return 0;
}

int send_to_helper(const fuse_service &sf, std::span<const std::byte> bytes)
{
	int r = send_packet(sf.sock.get(), bytes);
	return r == -EPIPE ? -ECONNRESET : r;
}

int send_command(const fuse_service &sf, const char *what, const proto::Command &cmd)
{
	proto::Bytes bytes = proto::encode(cmd);
	if (bytes.empty()) {
		log_error("service %s command cannot be encoded (empty or too long)", what);
		return -EINVAL;
	}
	int r = send_to_helper(sf, bytes);
	if (r < 0) {
		log_error("send service %s command: %s", what, std::strerror(-r));
		return r;
	}
	auto pkt = recv_packet(sf.sock.get(), FdPolicy::Refuse);
	if (!pkt) {
		log_error("service %s reply: %s", what, std::strerror(-pkt.error()));
		return pkt.error();
	}
	auto reply = proto::decode_simple_reply(pkt->data);
	if (!reply) {
		log_error("malformed service %s reply (%zu bytes, magic %s)", what,
			  pkt->data.size(),
			  proto::magic_name(proto::packet_magic(pkt->data)).c_str());
		return reply.error();
	}
	if (reply->error != 0) {
		log_error("service %s: %s", what, std::strerror(static_cast<int>(reply->error)));
		/* Not an errno we could hand on: the helper broke the protocol. */
		return reply->error > 4095 ? -EPROTO : -static_cast<int>(reply->error);
	}
	return 0;
}

int request_path(const fuse_service &sf, std::string_view path, bool blockdev, int open_flags,
		 mode_t create_mode, unsigned int request_flags, unsigned int block_size)
{
	if (request_flags & ~proto::kOpenKnownFlags) {
		log_error("invalid service file request flags 0x%x", request_flags);
		return -EINVAL;
	}
	if (path.empty() || path.find('\0') != std::string_view::npos) {
		log_error("service file request needs a path");
		return -EINVAL;
	}
	if (path.size() >= PATH_MAX)
		return -ENAMETOOLONG;

	proto::OpenCommand cmd;
	cmd.blockdev = blockdev;
	cmd.open_flags = static_cast<uint32_t>(open_flags);
	cmd.create_mode = static_cast<uint32_t>(create_mode);
	cmd.request_flags = request_flags;
	cmd.block_size = blockdev ? block_size : 0;
	cmd.path = std::string(path);
	int r = send_to_helper(sf, proto::encode(cmd));
	if (r < 0)
		log_error("request service file: %s", std::strerror(-r));
	return r;
}

int receive_file(const fuse_service &sf, std::string_view path, int *fdp)
{
	auto pkt = recv_packet(sf.sock.get(), FdPolicy::AcceptOne);
	if (!pkt) {
		if (pkt.error() == -EBADMSG)
			log_error("service file reply control data rejected; "
				  "more than one fd, or did an LSM deny SCM_RIGHTS?");
		else
			log_error("service file reply: %s", std::strerror(-pkt.error()));
		return pkt.error();
	}
	auto reply = proto::decode_open_reply(pkt->data);
	if (!reply) {
		log_error("malformed service file reply (%zu bytes, magic %s)", pkt->data.size(),
			  proto::magic_name(proto::packet_magic(pkt->data)).c_str());
		return reply.error();
	}
	if (reply->path != path) {
		log_error("'%.*s': not the requested service file, got '%s'",
			  static_cast<int>(path.size()), path.data(), reply->path.c_str());
		return -EBADMSG;
	}
	if (reply->error != 0) {
		if (pkt->fd.isValid()) {
			log_error("'%s': service file refusal came with an fd",
				  reply->path.c_str());
			return -EBADMSG;
		}
		if (reply->error > 4095) {
			log_error("'%s': service file refusal with bogus errno %u",
				  reply->path.c_str(), reply->error);
			return -EBADMSG;
		}
		*fdp = -static_cast<int>(reply->error);
		return 0;
	}
	if (!pkt->fd.isValid()) {
		log_error("'%s': service file reply without an fd", reply->path.c_str());
		return -EBADMSG;
	}
	*fdp = pkt->fd.release();
	return 0;
}

void record_args(fuse_service &sf, const fuse_args &args)
{
	sf.args_seen_at = &args;
	sf.seen_args.clear();
	for (int i = 0; i < args.argc; i++)
		sf.seen_args.emplace_back(args.argv[i] ? args.argv[i] : "");
}

namespace
{
std::mutex registry_lock;
std::vector<fuse_service *> &registry()
{
	static std::vector<fuse_service *> contexts;
	return contexts;
}
} // namespace

void register_context(fuse_service *sf)
{
	std::lock_guard lock(registry_lock);
	registry().push_back(sf);
}

void unregister_context(fuse_service *sf)
{
	std::lock_guard lock(registry_lock);
	auto &r = registry();
	r.erase(std::remove(r.begin(), r.end(), sf), r.end());
}

void record_args_for(const fuse_args &args)
{
	std::lock_guard lock(registry_lock);
	for (fuse_service *sf : registry())
		if (sf->args_seen_at == &args)
			record_args(*sf, args);
}

} // namespace fsvc
