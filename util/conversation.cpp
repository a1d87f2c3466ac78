/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "util/conversation.h"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <linux/fs.h>
#include <string_view>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include "core/argv_memfd.h"
#include "core/packet_io.h"
#include "util/argument_policy.h"
#include "util/caller_open.h"
#include "util/messages.h"
#include "util/mount_options.h"
#include "util/paths.h"

namespace fsvc::helper
{

namespace
{

std::string magic_text(uint32_t magic)
{
	return proto::magic_name(magic);
}

const char *command_name(uint32_t magic)
{
	switch (magic) {
	case proto::kOpenCmd:
		return "open";
	case proto::kOpenBdevCmd:
		return "open block device";
	case proto::kFsopenCmd:
		return "fsopen";
	case proto::kSourceCmd:
		return "mount source";
	case proto::kMntOptsCmd:
		return "mount options";
	case proto::kMtabOptsCmd:
		return "mtab options";
	case proto::kMountpointCmd:
		return "mount point";
	case proto::kMountCmd:
		return "mount";
	case proto::kByeCmd:
		return "bye";
	default:
		return "unknown";
	}
}

} // namespace

Conversation::Conversation(const Caller &caller, const FuseConf &conf, const Options &opts,
			   UniqueFD sock)
    : caller_(caller), conf_(conf), opts_(opts), sock_(std::move(sock)),
      deadline_(std::chrono::steady_clock::now() + std::chrono::milliseconds(opts.deadline_ms()))
{
}

Result<Packet> Conversation::receive()
{
	/* The silence timeout alone would let a chatty server keep us forever. */
	const auto left = std::chrono::ceil<std::chrono::milliseconds>(
			      deadline_ - std::chrono::steady_clock::now())
			      .count();
	if (left <= 0)
		return Error{-ETIME};
	if (left > opts_.timeout_ms)
		return recv_packet(sock_.get(), FdPolicy::Refuse, opts_.timeout_ms);
	auto pkt = recv_packet(sock_.get(), FdPolicy::Refuse, static_cast<int>(left));
	/* -ETIME: it was the overall deadline, not the silence, that ran out. */
	if (!pkt && pkt.error() == -ETIMEDOUT)
		return Error{-ETIME};
	return pkt;
}

Conversation::~Conversation()
{
	if (sock_.isValid())
		::shutdown(sock_.get(), SHUT_RDWR);
}

void Conversation::bound_send_by_deadline()
{
	const auto left = std::chrono::ceil<std::chrono::milliseconds>(
			      deadline_ - std::chrono::steady_clock::now())
			      .count();
	/* SO_SNDTIMEO of zero would mean "forever": at least a millisecond. */
	const long ms = std::max<long>(1, std::min<long>(left, opts_.timeout_ms));
	timeval tv{ms / 1000, (ms % 1000) * 1000};
	(void)setsockopt(sock_.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

Conversation::Next Conversation::reply(int err)
{
	bound_send_by_deadline();
	auto bytes = proto::encode(proto::SimpleReply{static_cast<uint32_t>(err < 0 ? -err : err)});
	if (int r = send_packet(sock_.get(), bytes); r < 0) {
		say("send service reply: %s", errstr(r));
		return Next::Fail;
	}
	return Next::Continue;
}

Conversation::Next Conversation::open_reply(int err, const std::string &path, int fd)
{
	bound_send_by_deadline();
	auto bytes =
	    proto::encode(proto::OpenReply{static_cast<uint32_t>(err < 0 ? -err : err), path});
	if (bytes.empty()) /* a path we cannot echo (empty): answer for "?" */
		bytes = proto::encode(
		    proto::OpenReply{static_cast<uint32_t>(err < 0 ? -err : err), "?"});
	if (int r = send_packet(sock_.get(), bytes, err == 0 ? fd : -1); r < 0) {
		say("send file reply: %s", errstr(r));
		return Next::Fail;
	}
	return Next::Continue;
}

/* systemd accepts a connection past the socket's MaxConnections= and closes it
 * at once; to the helper that looks like a server that died before the hello.
 * Name both causes, so a user who mounts too much at once knows why. */
void Conversation::say_hung_up_before_hello() const
{
	say("%s service hung up before answering (too many mounts at once: the "
	    "socket's MaxConnections= limit; or the server failed to start): fuse server "
	    "exited without saying goodbye",
	    printable(opts_.subtype).c_str());
}

int Conversation::start()
{
	proto::Hello hello;
	if (caller_.is_root())
		hello.flags = proto::kHelloAllowOther | proto::kHelloFuseblk;
	else if (conf_.user_allow_other)
		hello.flags = proto::kHelloAllowOther;
	if (int r = send_packet(sock_.get(), proto::encode(hello)); r < 0) {
		if (r == -EPIPE || r == -ECONNRESET)
			say_hung_up_before_hello();
		else
			say("send hello: %s", errstr(r));
		return r;
	}
	auto pkt = receive();
	if (!pkt) {
		switch (pkt.error()) {
		case -ETIMEDOUT:
		case -ETIME:
			say("%s service did not answer the hello within %d seconds",
			    printable(opts_.subtype).c_str(), opts_.timeout_ms / 1000);
			break;
		case -ECONNRESET:
			say_hung_up_before_hello();
			break;
		default:
			say("hello reply: %s", errstr(pkt.error()));
		}
		return pkt.error();
	}
	auto hr = proto::decode_hello_reply(pkt->data);
	if (!hr) {
		switch (hr.error()) {
		case -EOPNOTSUPP:
			say("unsupported protocol version");
			break;
		case -EINVAL:
			say("nonzero value in padding field");
			break;
		default:
			say("%s service server did not reply to hello",
			    printable(opts_.subtype).c_str());
		}
		return hr.error();
	}

	/* The command line, as the server will see it. */
	std::vector<std::string_view> args;
	args.reserve(opts_.args.size() + 1);
	args.emplace_back(opts_.subtype);
	for (const std::string &a : opts_.args)
		args.emplace_back(a);
	auto memfd = write_argv_memfd(args);
	if (!memfd) {
		say("argv memfd: %s", errstr(memfd.error()));
		return memfd.error();
	}
	{
		AsCaller as(caller_);
		fusedev_.reset(open(kFuseDevice, O_RDWR | O_CLOEXEC));
	}
	if (!fusedev_.isValid()) {
		int err = errno;
		say("%s: %s", kFuseDevice, errstr(err));
		return -err;
	}
	if (open_reply(0, std::string(proto::kArgvFileName), memfd->get()) != Next::Continue)
		return -EIO;
	if (open_reply(0, std::string(proto::kFusedevFileName), fusedev_.get()) != Next::Continue)
		return -EIO;
	return 0;
}

int Conversation::run()
{
	if (start() < 0)
		return 1;
	for (;;) {
		auto pkt = receive();
		if (!pkt) {
			switch (pkt.error()) {
			case -ECONNRESET:
				say("fuse server exited without saying goodbye");
				break;
			case -ETIMEDOUT:
				say("fuse server sent nothing for %d seconds; giving up",
				    opts_.timeout_ms / 1000);
				break;
			case -ETIME:
				say("fuse server did not finish the mount within %d seconds; "
				    "giving up",
				    opts_.deadline_ms() / 1000);
				break;
			case -EMSGSIZE:
				say("command packet larger than %zu bytes", proto::kMaxPacketSize);
				break;
			case -EBADMSG:
				say("malformed packet from the server (descriptors are not "
				    "accepted)");
				break;
			default:
				say("receive service command: %s", errstr(pkt.error()));
			}
			return fail_after_mount();
		}
		switch (handle_packet(pkt->data)) {
		case Next::Continue:
			continue;
		case Next::Done:
			if (exit_code_ != 0)
				return fail_after_mount();
			return 0;
		case Next::Fail:
			return fail_after_mount();
		}
	}
}

int Conversation::fail_after_mount()
{
	/* Never leave a mount behind when the mount as a whole failed. */
	if (mounted_) {
		detach_mount(*mounted_);
		mounted_.reset();
	}
	return 1;
}

Conversation::Next Conversation::handle_packet(std::span<const std::byte> packet)
{
	auto cmd = proto::decode_command(packet);
	if (!cmd) {
		const uint32_t magic = proto::packet_magic(packet);
		switch (cmd.error()) {
		case -EINVAL:
			say("malformed %s command", command_name(magic));
			if (magic == proto::kOpenCmd || magic == proto::kOpenBdevCmd)
				return open_reply(EINVAL, proto::open_command_path(packet));
			return reply(EINVAL);
		case -ENOMSG:
			say("unrecognized packet 0x%08x (%s)", magic,
			    printable(magic_text(magic)).c_str());
			return Next::Fail;
		default:
			say("wrong command packet size %zu", packet.size());
			return Next::Fail;
		}
	}
	return std::visit(
	    [this](const auto &c) -> Next {
		    using T = std::decay_t<decltype(c)>;
		    if constexpr (std::is_same_v<T, proto::OpenCommand>)
			    return on_open(c);
		    else if constexpr (std::is_same_v<T, proto::FsopenCommand>)
			    return on_fsopen(c);
		    else if constexpr (std::is_same_v<T, proto::SourceCommand>)
			    return on_source(c);
		    else if constexpr (std::is_same_v<T, proto::MntOptsCommand>)
			    return on_mntopts(c);
		    else if constexpr (std::is_same_v<T, proto::MtabOptsCommand>)
			    return on_mtabopts(c);
		    else if constexpr (std::is_same_v<T, proto::MountpointCommand>)
			    return on_mountpoint(c);
		    else if constexpr (std::is_same_v<T, proto::MountCommand>)
			    return on_mount(c);
		    else
			    return on_bye(c);
	    },
	    *cmd);
}

Conversation::Next Conversation::on_open(const proto::OpenCommand &c)
{
	const bool quiet = c.request_flags & proto::kOpenQuiet;
	const std::string shown = printable(c.path);
	/* Opened outside the server's sandbox: only what the caller named. */
	if (!is_named_on_command_line(opts_.args, c.path)) {
		say("%s: file must be in command line arguments", shown.c_str());
		return open_reply(EPERM, c.path);
	}
	const char *refusal = nullptr;
	auto opened =
	    open_for_server(caller_, c.path, c.open_flags, c.create_mode,
			    c.blockdev ? OpenKind::BlockDevice : OpenKind::File, &refusal);
	if (!opened) {
		const int err = -opened.error();
		/* EBUSY: the server may retry, so it is not worth a message. */
		if (refusal && !quiet)
			say("%s: %s", shown.c_str(), refusal);
		else if (err != EBUSY && !quiet)
			say("%s: %s", shown.c_str(), errstr(err));
		return open_reply(err, c.path);
	}
	UniqueFD fd = std::move(*opened);
	if (c.blockdev) {
		if (c.block_size) {
			int bs = static_cast<int>(c.block_size);
			int r;
			{
				AsCaller as(caller_);
				r = ioctl(fd.get(), BLKBSZSET, &bs);
			}
			if (r < 0) {
				int err = errno;
				if (err != EBUSY && !quiet)
					say("%s: %s", shown.c_str(), errstr(err));
				return open_reply(err, c.path);
			}
		}
	}
	return open_reply(0, c.path, fd.get());
}

Conversation::Next Conversation::on_fsopen(const proto::FsopenCommand &c)
{
	if (fsopen_seen_) {
		say("fsopen command respecified");
		return reply(EINVAL);
	}
	if (c.fsopen_flags & proto::kFsopenFuseblk) {
		if (!caller_.is_root()) {
			say("fuseblk requires root privilege");
			return reply(EPERM);
		}
		fuseblk_ = true;
	}
	fsopen_seen_ = true;
	/* A kernel without fsopen only means mount(2) later. */
	fsfd_ = try_fsopen(fuseblk_);
	return reply(0);
}

Conversation::Next Conversation::on_source(const proto::SourceCommand &c)
{
	if (source_) {
		say("source respecified");
		return reply(EINVAL);
	}
	source_ = c.value;
	return reply(0);
}

Conversation::Next Conversation::on_mntopts(const proto::MntOptsCommand &c)
{
	if (kernel_opts_) {
		say("mount options respecified");
		return reply(EINVAL);
	}
	const bool allow_other_ok = caller_.is_root() || conf_.user_allow_other;
	std::string bad;
	if (check_kernel_options(c.value, allow_other_ok, &bad) < 0) {
		if (bad == "allow_other" || bad == "allow_root")
			say("option %s only allowed if 'user_allow_other' is set in %s",
			    bad.c_str(), kFuseConfPath);
		else if (is_flag_undoing_key(bad))
			say("mount option %s is not allowed: mount flags come with the mount "
			    "command",
			    bad.c_str());
		else
			say("mount option %s is set by the helper, not the server",
			    printable(bad).c_str());
		return reply(EPERM);
	}
	/* The server may add restrictions, never access the caller did not ask for. */
	const CallerMountOptions &floor = opts_.mount_opts;
	if (check_widening_options(c.value, floor.allow_other, floor.allow_root, &bad) < 0) {
		say("option %s was not given by the caller", bad.c_str());
		return reply(EPERM);
	}
	kernel_opts_ = c.value;
	return reply(0);
}

Conversation::Next Conversation::on_mtabopts(const proto::MtabOptsCommand &c)
{
	if (mtab_) {
		say("mtab options respecified");
		return reply(EINVAL);
	}
	MtabOptions m;
	if (int r = filter_mtab_options(c.value, caller_, &m); r < 0)
		return reply(r);
	mtab_ = std::move(m);
	return reply(0);
}

Conversation::Next Conversation::on_mountpoint(const proto::MountpointCommand &c)
{
	if (mountpoint_) {
		say("mount point respecified");
		return reply(EINVAL);
	}
	/* Only the mountpoint: covering the source or another argument is not asked for. */
	if (!is_mountpoint_argument(opts_.args, c.path)) {
		say("mount point must be in command line arguments");
		return reply(EINVAL);
	}
	auto mp = open_mountpoint(caller_, c.path, c.expected_fmt);
	if (!mp)
		return reply(mp.error());
	mountpoint_ = std::move(*mp);
	return reply(0);
}

Conversation::Next Conversation::on_mount(const proto::MountCommand &c)
{
	if (mounted_) {
		say("mount command repeated");
		return reply(EINVAL);
	}
	if (!source_) {
		say("missing mount source parameter");
		return reply(EINVAL);
	}
	if (!mountpoint_) {
		say("missing mount point parameter");
		return reply(EINVAL);
	}
	uint32_t ms_flags = c.ms_flags;
	if (ms_flags & ~kAllowedMsFlags) {
		say("mount flags 0x%x are not allowed", ms_flags & ~kAllowedMsFlags);
		return reply(EINVAL);
	}
	if (!caller_.is_root()) {
		if (int r = check_nonroot_mountpoint(caller_, *mountpoint_, conf_); r < 0)
			return reply(r);
	}
	/* The caller's options are a floor, for root as for anyone. */
	ms_flags = apply_caller_floor(ms_flags, opts_.mount_opts, caller_.is_root());

	MountRequest req;
	req.fuseblk = fuseblk_;
	req.subtype = opts_.subtype;
	req.source = *source_;
	req.kernel_opts = kernel_opts_;
	if (opts_.mount_opts.default_permissions &&
	    !(kernel_opts_ && has_kernel_option(*kernel_opts_, "default_permissions")))
		req.kernel_opts = kernel_opts_ ? *kernel_opts_ + ",default_permissions"
					       : std::string("default_permissions");
	req.ms_flags = ms_flags;
	req.fusedev_fd = fusedev_.get();
	req.uid = caller_.uid();
	req.gid = caller_.gid();
	if (!fsopen_seen_)
		fsfd_ = try_fsopen(fuseblk_);
	auto m = mount_fuse(req, *mountpoint_, std::move(fsfd_), caller_);
	if (!m)
		return reply(m.error());
	mounted_ = std::move(*m);
	if (reply(0) != Next::Continue)
		return Next::Fail;
	return Next::Continue;
}

Conversation::Next Conversation::on_bye(const proto::ByeCommand &c)
{
	exit_code_ = static_cast<int>(c.exitcode);
	if (c.exitcode != 0) {
		say("fuse server failed mount, check dmesg/logs for details");
		return Next::Done;
	}
	if (mounted_ && mountpoint_) {
		MtabOptions m = mtab_.value_or(MtabOptions{});
		/* What is left of the deadline, but at least a second to write the record. */
		const auto left = std::chrono::ceil<std::chrono::milliseconds>(
				      deadline_ - std::chrono::steady_clock::now())
				      .count();
		record_mount(*source_, mountpoint_->resolved, fs_type_name(fuseblk_, opts_.subtype),
			     m, caller_, static_cast<int>(std::max<long>(1000, left)));
	}
	return Next::Done;
}

} // namespace fsvc::helper
