/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The helper's side of the service protocol (PROTOCOL.md §5-§6): hello, the
 * two files every server gets, then one handler per server command until
 * BYEE. All bytes go through core/ (encode/decode, packet I/O); a server
 * can never pass us a descriptor (FdPolicy::Refuse, SO_PASSRIGHTS off).
 */
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "core/packet_io.h"
#include "core/protocol.h"
#include "core/unique_fd.h"
#include "util/fuse_conf.h"
#include "util/mounter.h"
#include "util/mountpoint.h"
#include "util/mtab.h"
#include "util/options.h"
#include "util/privileges.h"

namespace fsvc::helper
{

class Conversation
{
public:
	Conversation(const Caller &caller, const FuseConf &conf, const Options &opts,
		     UniqueFD sock);
	~Conversation();
	Conversation(const Conversation &) = delete;
	Conversation &operator=(const Conversation &) = delete;

	/* Talk to the server until it says goodbye. Returns the exit status. */
	int run();

private:
	enum class Next { Continue, Done, Fail };

	int start();
	/* The server's end closed before the hello reply: say why that may be. */
	void say_hung_up_before_hello() const;
	/*
	 * The next packet, waiting no longer than the silence timeout
	 * (-ETIMEDOUT) or what is left of the overall deadline (-ETIME).
	 */
	Result<Packet> receive();
	Next handle_packet(std::span<const std::byte> packet);
	Next on_open(const proto::OpenCommand &c);
	Next on_fsopen(const proto::FsopenCommand &c);
	Next on_source(const proto::SourceCommand &c);
	Next on_mntopts(const proto::MntOptsCommand &c);
	Next on_mtabopts(const proto::MtabOptsCommand &c);
	Next on_mountpoint(const proto::MountpointCommand &c);
	Next on_mount(const proto::MountCommand &c);
	Next on_bye(const proto::ByeCommand &c);

	/* A send may wait for a server that stops reading: never past the deadline. */
	void bound_send_by_deadline();
	Next reply(int err);
	Next open_reply(int err, const std::string &path, int fd = -1);
	int fail_after_mount();

	const Caller &caller_;
	const FuseConf &conf_;
	const Options &opts_;
	UniqueFD sock_;
	UniqueFD fusedev_;
	std::chrono::steady_clock::time_point deadline_;

	/* What the server has told us so far; each one-shot command at most once. */
	bool fsopen_seen_ = false;
	bool fuseblk_ = false;
	UniqueFD fsfd_;
	std::optional<std::string> source_;
	std::optional<std::string> kernel_opts_;
	std::optional<MtabOptions> mtab_;
	std::optional<Mountpoint> mountpoint_;
	std::optional<Mounted> mounted_;
	int exit_code_ = 1;
};

} // namespace fsvc::helper
