/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fake server's side of a hostile conversation with the real helper. It
 * speaks raw packets over the socket-activated connection: well-formed ones
 * through the protocol core's encoders, malformed ones built by hand. Every
 * expectation that fails is recorded; the report is read by the driver.
 *
 * It also watches the helper: its fd table (from /proc/<peer pid>/fd, taken
 * only when the helper is blocked waiting for us, so nothing is in flight)
 * and whether it hangs up.
 */
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

#include "core/packet_io.h"
#include "core/protocol.h"
#include "core/unique_fd.h"

namespace fsvc::hostile
{

/* fd number -> what it points at, as /proc shows it. */
using FdTable = std::map<int, std::string>;

struct OpenReplyRx {
	uint32_t error = 0;
	std::string path;
	UniqueFD fd;
};

/* Paths of the scenario's work directory, shared with the driver. */
struct Paths {
	std::string dir;
	std::string at(std::string_view rel) const { return dir + "/" + std::string(rel); }
	std::string src() const { return dir + "/src"; }           /* a regular file */
	std::string mnt() const { return dir + "/mnt"; }           /* a directory */
	std::string file() const { return dir + "/file"; }         /* a regular file */
	std::string rootonly() const { return dir + "/rootonly"; } /* root's 0755 dir */
	std::string secret() const { return dir + "/secret"; }     /* root's 0600 file */
	std::string missing() const { return dir + "/missing"; }   /* does not exist */
	std::string report() const { return dir + "/report"; }
};

class Conversation
{
public:
	Conversation(int sock, Paths paths);

	const Paths &paths() const { return paths_; }
	pid_t helper_pid() const { return peer_; }

	/* Record a failed expectation (printf-style). Returns false. */
	bool fail(const char *fmt, ...) __attribute__((format(printf, 2, 3)));
	/* Record an observation for the log (not a failure). */
	void note(const char *fmt, ...) __attribute__((format(printf, 2, 3)));
	bool failed() const { return !failures_.empty(); }
	/* Write the report: "PASS" or the failures, then the notes. */
	void write_report() const;

	/* Raw I/O. send_* return 0 or the negative errno of sendmsg. */
	int send_raw(std::span<const std::byte> bytes, std::span<const int> fds = {});
	int send(const proto::Command &cmd);
	Result<Packet> recv(FdPolicy policy, int timeout_ms = 20000);

	/* The well-formed opening: HELLO in, HELLO_REPLY out, argv and fusedev in. */
	std::optional<proto::Hello> recv_hello();
	bool send_hello_reply();
	bool recv_files();
	bool start() { return recv_hello() && send_hello_reply() && recv_files() && lean_helper(); }
	/* Once the files are sent, the helper holds exactly 0-2, the socket and
	 * /dev/fuse (fds >= 1024 are a wrapper's, e.g. valgrind's, and ignored). */
	bool lean_helper();
	const proto::Hello &hello() const { return hello_; }
	const std::vector<std::string> &helper_args() const { return args_; }
	int fusedev() const { return fusedev_.get(); }

	/* Replies. expect_* record a failure when the value is not the expected one. */
	std::optional<uint32_t> simple_reply(const char *what);
	bool expect_simple(const char *what, int err);
	std::optional<OpenReplyRx> open_reply(const char *what);
	bool expect_open(const char *what, std::string_view path, int err);

	/* Send a command; its SIMPLE_REPLY's error, or kNoReply (failure recorded). */
	static constexpr uint32_t kNoReply = UINT32_MAX;
	uint32_t ask(const proto::Command &cmd, const char *what);
	/* Send a command and check its SIMPLE_REPLY. */
	bool command(const proto::Command &cmd, int err, const char *what);
	/* TYPE, NAME, MNTP in the well-formed way (mountpoint as given). */
	bool prepare_mount(const std::string &mountpoint, uint16_t fmt = proto::kFmtDir);

	/* The helper's fd table, once it is blocked reading from us. */
	std::optional<FdTable> fds();
	bool expect_same_fds(const std::optional<FdTable> &before, const char *what);

	/* Wait for the helper to hang up; anything else arriving is a failure. */
	bool expect_hangup(const char *what, int timeout_ms = 60000);
	/* Wait for the hang-up without reading what the helper sent. */
	bool expect_hangup_unread(const char *what, int timeout_ms = 60000);
	/* Give up politely (BYEE with a nonzero code) and wait for the hang-up. */
	bool bye(uint32_t code = 1);

	/* Mount points (from /proc/self/mountinfo) at or under path. */
	static std::vector<std::string> mounts_at(const std::string &path);
	/* The super options of the mount at path ("" if none). */
	static std::string mount_options(const std::string &path);

private:
	bool wait_helper_idle();

	int sock_;
	Paths paths_;
	pid_t peer_ = -1;
	proto::Hello hello_;
	std::vector<std::string> args_;
	UniqueFD fusedev_;
	std::vector<std::string> failures_;
	std::vector<std::string> notes_;
};

/* Bytes of a packet built by hand: a magic and raw fields. */
class RawPacket
{
public:
	explicit RawPacket(uint32_t magic) { u32(magic); }
	RawPacket &u16(uint16_t v);
	RawPacket &u32(uint32_t v);
	RawPacket &str(std::string_view s); /* bytes as given, no NUL added */
	RawPacket &nul() { return fill(1, 0); }
	RawPacket &fill(size_t n, uint8_t b);
	std::span<const std::byte> bytes() const { return buf_; }

private:
	std::vector<std::byte> buf_;
};

} // namespace fsvc::hostile
