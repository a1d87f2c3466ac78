/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "scenarios.h"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fsvc::hostile
{

namespace
{

using proto::kFmtDir;
using proto::kFmtReg;

constexpr uint32_t kSafeMsFlags = MS_NOSUID | MS_NODEV;
constexpr int kFlood = 5000;
const std::string kNotAnArgument = "/etc/shadow";

/* ---- building blocks ---------------------------------------------------- */

/* Send bytes the helper must refuse with SIMPLE_REPLY err, and survive. */
void refused(HostilePeer &c, const RawPacket &p, int err, const char *what)
{
	if (!c.start())
		return;
	auto before = c.fds();
	if (int r = c.send_raw(p.bytes()); r < 0) {
		c.fail("%s: send: %s", what, std::strerror(-r));
		return;
	}
	c.expect_simple(what, err);
	c.expect_same_fds(before, what);
	c.bye();
}

/* A well-formed command the helper must refuse with err, changing nothing. */
void refused_command(HostilePeer &c, const proto::Command &cmd, int err, const char *what)
{
	if (!c.start())
		return;
	auto before = c.fds();
	c.command(cmd, err, what);
	c.expect_same_fds(before, what);
	c.bye();
}

/* An OPEN/BDEV the helper must refuse with OPEN_REPLY {err, echoed}. */
void refused_open(HostilePeer &c, const RawPacket &p, const std::string &echoed, int err,
		  const char *what)
{
	if (!c.start())
		return;
	auto before = c.fds();
	if (int r = c.send_raw(p.bytes()); r < 0) {
		c.fail("%s: send: %s", what, std::strerror(-r));
		return;
	}
	c.expect_open(what, echoed, err);
	c.expect_same_fds(before, what);
	c.bye();
}

/* Bytes after which the helper must give up and hang up without a reply. */
void fatal(HostilePeer &c, const RawPacket &p, const char *what)
{
	if (!c.start())
		return;
	if (int r = c.send_raw(p.bytes()); r < 0) {
		c.fail("%s: send: %s", what, std::strerror(-r));
		return;
	}
	c.expect_hangup(what);
}

/* A malformed HELLO_REPLY: the helper must give up. */
void fatal_hello_reply(HostilePeer &c, const RawPacket &p, const char *what)
{
	if (!c.recv_hello())
		return;
	if (int r = c.send_raw(p.bytes()); r < 0) {
		c.fail("%s: send: %s", what, std::strerror(-r));
		return;
	}
	c.expect_hangup(what);
}

/* A one-shot command sent twice: the second is EINVAL, nothing else changes. */
void repeated(HostilePeer &c, const proto::Command &cmd, const char *what)
{
	if (!c.start() || !c.command(cmd, 0, what))
		return;
	auto before = c.fds();
	c.command(cmd, EINVAL, what);
	c.expect_same_fds(before, what);
	c.bye();
}

/*
 * An fd pushed at the helper. The helper turned SO_PASSRIGHTS off, so a
 * kernel that knows the option (>= 6.16) refuses the send with EPERM and the
 * helper never sees it; an older kernel delivers it, and the helper must then
 * end the conversation.
 */
void pushed_fd(HostilePeer &c, const proto::Command &cmd, std::span<const int> fds,
	       const char *what)
{
	auto before = c.fds();
	int r = c.send_raw(proto::encode(cmd), fds);
	if (r == 0) {
		c.note("%s: the kernel delivered the fd", what);
		c.expect_hangup(what);
		return;
	}
	if (r != -EPERM) {
		c.fail("%s: send failed with %s, expected EPERM", what, std::strerror(-r));
		return;
	}
	c.note("%s: the kernel refused the fd (SO_PASSRIGHTS off): EPERM", what);
	c.expect_same_fds(before, what);
	c.bye();
}

RawPacket open_packet(uint32_t request_flags, std::string_view path_bytes)
{
	RawPacket p(proto::kOpenCmd);
	p.u32(O_RDONLY).u32(0).u32(request_flags).u32(0).str(path_bytes);
	return p;
}

proto::OpenCommand open_cmd(const std::string &path, uint32_t flags = O_RDONLY)
{
	proto::OpenCommand o;
	o.open_flags = flags;
	o.create_mode = 0644;
	o.path = path;
	return o;
}

void crash(HostilePeer &c)
{
	/* The report first: the driver must still learn that we got this far. */
	c.write_report();
	rlimit none{0, 0};
	(void)::setrlimit(RLIMIT_CORE, &none);
	std::signal(SIGSEGV, SIG_DFL);
	::raise(SIGSEGV);
	std::_Exit(99);
}

/* Unmount what a successful DOIT left, as the server's admin would. */
void unmount_all(HostilePeer &c, const std::string &path)
{
	for (int i = 0; i < 4 && !HostilePeer::mounts_at(path).empty(); i++)
		if (::umount2(path.c_str(), MNT_DETACH) < 0)
			c.fail("umount %s: %s", path.c_str(), std::strerror(errno));
}

/* ---- hello phase -------------------------------------------------------- */

void hello_reply_short(HostilePeer &c)
{
	fatal_hello_reply(c, RawPacket(proto::kHelloReply), "4-byte HELLO_REPLY");
}

void hello_reply_truncated(HostilePeer &c)
{
	fatal_hello_reply(c, RawPacket(proto::kHelloReply).u16(1), "6-byte HELLO_REPLY");
}

void hello_reply_long(HostilePeer &c)
{
	fatal_hello_reply(c, RawPacket(proto::kHelloReply).u16(1).u16(0).u32(0),
			  "12-byte HELLO_REPLY");
}

void hello_reply_oversize(HostilePeer &c)
{
	fatal_hello_reply(c, RawPacket(proto::kHelloReply).u16(1).u16(0).fill(70000, 0),
			  "70 KiB HELLO_REPLY");
}

void hello_reply_wrong_magic(HostilePeer &c)
{
	fatal_hello_reply(c, RawPacket(proto::kSimpleReply).u16(1).u16(0), "REPL as HELLO_REPLY");
}

void hello_reply_padding(HostilePeer &c)
{
	fatal_hello_reply(c, RawPacket(proto::kHelloReply).u16(1).u16(1),
			  "HELLO_REPLY with nonzero padding");
}

void hello_reply_version(HostilePeer &c)
{
	fatal_hello_reply(c, RawPacket(proto::kHelloReply).u16(2).u16(0),
			  "HELLO_REPLY with version 2");
}

void hello_reply_version0(HostilePeer &c)
{
	fatal_hello_reply(c, RawPacket(proto::kHelloReply).u16(0).u16(0),
			  "HELLO_REPLY with version 0");
}

void hello_reply_empty_packet(HostilePeer &c)
{
	if (!c.recv_hello())
		return;
	if (int r = c.send_raw({}); r < 0) {
		c.fail("empty packet: send: %s", std::strerror(-r));
		return;
	}
	c.expect_hangup("empty packet instead of HELLO_REPLY");
}

void hello_reply_with_fd(HostilePeer &c)
{
	if (!c.recv_hello())
		return;
	const int fds[] = {STDERR_FILENO};
	int r = c.send_raw(proto::encode(proto::HelloReply{}), fds);
	if (r == 0) {
		c.note("HELLO_REPLY + fd: the kernel delivered the fd");
		c.expect_hangup("HELLO_REPLY carrying an fd");
		return;
	}
	if (r != -EPERM) {
		c.fail("HELLO_REPLY + fd: send failed with %s, expected EPERM", std::strerror(-r));
		return;
	}
	c.note("HELLO_REPLY + fd: the kernel refused the fd: EPERM");
	if (c.send_hello_reply() && c.recv_files())
		c.bye();
}

void hang_before_reading(HostilePeer &c)
{
	/* Never read the hello: the helper must time out (it runs with --timeout=2). */
	c.expect_hangup_unread("silent server, hello unread");
}

void hang_before_hello_reply(HostilePeer &c)
{
	if (c.recv_hello())
		c.expect_hangup("silent server after hello");
}

void hang_after_files(HostilePeer &c)
{
	if (c.start())
		c.expect_hangup("silent server after the files");
}

void close_before_hello_reply(HostilePeer &c)
{
	(void)c.recv_hello(); /* and return: the connection closes without a word */
}

void crash_before_hello_reply(HostilePeer &c)
{
	if (c.recv_hello())
		crash(c);
}

/* ---- command phase: OPEN / BDEV ------------------------------------------ */

void open_short(HostilePeer &c)
{
	refused_open(c, RawPacket(proto::kOpenCmd).u32(0).u32(0), "?", EINVAL, "8-byte OPEN");
}

void open_missing_nul(HostilePeer &c)
{
	refused_open(c, open_packet(0, c.paths().src()), "?", EINVAL, "OPEN path without NUL");
}

void open_empty_path(HostilePeer &c)
{
	refused_open(c, open_packet(0, std::string_view("\0", 1)), "?", EINVAL,
		     "OPEN with an empty path");
}

void open_inner_nul(HostilePeer &c)
{
	const std::string bytes = c.paths().src() + std::string("\0/etc/shadow\0", 13);
	refused_open(c, open_packet(0, bytes), "?", EINVAL, "OPEN path with a NUL inside");
}

void open_unknown_flags(HostilePeer &c)
{
	const std::string bytes = c.paths().src() + std::string(1, '\0');
	refused_open(c, open_packet(0x2, bytes), c.paths().src(), EINVAL,
		     "OPEN with unknown request flags");
}

void bdev_regular_file(HostilePeer &c)
{
	if (!c.start())
		return;
	auto before = c.fds();
	proto::OpenCommand o = open_cmd(c.paths().src());
	o.blockdev = true;
	o.block_size = 4096;
	if (c.send(o) == 0)
		c.expect_open("BDEV of a regular file", c.paths().src(), ENOTBLK);
	c.expect_same_fds(before, "BDEV of a regular file");
	c.bye();
}

void open_not_in_args(HostilePeer &c)
{
	if (!c.start())
		return;
	auto before = c.fds();
	if (c.send(open_cmd(kNotAnArgument)) == 0)
		c.expect_open("OPEN of a path not on the command line", kNotAnArgument, EPERM);
	c.expect_same_fds(before, "OPEN not in args");
	c.bye();
}

void open_path_verbatim(HostilePeer &c)
{
	/* The source was given as "<dir>/./src": that spelling, and only it. */
	if (!c.start())
		return;
	auto before = c.fds();
	const std::string given = c.paths().dir + "/./src";
	if (c.send(open_cmd(given)) == 0) {
		auto r = c.open_reply("OPEN as spelled on the command line");
		if (r && (r->path != given || r->error != 0))
			c.fail("OPEN '%s': reply '%s' error %u", given.c_str(), r->path.c_str(),
			       r->error);
	}
	if (c.send(open_cmd(c.paths().src())) == 0)
		c.expect_open("OPEN of the same file spelled differently", c.paths().src(), EPERM);
	c.expect_same_fds(before, "OPEN path spelling");
	c.bye();
}

void open_quiet_missing(HostilePeer &c)
{
	/* QUIET: the helper answers ENOENT and prints nothing about the file. */
	if (!c.start())
		return;
	auto before = c.fds();
	proto::OpenCommand o = open_cmd(c.paths().missing());
	o.request_flags = proto::kOpenQuiet;
	if (c.send(o) == 0)
		c.expect_open("QUIET OPEN of a missing file", c.paths().missing(), ENOENT);
	c.expect_same_fds(before, "QUIET OPEN");
	c.bye();
}

void open_flood_granted(HostilePeer &c)
{
	if (!c.start())
		return;
	auto before = c.fds();
	int granted = 0;
	for (int i = 0; i < kFlood && !c.failed(); i++) {
		if (c.send(open_cmd(c.paths().src())) != 0)
			break;
		auto r = c.open_reply("OPEN flood");
		if (r && r->error == 0 && r->path == c.paths().src())
			granted++;
	}
	if (granted != kFlood)
		c.fail("OPEN flood: %d of %d granted", granted, kFlood);
	c.note("OPEN flood: %d files received", granted);
	c.expect_same_fds(before, "after 5000 granted OPENs");
	c.bye();
}

void open_flood_refused(HostilePeer &c)
{
	if (!c.start())
		return;
	auto before = c.fds();
	int refused_count = 0;
	for (int i = 0; i < kFlood && !c.failed(); i++) {
		proto::OpenCommand o = open_cmd(kNotAnArgument);
		o.request_flags = proto::kOpenQuiet; /* and the helper must stay quiet */
		if (c.send(o) != 0)
			break;
		if (c.expect_open("OPEN flood (refused)", kNotAnArgument, EPERM))
			refused_count++;
	}
	c.note("OPEN flood: %d refusals", refused_count);
	c.expect_same_fds(before, "after 5000 refused OPENs");
	c.bye();
}

/* ---- command phase: fixed-size commands ---------------------------------- */

void type_short(HostilePeer &c)
{
	refused(c, RawPacket(proto::kFsopenCmd).u16(0), EINVAL, "6-byte TYPE");
}

void type_long(HostilePeer &c)
{
	refused(c, RawPacket(proto::kFsopenCmd).u32(0).u32(0), EINVAL, "12-byte TYPE");
}

void type_unknown_flags(HostilePeer &c)
{
	refused(c, RawPacket(proto::kFsopenCmd).u32(0x4), EINVAL, "TYPE with unknown flags");
}

void type_repeat(HostilePeer &c)
{
	repeated(c, proto::FsopenCommand{0}, "TYPE");
}

void doit_short(HostilePeer &c)
{
	refused(c, RawPacket(proto::kMountCmd).u16(0), EINVAL, "6-byte DOIT");
}

void doit_long(HostilePeer &c)
{
	refused(c, RawPacket(proto::kMountCmd).u32(kSafeMsFlags).u32(0), EINVAL, "12-byte DOIT");
}

void bye_short(HostilePeer &c)
{
	refused(c, RawPacket(proto::kByeCmd).u16(0), EINVAL, "6-byte BYEE");
}

/* ---- command phase: strings ---------------------------------------------- */

void name_missing_nul(HostilePeer &c)
{
	refused(c, RawPacket(proto::kSourceCmd).str("hostile"), EINVAL, "NAME without NUL");
}

void name_empty(HostilePeer &c)
{
	refused(c, RawPacket(proto::kSourceCmd).nul(), EINVAL, "empty NAME");
}

void name_bare_magic(HostilePeer &c)
{
	refused(c, RawPacket(proto::kSourceCmd), EINVAL, "NAME with no string at all");
}

void name_repeat(HostilePeer &c)
{
	repeated(c, proto::SourceCommand{"hostile"}, "NAME");
}

void name_max_size(HostilePeer &c)
{
	/* Exactly 64 KiB: legal on the wire, so the helper must answer, not die. */
	if (!c.start())
		return;
	auto before = c.fds();
	RawPacket p(proto::kSourceCmd);
	p.fill(proto::kMaxPacketSize - 5, 'x').nul();
	if (int r = c.send_raw(p.bytes()); r < 0) {
		c.fail("64 KiB NAME: send: %s", std::strerror(-r));
		return;
	}
	if (auto r = c.simple_reply("64 KiB NAME"))
		c.note("64 KiB NAME: helper replied %u", *r);
	c.expect_same_fds(before, "64 KiB NAME");
	c.bye();
}

void opts_missing_nul(HostilePeer &c)
{
	refused(c, RawPacket(proto::kMntOptsCmd).str("default_permissions"), EINVAL,
		"OPTS without NUL");
}

void opts_empty(HostilePeer &c)
{
	refused(c, RawPacket(proto::kMntOptsCmd).nul(), EINVAL, "empty OPTS");
}

void opts_inner_nul(HostilePeer &c)
{
	refused(
	    c,
	    RawPacket(proto::kMntOptsCmd).str("default_permissions").nul().str("allow_other").nul(),
	    EINVAL, "OPTS with a NUL inside");
}

void opts_repeat(HostilePeer &c)
{
	repeated(c, proto::MntOptsCommand{"default_permissions"}, "OPTS");
}

void mtab_missing_nul(HostilePeer &c)
{
	refused(c, RawPacket(proto::kMtabOptsCmd).str("-n"), EINVAL, "MTAB without NUL");
}

void mtab_empty(HostilePeer &c)
{
	refused(c, RawPacket(proto::kMtabOptsCmd).nul(), EINVAL, "empty MTAB");
}

void mtab_repeat(HostilePeer &c)
{
	repeated(c, proto::MtabOptsCommand{"-n"}, "MTAB");
}

/* ---- command phase: MNTP --------------------------------------------------- */

RawPacket mntp_packet(uint16_t fmt, uint16_t padding, std::string_view path_bytes)
{
	RawPacket p(proto::kMountpointCmd);
	p.u16(fmt).u16(padding).str(path_bytes);
	return p;
}

void mntp_padding(HostilePeer &c)
{
	refused(c, mntp_packet(kFmtDir, 1, c.paths().mnt() + std::string(1, '\0')), EINVAL,
		"MNTP with nonzero padding");
}

void mntp_bad_format(HostilePeer &c)
{
	refused(c, mntp_packet(0x2000 /* S_IFCHR */, 0, c.paths().mnt() + std::string(1, '\0')),
		EINVAL, "MNTP expecting S_IFCHR");
}

void mntp_missing_nul(HostilePeer &c)
{
	refused(c, mntp_packet(kFmtDir, 0, c.paths().mnt()), EINVAL, "MNTP without NUL");
}

void mntp_empty(HostilePeer &c)
{
	refused(c, mntp_packet(kFmtDir, 0, std::string_view("\0", 1)), EINVAL, "empty MNTP");
}

void mntp_short(HostilePeer &c)
{
	refused(c, RawPacket(proto::kMountpointCmd).u16(kFmtDir), EINVAL, "6-byte MNTP");
}

void mntp_not_in_args(HostilePeer &c)
{
	if (!c.start())
		return;
	auto before = c.fds();
	c.command(proto::MountpointCommand{kFmtDir, c.paths().rootonly()}, EINVAL,
		  "MNTP of a directory not on the command line");
	c.expect_same_fds(before, "MNTP not in args");
	c.bye();
}

void mntp_option_value(HostilePeer &c)
{
	/* rootonly appears only as "-o cache=<dir>/rootonly": not a mountpoint. */
	refused_command(c, proto::MountpointCommand{kFmtDir, c.paths().rootonly()}, EINVAL,
			"MNTP of a path that is only an option value");
}

void mntp_repeat(HostilePeer &c)
{
	repeated(c, proto::MountpointCommand{kFmtDir, c.paths().mnt()}, "MNTP");
}

void mntp_dir_as_file(HostilePeer &c)
{
	refused_command(c, proto::MountpointCommand{kFmtReg, c.paths().mnt()}, EISDIR,
			"MNTP expecting a file on a directory");
}

void mntp_file_as_dir(HostilePeer &c)
{
	refused_command(c, proto::MountpointCommand{kFmtDir, c.paths().file()}, ENOTDIR,
			"MNTP expecting a directory on a file");
}

/* ---- command phase: order ------------------------------------------------- */

void doit_first(HostilePeer &c)
{
	refused_command(c, proto::MountCommand{kSafeMsFlags}, EINVAL, "DOIT before anything");
}

void doit_without_mntp(HostilePeer &c)
{
	if (!c.start() || !c.command(proto::FsopenCommand{0}, 0, "TYPE") ||
	    !c.command(proto::SourceCommand{"hostile"}, 0, "NAME"))
		return;
	auto before = c.fds();
	c.command(proto::MountCommand{kSafeMsFlags}, EINVAL, "DOIT without MNTP");
	c.expect_same_fds(before, "DOIT without MNTP");
	if (!HostilePeer::mounts_at(c.paths().dir).empty())
		c.fail("DOIT without MNTP mounted something");
	c.bye();
}

void doit_without_name(HostilePeer &c)
{
	if (!c.start() || !c.command(proto::FsopenCommand{0}, 0, "TYPE") ||
	    !c.command(proto::MountpointCommand{kFmtDir, c.paths().mnt()}, 0, "MNTP"))
		return;
	auto before = c.fds();
	c.command(proto::MountCommand{kSafeMsFlags}, EINVAL, "DOIT without NAME");
	c.expect_same_fds(before, "DOIT without NAME");
	if (!HostilePeer::mounts_at(c.paths().dir).empty())
		c.fail("DOIT without NAME mounted something");
	c.bye();
}

void doit_repeat(HostilePeer &c)
{
	if (!c.start() || !c.prepare_mount(c.paths().mnt()) ||
	    !c.command(proto::MountCommand{kSafeMsFlags}, 0, "DOIT"))
		return;
	auto first = HostilePeer::mounts_at(c.paths().mnt());
	c.command(proto::MountCommand{kSafeMsFlags}, EINVAL, "second DOIT");
	auto second = HostilePeer::mounts_at(c.paths().mnt());
	if (first.size() != 1 || second.size() != 1)
		c.fail("mounts on the mountpoint: %zu after DOIT, %zu after a second DOIT",
		       first.size(), second.size());
	/* BYEE 1 after a mount: the helper must take it down (the driver checks). */
	c.bye();
}

/* ---- command phase: bytes that end the conversation ----------------------- */

void unknown_magic(HostilePeer &c)
{
	fatal(c, RawPacket(0x58585858 /* XXXX */).u32(0), "unknown magic");
}

void reply_magic_as_command(HostilePeer &c)
{
	fatal(c, RawPacket(proto::kSimpleReply).u32(0), "REPL sent as a command");
}

void hello_as_command(HostilePeer &c)
{
	fatal(c, RawPacket(proto::kHelloReply).u16(1).u16(0), "second HELLO_REPLY");
}

void command_two_bytes(HostilePeer &c)
{
	if (!c.start())
		return;
	const std::byte two[] = {std::byte{'N'}, std::byte{'A'}};
	if (int r = c.send_raw(two); r < 0) {
		c.fail("2-byte command: send: %s", std::strerror(-r));
		return;
	}
	c.expect_hangup("2-byte command");
}

void command_empty_packet(HostilePeer &c)
{
	if (!c.start())
		return;
	if (int r = c.send_raw({}); r < 0) {
		c.fail("empty packet: send: %s", std::strerror(-r));
		return;
	}
	c.expect_hangup("empty packet");
}

void command_oversize(HostilePeer &c)
{
	RawPacket p(proto::kSourceCmd);
	p.fill(70000, 'x').nul();
	fatal(c, p, "70 KiB NAME");
}

void command_oversize_open(HostilePeer &c)
{
	/* Just over the cap, with a path that would be allowed. */
	RawPacket p = open_packet(0, c.paths().src());
	p.fill(proto::kMaxPacketSize + 1 - p.bytes().size() - 1, '/').nul();
	fatal(c, p, "64 KiB + 1 OPEN");
}

/* ---- fds pushed at the helper --------------------------------------------- */

void push_fd_with_name(HostilePeer &c)
{
	if (!c.start())
		return;
	const int fds[] = {STDERR_FILENO};
	pushed_fd(c, proto::SourceCommand{"hostile"}, fds, "NAME + fd");
}

void push_two_fds_with_open(HostilePeer &c)
{
	if (!c.start())
		return;
	const int fds[] = {STDIN_FILENO, STDERR_FILENO};
	pushed_fd(c, open_cmd(c.paths().src()), fds, "OPEN + 2 fds");
}

void push_fusedev_back(HostilePeer &c)
{
	if (!c.start() || !c.prepare_mount(c.paths().mnt()))
		return;
	const int fds[] = {c.fusedev()};
	pushed_fd(c, proto::MountCommand{kSafeMsFlags}, fds, "DOIT + the fuse device");
	if (!HostilePeer::mounts_at(c.paths().mnt()).empty()) {
		c.fail("DOIT carrying an fd mounted");
		unmount_all(c, c.paths().mnt());
	}
}

void push_socket_fd(HostilePeer &c)
{
	if (!c.start())
		return;
	const int fds[] = {3}; /* our end of the connection itself */
	pushed_fd(c, proto::FsopenCommand{0}, fds, "TYPE + the socket");
}

/* ---- ending without a goodbye ---------------------------------------------- */

void close_after_files(HostilePeer &c)
{
	(void)c.start(); /* and return: closed without BYEE */
}

void close_after_mntp(HostilePeer &c)
{
	if (c.start())
		(void)c.prepare_mount(c.paths().mnt());
}

void crash_mid_conversation(HostilePeer &c)
{
	if (c.start() && c.command(proto::FsopenCommand{0}, 0, "TYPE") &&
	    c.command(proto::SourceCommand{"hostile"}, 0, "NAME"))
		crash(c);
}

void bye_failure(HostilePeer &c)
{
	if (c.start())
		c.bye(1);
}

void bye_after_doit_refused(HostilePeer &c)
{
	/* DOIT on a mountpoint whose fs type the helper refuses, then BYEE 1. */
	if (!c.start())
		return;
	c.command(proto::MountCommand{0}, EINVAL, "DOIT with nothing prepared");
	c.bye(2);
}

/* ---- the symlink swap --------------------------------------------------------- */

/*
 * After MNTP, the mountpoint is renamed away and replaced by a symlink to a
 * directory the caller may not write. The mount must land on the directory
 * the helper pinned (now "mnt.moved"), or be refused; never on the target.
 */
void mntp_symlink_swap(HostilePeer &c)
{
	if (!c.start() || !c.prepare_mount(c.paths().mnt()))
		return;
	const std::string moved = c.paths().at("mnt.moved");
	if (::rename(c.paths().mnt().c_str(), moved.c_str()) < 0 ||
	    ::symlink(c.paths().rootonly().c_str(), c.paths().mnt().c_str()) < 0) {
		c.fail("swap: %s", std::strerror(errno));
		return;
	}
	if (c.send(proto::MountCommand{kSafeMsFlags}) != 0) {
		c.fail("DOIT: send failed");
		return;
	}
	auto r = c.simple_reply("DOIT after the swap");
	if (!HostilePeer::mounts_at(c.paths().rootonly()).empty())
		c.fail("the mount followed the swapped-in symlink to %s",
		       c.paths().rootonly().c_str());
	if (r && *r == 0) {
		if (HostilePeer::mounts_at(moved).size() != 1)
			c.fail("DOIT succeeded, but not on the pinned directory");
		else
			c.note("DOIT after the swap: mounted on the pinned directory");
	} else if (r) {
		c.note("DOIT after the swap: refused with %u", *r);
	}
	/* BYEE 1: the helper must take down the mount it made, wherever it is. */
	c.bye();
}

/*
 * A regular-file mountpoint renamed away (still linked, as file.orig) and
 * replaced by another file after MNTP. The helper holds the file it checked
 * open for writing, so the mount must land on that file, or be refused;
 * never on the newcomer now at the path.
 */
void mntp_file_swap(HostilePeer &c)
{
	if (!c.start() || !c.prepare_mount(c.paths().file(), kFmtReg))
		return;
	const std::string orig = c.paths().at("file.orig");
	if (::rename(c.paths().file().c_str(), orig.c_str()) < 0 ||
	    ::rename(c.paths().at("file.other").c_str(), c.paths().file().c_str()) < 0) {
		c.fail("swap: %s", std::strerror(errno));
		return;
	}
	const uint32_t r = c.ask(proto::MountCommand{kSafeMsFlags}, "DOIT after the file swap");
	if (!HostilePeer::mounts_at(c.paths().file()).empty())
		c.fail("the mount landed on the file swapped in after MNTP");
	if (r == 0) {
		if (HostilePeer::mounts_at(orig).size() != 1)
			c.fail("DOIT succeeded, but not on the checked file");
		else
			c.note("DOIT after the swap: mounted on the checked file");
	} else if (r != HostilePeer::kNoReply) {
		c.note("DOIT after the file swap: refused with %u", r);
	}
	c.bye();
}

/* ---- the non-root policy (helper run by nobody) ------------------------------ */

void nobody_type_fuseblk(HostilePeer &c)
{
	if (!c.start())
		return;
	if (c.hello().flags & proto::kHelloFuseblk)
		c.fail("the hello offers fuseblk to nobody (flags %u)", c.hello().flags);
	auto before = c.fds();
	c.command(proto::FsopenCommand{proto::kFsopenFuseblk}, EPERM, "TYPE fuseblk as nobody");
	c.expect_same_fds(before, "TYPE fuseblk as nobody");
	c.bye();
}

void nobody_allow_other(HostilePeer &c)
{
	if (!c.start())
		return;
	/* The hello told us whether fuse.conf lets users ask for it. */
	const int expected = (c.hello().flags & proto::kHelloAllowOther) ? 0 : EPERM;
	if (expected == 0) {
		c.note("fuse.conf has user_allow_other: allow_other is allowed");
		c.command(proto::MntOptsCommand{"default_permissions,allow_other"}, 0,
			  "OPTS allow_other as nobody");
	} else if (c.command(proto::MntOptsCommand{"allow_root"}, EPERM,
			     "OPTS allow_root as nobody") &&
		   c.command(proto::MntOptsCommand{"default_permissions,allow_other"}, EPERM,
			     "OPTS allow_other as nobody")) {
		c.command(proto::MntOptsCommand{"default_permissions"}, 0,
			  "OPTS of a harmless option after the refusals");
	}
	c.bye();
}

/*
 * Options the helper itself sets on the kernel mount (fd=, user_id=...):
 * a server that slips them into OPTS must be refused, or overridden.
 */
void injected_opts(HostilePeer &c, const char *opts)
{
	if (!c.start() || !c.command(proto::FsopenCommand{0}, 0, "TYPE") ||
	    !c.command(proto::SourceCommand{"hostile"}, 0, "NAME") ||
	    !c.command(proto::MountpointCommand{kFmtDir, c.paths().mnt()}, 0, "MNTP"))
		return;
	const uint32_t r = c.ask(proto::MntOptsCommand{opts}, "OPTS with helper-owned keys");
	if (r == HostilePeer::kNoReply)
		return;
	if (r != 0) {
		c.note("OPTS '%s': refused with %u", opts, r);
		c.bye();
		return;
	}
	const uint32_t d = c.ask(proto::MountCommand{kSafeMsFlags}, "DOIT");
	if (d == 0) {
		const std::string o = HostilePeer::mount_options(c.paths().mnt());
		c.note("mounted with: %s", o.c_str());
		if (o.find("user_id=65534") == std::string::npos ||
		    o.find("group_id=65534") == std::string::npos)
			c.fail("OPTS '%s' changed the mount's owner: %s", opts, o.c_str());
	} else if (d != HostilePeer::kNoReply) {
		c.note("OPTS '%s': DOIT refused with %u", opts, d);
	}
	c.bye();
}

void nobody_opts_user_id(HostilePeer &c)
{
	injected_opts(c, "user_id=0,group_id=0");
}

void nobody_opts_fd(HostilePeer &c)
{
	injected_opts(c, "fd=0,rootmode=40000");
}

void nobody_open_secret(HostilePeer &c)
{
	if (!c.start())
		return;
	auto before = c.fds();
	if (c.send(open_cmd(c.paths().secret())) == 0)
		c.expect_open("OPEN of root's 0600 file as nobody", c.paths().secret(), EACCES);
	c.expect_same_fds(before, "OPEN secret");
	c.bye();
}

void nobody_open_create(HostilePeer &c)
{
	if (!c.start())
		return;
	auto before = c.fds();
	const std::string path = c.paths().at("rootonly/new");
	if (c.send(open_cmd(path, O_RDWR | O_CREAT)) == 0)
		c.expect_open("O_CREAT in root's directory as nobody", path, EACCES);
	if (::access(path.c_str(), F_OK) == 0)
		c.fail("the helper created %s for nobody", path.c_str());
	c.expect_same_fds(before, "OPEN O_CREAT");
	c.bye();
}

void nobody_mntp_not_writable(HostilePeer &c)
{
	if (!c.start() || !c.command(proto::FsopenCommand{0}, 0, "TYPE") ||
	    !c.command(proto::SourceCommand{"hostile"}, 0, "NAME"))
		return;
	const uint32_t r = c.ask(proto::MountpointCommand{kFmtDir, c.paths().rootonly()},
				 "MNTP of root's directory as nobody");
	if (r == 0) {
		const uint32_t d =
		    c.ask(proto::MountCommand{kSafeMsFlags}, "DOIT on root's directory");
		if (d == 0)
			c.fail("nobody mounted on root's directory");
		else if (d != HostilePeer::kNoReply)
			c.note("refused at DOIT with %u", d);
	} else if (r != HostilePeer::kNoReply) {
		c.note("refused at MNTP with %u", r);
	}
	if (!HostilePeer::mounts_at(c.paths().rootonly()).empty()) {
		c.fail("mount left on %s", c.paths().rootonly().c_str());
		unmount_all(c, c.paths().rootonly());
	}
	c.bye();
}

void nobody_unsafe_flags(HostilePeer &c)
{
	/* DOIT without MS_NOSUID | MS_NODEV: the helper must add them back. */
	if (!c.start() || !c.prepare_mount(c.paths().mnt()) ||
	    !c.command(proto::MountCommand{0}, 0, "DOIT with suid and dev"))
		return;
	const std::string o = HostilePeer::mount_options(c.paths().mnt());
	c.note("mounted with: %s", o.c_str());
	if (o.find("nosuid") == std::string::npos || o.find("nodev") == std::string::npos)
		c.fail("nobody's mount allows suid or devices: %s", o.c_str());
	c.bye();
}

/* ---- issue 8: the caller's view wins over the server's -------------------- */

/* Whether a comma/space separated option list has tok as a whole token. */
bool has_token(const std::string &opts, std::string_view tok)
{
	size_t start = 0;
	for (size_t i = 0; i <= opts.size(); i++) {
		if (i == opts.size() || opts[i] == ',' || opts[i] == ' ') {
			if (std::string_view(opts).substr(start, i - start) == tok)
				return true;
			start = i + 1;
		}
	}
	return false;
}

/*
 * Finding 1: the caller mounted -o ro,nosuid,nodev,noexec; a compromised
 * server asks for allow_other and sends DOIT without any flag. Neither may
 * lower the floor (upstream 3.19 mounts rw,suid,dev,exec,allow_other).
 */
void caller_floor(HostilePeer &c)
{
	if (!c.start())
		return;
	for (const char *lower : {"allow_other", "allow_root", "async", "rw"})
		if (!c.command(proto::MntOptsCommand{lower}, EPERM,
			       "OPTS lowering what the caller asked for"))
			return;
	if (!c.command(proto::MntOptsCommand{"max_read=131072"}, 0, "OPTS max_read") ||
	    !c.prepare_mount(c.paths().mnt()) ||
	    !c.command(proto::MountCommand{0}, 0, "DOIT without any flag"))
		return;
	const std::string o = HostilePeer::mount_options(c.paths().mnt());
	c.note("mounted with: %s", o.c_str());
	for (const char *want : {"ro", "nosuid", "nodev", "noexec", "noatime", "nodiratime", "sync",
				 "dirsync", "default_permissions"})
		if (!has_token(o, want))
			c.fail("the caller's %s is missing: %s", want, o.c_str());
	for (const char *unwanted : {"allow_other", "allow_root", "rw"})
		if (has_token(o, unwanted))
			c.fail("the server got %s: %s", unwanted, o.c_str());
	c.bye();
}

/* DOIT 0 from the server; expect[] must be among the options, refuse[] not. */
void doit_no_flags(HostilePeer &c, std::initializer_list<const char *> expect,
		   std::initializer_list<const char *> refuse)
{
	if (!c.start() || !c.prepare_mount(c.paths().mnt()) ||
	    !c.command(proto::MountCommand{0}, 0, "DOIT without any flag"))
		return;
	const std::string o = HostilePeer::mount_options(c.paths().mnt());
	c.note("mounted with: %s", o.c_str());
	for (const char *want : expect)
		if (!has_token(o, want))
			c.fail("%s is missing: %s", want, o.c_str());
	for (const char *unwanted : refuse)
		if (has_token(o, unwanted))
			c.fail("%s is there: %s", unwanted, o.c_str());
	c.bye();
}

/* No -o from the caller: nosuid,nodev all the same (the image is untrusted). */
void caller_floor_none(HostilePeer &c)
{
	doit_no_flags(c, {"nosuid", "nodev"}, {});
}

/* Root asked for suid,dev: only then may the mount have them. */
void caller_floor_suid_dev(HostilePeer &c)
{
	doit_no_flags(c, {}, {"nosuid", "nodev"});
}

/*
 * Finding 4: MNTP of the caller's SOURCE (a directory here), not its
 * mountpoint: the server would cover the source instead (upstream 3.19
 * accepts any positional argument).
 */
void mntp_source_rootonly(HostilePeer &c)
{
	refused_command(c, proto::MountpointCommand{kFmtDir, c.paths().rootonly()}, EINVAL,
			"MNTP of the source directory");
}

void mntp_source_mnt(HostilePeer &c)
{
	refused_command(c, proto::MountpointCommand{kFmtDir, c.paths().mnt()}, EINVAL,
			"MNTP of the source directory");
}

/* ---- the caller's arguments ----------------------------------------------- */

/* A third positional argument is neither the source nor the mountpoint. */
void mntp_third_positional(HostilePeer &c)
{
	if (!c.start() || !c.command(proto::MountpointCommand{kFmtDir, c.paths().rootonly()},
				     EINVAL, "MNTP of the third positional argument"))
		return;
	c.command(proto::MountpointCommand{kFmtDir, c.paths().mnt()}, 0, "MNTP of the mountpoint");
	c.bye();
}

/* The only positional argument is the mountpoint. */
void mntp_lone_positional(HostilePeer &c)
{
	if (c.start())
		c.command(proto::MountpointCommand{kFmtDir, c.paths().mnt()}, 0,
			  "MNTP of the lone positional argument");
	c.bye();
}

void mntp_missing(HostilePeer &c)
{
	refused_command(c, proto::MountpointCommand{0, c.paths().missing()}, ENOENT,
			"MNTP of a missing path");
}

/* Every form in which a caller names a file: -o KEY=PATH, --KEY=PATH, -XPATH,
 * a positional; anything else is refused (see open_not_in_args). */
void open_argument_forms(HostilePeer &c)
{
	if (!c.start())
		return;
	auto before = c.fds();
	for (const std::string &path : {c.paths().file(), c.paths().at("file.other"),
					c.paths().secret(), c.paths().rootonly()}) {
		if (c.send(open_cmd(path)) != 0)
			return;
		auto r = c.open_reply("OPEN of a named path");
		if (r && (r->error != 0 || r->path != path))
			c.fail("OPEN '%s': reply '%s' error %u", path.c_str(), r->path.c_str(),
			       r->error);
	}
	if (c.send(open_cmd(kNotAnArgument)) == 0)
		c.expect_open("OPEN of a path not on the command line", kNotAnArgument, EPERM);
	c.expect_same_fds(before, "OPEN of named paths (their fds are ours, not the helper's)");
	c.bye();
}

/* ---- what the hello offers ------------------------------------------------ */

void type_fuseblk(HostilePeer &c)
{
	if (!c.start())
		return;
	const uint32_t all = proto::kHelloAllowOther | proto::kHelloFuseblk;
	if (c.hello().flags != all)
		c.fail("hello to root: flags %u, expected %u", c.hello().flags, all);
	c.command(proto::FsopenCommand{proto::kFsopenFuseblk}, 0, "TYPE fuseblk as root");
	c.bye();
}

/* ---- options the helper owns or bounds ------------------------------------- */

void opts_helper_keys(HostilePeer &c)
{
	if (!c.start())
		return;
	auto before = c.fds();
	for (const char *o : {"fd=3", "context=\"a,user_id=0\"", "rootmode=40000", "subtype=evil"})
		if (!c.command(proto::MntOptsCommand{o}, EPERM, "OPTS with a helper-owned key"))
			return;
	c.command(proto::MntOptsCommand{"default_permissions"}, 0, "OPTS without one");
	c.expect_same_fds(before, "OPTS with helper-owned keys");
	c.bye();
}

/* DOIT flags beyond what a mount attribute expresses: MS_BIND, MS_REMOUNT. */
void doit_forbidden_flags(HostilePeer &c)
{
	if (!c.start() || !c.prepare_mount(c.paths().mnt()))
		return;
	auto before = c.fds();
	for (uint32_t flags : {kSafeMsFlags | MS_BIND, kSafeMsFlags | MS_REMOUNT | MS_RDONLY})
		if (!c.command(proto::MountCommand{flags}, EINVAL, "DOIT with a forbidden flag"))
			return;
	if (!HostilePeer::mounts_at(c.paths().mnt()).empty())
		c.fail("a DOIT with a forbidden flag mounted");
	c.expect_same_fds(before, "DOIT with forbidden flags");
	c.bye();
}

void nobody_mtab_user_forged(HostilePeer &c)
{
	if (c.start() &&
	    c.command(proto::MtabOptsCommand{"user=root"}, EPERM, "MTAB naming someone else"))
		c.command(proto::MtabOptsCommand{"user=nobody,x-a=1"}, 0, "MTAB naming the caller");
	c.bye();
}

void mtab_too_long(HostilePeer &c)
{
	if (c.start() && c.command(proto::MtabOptsCommand{"x-big=" + std::string(2000, 'a')},
				   EINVAL, "2 KB of MTAB options"))
		c.command(proto::MtabOptsCommand{"x-a=1"}, 0, "small MTAB options");
	c.bye();
}

/* OPTS of exactly len bytes that the new mount API accepts. */
std::string padded_opts(size_t len)
{
	std::string s;
	while (s.size() + 20 + 28 <= len)
		s += "default_permissions,";
	std::string n = "131072";
	n.insert(0, len - s.size() - 9 - n.size(), '0');
	return s + "max_read=" + n;
}

/*
 * MS_SILENT (0x8000) cannot force the mount(2) fallback, and options near a
 * page cannot push the helper's user_id/group_id out of what the kernel keeps.
 */
void nobody_opts_page_silent(HostilePeer &c)
{
	const std::string opts = padded_opts(4048);
	if (!c.start() || !c.command(proto::MntOptsCommand{opts}, 0, "OPTS of 4048 bytes") ||
	    !c.prepare_mount(c.paths().mnt()) ||
	    !c.command(proto::MountCommand{kSafeMsFlags | MS_SILENT}, 0, "DOIT with MS_SILENT"))
		return;
	const std::string o = HostilePeer::mount_options(c.paths().mnt());
	if (!has_token(o, "user_id=65534") || !has_token(o, "group_id=65534"))
		c.fail("the caller's user_id/group_id are not whole: %s", o.c_str());
	c.bye();
}

/* ---- ending ------------------------------------------------------------------ */

/* Refused commands do not end the conversation: a goodbye 0 after them is a success. */
void malformed_then_bye_zero(HostilePeer &c)
{
	if (!c.start())
		return;
	const std::string mnt = c.paths().mnt() + std::string(1, '\0');
	const RawPacket refused_simple[] = {
	    RawPacket(proto::kFsopenCmd).u32(0).nul(), /* 9-byte TYPE */
	    mntp_packet(0x1000 /* S_IFIFO */, 0, mnt), /* a FIFO mountpoint */
	    mntp_packet(kFmtDir, 1, mnt),              /* padding */
	    RawPacket(proto::kSourceCmd).str("abc"),   /* no NUL */
	};
	for (const RawPacket &p : refused_simple)
		if (c.send_raw(p.bytes()) != 0 || !c.expect_simple("malformed command", EINVAL))
			return;
	if (c.send_raw(open_packet(0, "abc").bytes()) != 0 ||
	    !c.expect_open("OPEN without NUL", "?", EINVAL) ||
	    c.send_raw(open_packet(0x2, std::string_view("/x\0", 3)).bytes()) != 0 ||
	    !c.expect_open("OPEN with unknown flags", "/x", EINVAL) ||
	    !c.command(proto::SourceCommand{"ok"}, 0, "NAME after the refusals"))
		return;
	c.bye(0);
}

void bye_zero_unmounted(HostilePeer &c)
{
	if (c.start())
		c.bye(0);
}

/* A mount made for nobody, then a failing goodbye: the helper takes it down. */
void nobody_bye_failure_after_mount(HostilePeer &c)
{
	if (c.start() && c.prepare_mount(c.paths().mnt()) &&
	    c.command(proto::MountCommand{kSafeMsFlags}, 0, "DOIT"))
		c.bye(5);
}

/* A server that keeps talking (a refused command every 300 ms) is cut off
 * by the overall deadline (four times --timeout=1), not by the silence one. */
void spam_refused_commands(HostilePeer &c)
{
	if (!c.start())
		return;
	const RawPacket refused = RawPacket(proto::kFsopenCmd).u32(0x80);
	int n = 0;
	for (;;) {
		::usleep(300 * 1000);
		if (c.send_raw(refused.bytes()) != 0)
			break;
		auto pkt = c.recv(FdPolicy::AcceptOne, 60000);
		if (!pkt)
			break;
		n++;
	}
	c.note("%d refusals before the helper gave up", n);
	if (n < 2)
		c.fail(
		    "only %d refusals: the server was silent long enough for the silence timeout",
		    n);
}

/* ---- the non-root policy: the mountpoint as the caller --------------------- */

void nobody_open_secret_quiet(HostilePeer &c)
{
	if (!c.start())
		return;
	proto::OpenCommand o = open_cmd(c.paths().secret());
	o.request_flags = proto::kOpenQuiet;
	if (c.send(o) == 0)
		c.expect_open("QUIET OPEN of root's 0600 file as nobody", c.paths().secret(),
			      EACCES);
	c.bye();
}

void nobody_mntp_file_not_writable(HostilePeer &c)
{
	refused_command(c, proto::MountpointCommand{kFmtReg, c.paths().src()}, EACCES,
			"MNTP of root's 0644 file as nobody");
}

void nobody_mntp_lookup(HostilePeer &c)
{
	refused_command(c, proto::MountpointCommand{kFmtDir, c.paths().private_mnt()}, EACCES,
			"MNTP under root's 0700 directory as nobody");
}
} // namespace

/* clang-format off */
const std::vector<Scenario> &all_scenarios()
{
	using R = RunAs;
	static const std::vector<Scenario> table = {
	/* name                         as         source   mountpoint  extra  stderr  serve */
	{"hello_reply_short",           R::Root,   "src",   "mnt",      {},    "did not reply to hello",     hello_reply_short},
	{"hello_reply_truncated",       R::Root,   "src",   "mnt",      {},    "did not reply to hello",     hello_reply_truncated},
	{"hello_reply_long",            R::Root,   "src",   "mnt",      {},    "did not reply to hello",     hello_reply_long},
	{"hello_reply_oversize",        R::Root,   "src",   "mnt",      {},    "hello reply: Message too long",     hello_reply_oversize},
	{"hello_reply_wrong_magic",     R::Root,   "src",   "mnt",      {},    "did not reply to hello",     hello_reply_wrong_magic},
	{"hello_reply_padding",         R::Root,   "src",   "mnt",      {},    "nonzero value in padding field",     hello_reply_padding},
	{"hello_reply_version2",        R::Root,   "src",   "mnt",      {},    "unsupported protocol version",     hello_reply_version},
	{"hello_reply_version0",        R::Root,   "src",   "mnt",      {},    "unsupported protocol version",     hello_reply_version0},
	{"hello_reply_empty_packet",    R::Root,   "src",   "mnt",      {},    "exited without saying goodbye",     hello_reply_empty_packet},
	{"hello_reply_with_fd",         R::Root,   "src",   "mnt",      {},    "fuse server failed mount",     hello_reply_with_fd},
	{"hang_before_reading",         R::Root,   "src",   "mnt",      {},    "did not answer the hello within 2 seconds",     hang_before_reading, 2},
	{"hang_before_hello_reply",     R::Root,   "src",   "mnt",      {},    "did not answer the hello within 2 seconds",     hang_before_hello_reply, 2},
	{"hang_after_files",            R::Root,   "src",   "mnt",      {},    "sent nothing for 2 seconds",     hang_after_files, 2},
	{"close_before_hello_reply",    R::Root,   "src",   "mnt",      {},    "exited without saying goodbye",     close_before_hello_reply},
	{"crash_before_hello_reply",    R::Root,   "src",   "mnt",      {},    "exited without saying goodbye",     crash_before_hello_reply},
	{"open_short",                  R::Root,   "src",   "mnt",      {},    "malformed open command",     open_short},
	{"open_missing_nul",            R::Root,   "src",   "mnt",      {},    "malformed open command",     open_missing_nul},
	{"open_empty_path",             R::Root,   "src",   "mnt",      {},    "malformed open command",     open_empty_path},
	{"open_inner_nul",              R::Root,   "src",   "mnt",      {},    "malformed open command",     open_inner_nul},
	{"open_unknown_flags",          R::Root,   "src",   "mnt",      {},    "malformed open command",     open_unknown_flags},
	{"bdev_regular_file",           R::Root,   "src",   "mnt",      {},    "/src: Block device required",     bdev_regular_file},
	{"open_not_in_args",            R::Root,   "src",   "mnt",      {},    "/etc/shadow: file must be in command line arguments",     open_not_in_args},
	{"open_path_verbatim",          R::Root,   "./src", "mnt",      {},    "/src: file must be in command line arguments",     open_path_verbatim},
	{"open_quiet_missing",          R::Root,   "missing", "mnt",    {},    "fuse server failed mount", open_quiet_missing, 10, "/missing"},
	{"open_flood_granted",          R::Root,   "src",   "mnt",      {},    "fuse server failed mount",     open_flood_granted},
	{"open_flood_refused",          R::Root,   "src",   "mnt",      {},    "fuse server failed mount",     open_flood_refused},
	{"type_short",                  R::Root,   "src",   "mnt",      {},    "malformed fsopen command",     type_short},
	{"type_long",                   R::Root,   "src",   "mnt",      {},    "malformed fsopen command",     type_long},
	{"type_unknown_flags",          R::Root,   "src",   "mnt",      {},    "malformed fsopen command",     type_unknown_flags},
	{"type_repeat",                 R::Root,   "src",   "mnt",      {},    "fsopen command respecified",     type_repeat},
	{"doit_short",                  R::Root,   "src",   "mnt",      {},    "malformed mount command",     doit_short},
	{"doit_long",                   R::Root,   "src",   "mnt",      {},    "malformed mount command",     doit_long},
	{"bye_short",                   R::Root,   "src",   "mnt",      {},    "malformed bye command",     bye_short},
	{"name_missing_nul",            R::Root,   "src",   "mnt",      {},    "malformed mount source command",     name_missing_nul},
	{"name_empty",                  R::Root,   "src",   "mnt",      {},    "malformed mount source command",     name_empty},
	{"name_bare_magic",             R::Root,   "src",   "mnt",      {},    "malformed mount source command",     name_bare_magic},
	{"name_repeat",                 R::Root,   "src",   "mnt",      {},    "source respecified",     name_repeat},
	{"name_max_size",               R::Root,   "src",   "mnt",      {},    "fuse server failed mount",     name_max_size},
	{"opts_missing_nul",            R::Root,   "src",   "mnt",      {},    "malformed mount options command",     opts_missing_nul},
	{"opts_empty",                  R::Root,   "src",   "mnt",      {},    "malformed mount options command",     opts_empty},
	{"opts_inner_nul",              R::Root,   "src",   "mnt",      {},    "malformed mount options command",     opts_inner_nul},
	{"opts_repeat",                 R::Root,   "src",   "mnt",      {},    "mount options respecified",     opts_repeat},
	{"mtab_missing_nul",            R::Root,   "src",   "mnt",      {},    "malformed mtab options command",     mtab_missing_nul},
	{"mtab_empty",                  R::Root,   "src",   "mnt",      {},    "malformed mtab options command",     mtab_empty},
	{"mtab_repeat",                 R::Root,   "src",   "mnt",      {},    "mtab options respecified",     mtab_repeat},
	{"mntp_padding",                R::Root,   "src",   "mnt",      {},    "malformed mount point command",     mntp_padding},
	{"mntp_bad_format",             R::Root,   "src",   "mnt",      {},    "malformed mount point command",     mntp_bad_format},
	{"mntp_missing_nul",            R::Root,   "src",   "mnt",      {},    "malformed mount point command",     mntp_missing_nul},
	{"mntp_empty",                  R::Root,   "src",   "mnt",      {},    "malformed mount point command",     mntp_empty},
	{"mntp_short",                  R::Root,   "src",   "mnt",      {},    "malformed mount point command",     mntp_short},
	{"mntp_not_in_args",            R::Root,   "src",   "mnt",      {},    "mount point must be in command line arguments",     mntp_not_in_args},
	{"mntp_option_value",           R::Root,   "src",   "mnt",      {"-o", "cache=@/rootonly"}, "mount point must be in command line arguments", mntp_option_value},
	{"mntp_repeat",                 R::Root,   "src",   "mnt",      {},    "mount point respecified",     mntp_repeat},
	{"mntp_dir_as_file",            R::Root,   "src",   "mnt",      {},    "/mnt: Is a directory",     mntp_dir_as_file},
	{"mntp_file_as_dir",            R::Root,   "src",   "file",     {},    "/file: Not a directory",     mntp_file_as_dir},
	{"doit_first",                  R::Root,   "src",   "mnt",      {},    "missing mount source parameter",     doit_first},
	{"doit_without_mntp",           R::Root,   "src",   "mnt",      {},    "missing mount point parameter",     doit_without_mntp},
	{"doit_without_name",           R::Root,   "src",   "mnt",      {},    "missing mount source parameter",     doit_without_name},
	{"doit_repeat",                 R::Root,   "src",   "mnt",      {},    "mount command repeated",     doit_repeat},
	{"unknown_magic",               R::Root,   "src",   "mnt",      {},    "unrecognized packet 0x58585858 (XXXX)",     unknown_magic},
	{"reply_magic_as_command",      R::Root,   "src",   "mnt",      {},    "unrecognized packet 0x5245504c (REPL)",     reply_magic_as_command},
	{"hello_reply_as_command",      R::Root,   "src",   "mnt",      {},    "unrecognized packet 0x4c415354 (LAST)",     hello_as_command},
	{"command_two_bytes",           R::Root,   "src",   "mnt",      {},    "wrong command packet size 2",     command_two_bytes},
	{"command_empty_packet",        R::Root,   "src",   "mnt",      {},    "exited without saying goodbye",     command_empty_packet},
	{"command_oversize",            R::Root,   "src",   "mnt",      {},    "command packet larger than 65536 bytes",     command_oversize},
	{"command_oversize_open",       R::Root,   "src",   "mnt",      {},    "command packet larger than 65536 bytes",     command_oversize_open},
	{"push_fd_with_name",           R::Root,   "src",   "mnt",      {},    "fuse server failed mount",     push_fd_with_name},
	{"push_two_fds_with_open",      R::Root,   "src",   "mnt",      {},    "fuse server failed mount",     push_two_fds_with_open},
	{"push_fusedev_back",           R::Root,   "src",   "mnt",      {},    "fuse server failed mount",     push_fusedev_back},
	{"push_socket_fd",              R::Root,   "src",   "mnt",      {},    "fuse server failed mount",     push_socket_fd},
	{"close_after_files",           R::Root,   "src",   "mnt",      {},    "exited without saying goodbye",     close_after_files},
	{"close_after_mntp",            R::Root,   "src",   "mnt",      {},    "exited without saying goodbye",     close_after_mntp},
	{"crash_mid_conversation",      R::Root,   "src",   "mnt",      {},    "exited without saying goodbye",     crash_mid_conversation},
	{"bye_failure",                 R::Root,   "src",   "mnt",      {},    "fuse server failed mount",     bye_failure},
	{"bye_after_refused_doit",      R::Root,   "src",   "mnt",      {},    "missing mount source parameter",     bye_after_doit_refused},
	{"mntp_symlink_swap",           R::Root,   "src",   "mnt",      {},    "fuse server failed mount",     mntp_symlink_swap},
	{"nobody_mntp_symlink_swap",    R::Nobody, "src",   "mnt",      {},    "fuse server failed mount",     mntp_symlink_swap},
	{"nobody_mntp_file_swap",       R::Nobody, "src",   "file",     {},    "fuse server failed mount",     mntp_file_swap},
	{"nobody_type_fuseblk",         R::Nobody, "src",   "mnt",      {},    "fuseblk requires root privilege",     nobody_type_fuseblk},
	{"nobody_allow_other",          R::Nobody, "src",   "mnt",      {},    "fuse server failed mount",     nobody_allow_other},
	{"nobody_opts_user_id",         R::Nobody, "src",   "mnt",      {},    "mount option user_id is set by the helper",     nobody_opts_user_id},
	{"nobody_opts_fd",              R::Nobody, "src",   "mnt",      {},    "mount option fd is set by the helper",     nobody_opts_fd},
	{"nobody_open_secret",          R::Nobody, "secret", "mnt",     {},    "/secret: Permission denied",     nobody_open_secret},
	{"nobody_open_create",          R::Nobody, "rootonly/new", "mnt", {},  "/rootonly/new: Permission denied",     nobody_open_create},
	{"nobody_mntp_not_writable",    R::Nobody, "src",   "rootonly", {},    "user has no write access to mountpoint",     nobody_mntp_not_writable},
	{"nobody_unsafe_flags",         R::Nobody, "src",   "mnt",      {},    "unsafe option suid ignored",     nobody_unsafe_flags},
	{"mntp_source",                 R::Root,   "rootonly", "mnt",   {},    "mount point must be in command line arguments", mntp_source_rootonly},
	{"nobody_mntp_source",          R::Nobody, "mnt",   "file",     {},    "mount point must be in command line arguments", mntp_source_mnt},
	{"caller_floor",                R::Root,   "src",   "mnt",      {"-o", "ro,nosuid,nodev,noexec,noatime,nodiratime,sync,dirsync,default_permissions"}, "allow_other was not given by the caller", caller_floor},
	{"nobody_caller_floor",         R::Nobody, "src",   "mnt",      {"-o", "ro,nosuid,nodev,noexec,noatime,nodiratime,sync,dirsync,default_permissions"}, "unsafe option suid ignored", caller_floor},
	{"caller_floor_none",           R::Root,   "src",   "mnt",      {},    "unsafe option suid ignored", caller_floor_none},
	{"nobody_caller_floor_none",    R::Nobody, "src",   "mnt",      {},    "unsafe option suid ignored", caller_floor_none},
	{"caller_floor_suid_dev",       R::Root,   "src",   "mnt",      {"-o", "nosuid,suid,dev"}, "fuse server failed mount", caller_floor_suid_dev},
	{"mntp_third_positional",       R::Root,   "src",   "mnt",      {"@/rootonly"}, "mount point must be in command line arguments", mntp_third_positional},
	{"nobody_mntp_third_positional", R::Nobody, "src",  "mnt",      {"@/rootonly"}, "mount point must be in command line arguments", mntp_third_positional},
	{"mntp_lone_positional",        R::Root,   nullptr, "mnt",      {},    "fuse server failed mount",    mntp_lone_positional},
	{"nobody_mntp_lone_positional", R::Nobody, nullptr, "mnt",      {},    "fuse server failed mount",    mntp_lone_positional},
	{"mntp_missing",                R::Root,   "src",   "missing",  {},    "/missing: No such file or directory", mntp_missing},
	{"open_argument_forms",         R::Root,   "src",   "mnt",      {"-o", "ro,backing=@/file", "--name=@/file.other", "-X@/secret", "@/rootonly"}, "/etc/shadow: file must be in command line arguments", open_argument_forms},
	{"type_fuseblk",                R::Root,   "src",   "mnt",      {},    "fuse server failed mount",    type_fuseblk},
	{"opts_helper_keys",            R::Root,   "src",   "mnt",      {},    "mount option fd is set by the helper", opts_helper_keys},
	{"doit_forbidden_flags",        R::Root,   "src",   "mnt",      {},    "mount flags 0x1000 are not allowed", doit_forbidden_flags},
	{"nobody_mtab_user_forged",     R::Nobody, "src",   "mnt",      {},    "mtab option user=root does not name the calling user", nobody_mtab_user_forged},
	{"mtab_too_long",               R::Root,   "src",   "mnt",      {},    "mtab options longer than 1024 bytes", mtab_too_long},
	{"nobody_opts_page_silent",     R::Nobody, "src",   "mnt",      {},    "fuse server failed mount",    nobody_opts_page_silent},
	{"malformed_then_bye_zero",     R::Root,   "src",   "mnt",      {},    "malformed fsopen command",    malformed_then_bye_zero, 10, nullptr, true},
	{"bye_zero_unmounted",          R::Root,   "src",   "mnt",      {},    "",                            bye_zero_unmounted, 10, nullptr, true},
	{"nobody_bye_failure_after_mount", R::Nobody, "src", "mnt",     {},    "fuse server failed mount",    nobody_bye_failure_after_mount},
	{"spam_refused_commands",       R::Root,   "src",   "mnt",      {},    "did not finish the mount within 4 seconds", spam_refused_commands, 1},
	{"nobody_open_secret_quiet",    R::Nobody, "secret", "mnt",     {},    "fuse server failed mount",    nobody_open_secret_quiet, 10, "/secret"},
	{"nobody_mntp_file_not_writable", R::Nobody, "file", "src",     {},    "/src: Permission denied",     nobody_mntp_file_not_writable},
	{"nobody_mntp_lookup",          R::Nobody, "src",   "private/mnt", {}, "/private/mnt: Permission denied", nobody_mntp_lookup},
	};
	return table;
}
/* clang-format on */

const Scenario *find_scenario(std::string_view name)
{
	for (const Scenario &s : all_scenarios())
		if (name == s.name)
			return &s;
	return nullptr;
}

} // namespace fsvc::hostile
