/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "lib/helper_connection.h"

#include <cerrno>
#include <climits>
#include <cstring>

#include "core/packet_io.h"
#include "lib/log.h"

namespace fsvc
{

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
		case err::kNoCommonVersion:
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
	return r == -EPIPE ? err::kHungUp : r;
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
		return reply->error > 4095 ? err::kProtocol : -static_cast<int>(reply->error);
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
		if (pkt.error() == err::kProtocol)
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
		return err::kProtocol;
	}
	if (reply->error != 0) {
		if (pkt->fd.isValid()) {
			log_error("'%s': service file refusal came with an fd",
				  reply->path.c_str());
			return err::kProtocol;
		}
		if (reply->error > 4095) {
			log_error("'%s': service file refusal with bogus errno %u",
				  reply->path.c_str(), reply->error);
			return err::kProtocol;
		}
		*fdp = -static_cast<int>(reply->error);
		return 0;
	}
	if (!pkt->fd.isValid()) {
		log_error("'%s': service file reply without an fd", reply->path.c_str());
		return err::kProtocol;
	}
	*fdp = pkt->fd.release();
	return 0;
}

} // namespace fsvc
