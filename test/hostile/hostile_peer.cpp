/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "hostile_peer.h"

#include <cerrno>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <poll.h>
#include <sstream>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

#include "core/argv_memfd.h"

namespace fsvc::hostile
{

namespace
{

std::string vformat(const char *fmt, va_list ap)
{
	char line[2048];
	std::vsnprintf(line, sizeof(line), fmt, ap);
	return line;
}

std::string errname(int err)
{
	return err == 0 ? "0" : std::string(strerrorname_np(err) ? strerrorname_np(err) : "?");
}

/* Syscalls in which the helper sits when it waits for our next packet. */
bool is_waiting_syscall(long nr)
{
	switch (nr) {
	case 0:   /* read */
	case 7:   /* poll */
	case 23:  /* select */
	case 45:  /* recvfrom */
	case 47:  /* recvmsg */
	case 232: /* epoll_wait */
	case 270: /* pselect6 */
	case 271: /* ppoll */
	case 281: /* epoll_pwait */
	case 441: /* epoll_pwait2 */
		return true;
	default:
		return false;
	}
}

/* Unescape the octal escapes of /proc/self/mountinfo. */
std::string unescape(const std::string &s)
{
	std::string out;
	for (size_t i = 0; i < s.size(); i++) {
		if (s[i] == '\\' && i + 3 < s.size()) {
			out.push_back(static_cast<char>(std::stoi(s.substr(i + 1, 3), nullptr, 8)));
			i += 3;
		} else {
			out.push_back(s[i]);
		}
	}
	return out;
}

} // namespace

HostilePeer::HostilePeer(int sock, Paths paths) : sock_(sock), paths_(std::move(paths))
{
	ucred cred{};
	socklen_t len = sizeof(cred);
	if (::getsockopt(sock_, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
		peer_ = cred.pid;
	else
		fail("SO_PEERCRED: %s", std::strerror(errno));
}

bool HostilePeer::fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	failures_.push_back(vformat(fmt, ap));
	va_end(ap);
	return false;
}

void HostilePeer::note(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	notes_.push_back(vformat(fmt, ap));
	va_end(ap);
}

void HostilePeer::write_report() const
{
	std::string text;
	if (failures_.empty())
		text = "PASS\n";
	for (const auto &f : failures_)
		text += "FAIL: " + f + "\n";
	for (const auto &n : notes_)
		text += "note: " + n + "\n";
	/* Written then renamed: the driver never reads half a report. */
	const std::string tmp = paths_.report() + ".tmp";
	{
		std::ofstream out(tmp);
		out << text;
	}
	(void)std::rename(tmp.c_str(), paths_.report().c_str());
}

int HostilePeer::send_raw(std::span<const std::byte> bytes, std::span<const int> fds)
{
	iovec iov{const_cast<std::byte *>(bytes.data()), bytes.size()};
	msghdr msg{};
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	std::vector<char> control(CMSG_SPACE(sizeof(int) * (fds.empty() ? 1 : fds.size())));
	if (!fds.empty()) {
		msg.msg_control = control.data();
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
		cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
		std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
	}
	if (::sendmsg(sock_, &msg, MSG_EOR | MSG_NOSIGNAL) < 0)
		return -errno;
	return 0;
}

int HostilePeer::send(const proto::Command &cmd)
{
	auto bytes = proto::encode(cmd);
	if (bytes.empty()) {
		fail("test bug: command does not encode");
		return -EINVAL;
	}
	return send_packet(sock_, bytes);
}

Result<Packet> HostilePeer::recv(FdPolicy policy, int timeout_ms)
{
	return recv_packet(sock_, policy, timeout_ms);
}

std::optional<proto::Hello> HostilePeer::recv_hello()
{
	auto pkt = recv(FdPolicy::Refuse);
	if (!pkt) {
		fail("hello: %s", std::strerror(-pkt.error()));
		return std::nullopt;
	}
	auto h = proto::decode_hello(pkt->data);
	if (!h) {
		fail("hello: malformed (%s)", std::strerror(-h.error()));
		return std::nullopt;
	}
	hello_ = *h;
	return hello_;
}

bool HostilePeer::send_hello_reply()
{
	int r = send_packet(sock_, proto::encode(proto::HelloReply{}));
	return r == 0 || fail("hello reply: %s", std::strerror(-r));
}

bool HostilePeer::recv_files()
{
	auto argv = open_reply("argv file");
	if (!argv)
		return false;
	if (argv->path != proto::kArgvFileName || argv->error != 0 || !argv->fd.isValid())
		return fail("argv file: got '%s' error %u", argv->path.c_str(), argv->error);
	auto args = read_argv_memfd(argv->fd.get());
	if (!args)
		return fail("argv file: %s", std::strerror(-args.error()));
	args_ = std::move(*args);

	auto dev = open_reply("fusedev file");
	if (!dev)
		return false;
	if (dev->path != proto::kFusedevFileName || dev->error != 0 || !dev->fd.isValid())
		return fail("fusedev file: got '%s' error %u", dev->path.c_str(), dev->error);
	char target[64] = {};
	const std::string link = "/proc/self/fd/" + std::to_string(dev->fd.get());
	if (::readlink(link.c_str(), target, sizeof(target) - 1) < 0 ||
	    std::string_view(target) != "/dev/fuse")
		return fail("fusedev file is '%s', not /dev/fuse", target);
	if ((::fcntl(dev->fd.get(), F_GETFL) & O_ACCMODE) != O_RDWR)
		return fail("fusedev file is not open O_RDWR");
	fusedev_ = std::move(dev->fd);
	return true;
}

bool HostilePeer::lean_helper()
{
	auto table = fds();
	if (!table)
		return false;
	std::string extra;
	int fusedevs = 0, sockets = 0, stdio = 0;
	for (const auto &[fd, target] : *table) {
		if (fd >= 1024)
			continue;
		if (fd <= 2)
			stdio++;
		else if (target == "/dev/fuse")
			fusedevs++;
		else if (target.starts_with("socket:["))
			sockets++;
		else /* append(), not operator+: GCC 12 -O3 warns falsely (-Wrestrict, PR105651) */
			extra.append(" ").append(std::to_string(fd)).append("=").append(target);
	}
	if (stdio != 3 || fusedevs != 1 || sockets != 1 || !extra.empty())
		return fail("helper fds after the files: %d stdio, %d fuse, %d sockets, others:%s",
			    stdio, fusedevs, sockets, extra.c_str());
	return true;
}

std::optional<uint32_t> HostilePeer::simple_reply(const char *what)
{
	auto pkt = recv(FdPolicy::AcceptOne);
	if (!pkt) {
		fail("%s: no reply: %s", what, std::strerror(-pkt.error()));
		return std::nullopt;
	}
	if (pkt->fd.isValid())
		fail("%s: the helper sent an fd with a simple reply", what);
	auto r = proto::decode_simple_reply(pkt->data);
	if (!r) {
		fail("%s: malformed reply (%zu bytes, magic %s)", what, pkt->data.size(),
		     proto::magic_name(proto::packet_magic(pkt->data)).c_str());
		return std::nullopt;
	}
	return r->error;
}

bool HostilePeer::expect_simple(const char *what, int err)
{
	auto r = simple_reply(what);
	if (!r)
		return false;
	if (*r != static_cast<uint32_t>(err))
		return fail("%s: helper replied %s, expected %s", what,
			    errname(static_cast<int>(*r)).c_str(), errname(err).c_str());
	note("%s: %s", what, errname(err).c_str());
	return true;
}

std::optional<OpenReplyRx> HostilePeer::open_reply(const char *what)
{
	auto pkt = recv(FdPolicy::AcceptOne);
	if (!pkt) {
		fail("%s: no reply: %s", what, std::strerror(-pkt.error()));
		return std::nullopt;
	}
	auto r = proto::decode_open_reply(pkt->data);
	if (!r) {
		fail("%s: malformed reply (%zu bytes, magic %s)", what, pkt->data.size(),
		     proto::magic_name(proto::packet_magic(pkt->data)).c_str());
		return std::nullopt;
	}
	if (r->error != 0 && pkt->fd.isValid())
		fail("%s: refusal %u came with an fd", what, r->error);
	if (r->error == 0 && !pkt->fd.isValid())
		fail("%s: success without an fd", what);
	return OpenReplyRx{r->error, std::move(r->path), std::move(pkt->fd)};
}

bool HostilePeer::expect_open(const char *what, std::string_view path, int err)
{
	auto r = open_reply(what);
	if (!r)
		return false;
	if (r->path != path)
		return fail("%s: reply path '%s', expected '%.*s'", what, r->path.c_str(),
			    static_cast<int>(path.size()), path.data());
	if (r->error != static_cast<uint32_t>(err))
		return fail("%s: helper replied %s, expected %s", what,
			    errname(static_cast<int>(r->error)).c_str(), errname(err).c_str());
	return true;
}

uint32_t HostilePeer::ask(const proto::Command &cmd, const char *what)
{
	if (int r = send(cmd); r < 0) {
		fail("%s: send: %s", what, std::strerror(-r));
		return kNoReply;
	}
	return simple_reply(what).value_or(kNoReply);
}

bool HostilePeer::command(const proto::Command &cmd, int err, const char *what)
{
	int r = send(cmd);
	if (r < 0)
		return fail("%s: send: %s", what, std::strerror(-r));
	return expect_simple(what, err);
}

bool HostilePeer::prepare_mount(const std::string &mountpoint, uint16_t fmt)
{
	return command(proto::FsopenCommand{0}, 0, "TYPE") &&
	       command(proto::SourceCommand{"hostile"}, 0, "NAME") &&
	       command(proto::MountpointCommand{fmt, mountpoint}, 0, "MNTP");
}

bool HostilePeer::wait_helper_idle()
{
	const std::string path = "/proc/" + std::to_string(peer_) + "/syscall";
	for (int i = 0; i < 20000; i++) {
		std::ifstream in(path);
		std::string first;
		if (!(in >> first))
			return fail("helper %d is gone (no %s)", peer_, path.c_str());
		if (first != "running" &&
		    is_waiting_syscall(std::strtol(first.c_str(), nullptr, 10)))
			return true;
		std::this_thread::sleep_for(std::chrono::milliseconds(1));
	}
	return fail("helper %d never blocked waiting for us", peer_);
}

std::optional<FdTable> HostilePeer::fds()
{
	if (!wait_helper_idle())
		return std::nullopt;
	const std::string dir = "/proc/" + std::to_string(peer_) + "/fd";
	DIR *d = ::opendir(dir.c_str());
	if (!d) {
		fail("%s: %s", dir.c_str(), std::strerror(errno));
		return std::nullopt;
	}
	FdTable table;
	while (dirent *e = ::readdir(d)) {
		if (e->d_name[0] == '.')
			continue;
		char target[4096] = {};
		const std::string link = dir + "/" + e->d_name;
		if (::readlink(link.c_str(), target, sizeof(target) - 1) < 0)
			continue;
		table[std::atoi(e->d_name)] = target;
	}
	::closedir(d);
	return table;
}

bool HostilePeer::expect_same_fds(const std::optional<FdTable> &before, const char *what)
{
	if (!before)
		return false;
	auto after = fds();
	if (!after)
		return false;
	if (*after == *before) {
		note("%s: helper fd table unchanged (%zu fds)", what, after->size());
		return true;
	}
	std::ostringstream diff;
	for (const auto &[fd, target] : *after)
		if (!before->count(fd) || before->at(fd) != target)
			diff << " +" << fd << "=" << target;
	for (const auto &[fd, target] : *before)
		if (!after->count(fd) || after->at(fd) != target)
			diff << " -" << fd << "=" << target;
	return fail("%s: helper fd table changed:%s", what, diff.str().c_str());
}

bool HostilePeer::expect_hangup(const char *what, int timeout_ms)
{
	for (;;) {
		auto pkt = recv(FdPolicy::AcceptOne, timeout_ms);
		if (!pkt) {
			if (pkt.error() == -ECONNRESET)
				return true;
			return fail("%s: waiting for the helper to hang up: %s", what,
				    std::strerror(-pkt.error()));
		}
		return fail("%s: helper sent %zu bytes (magic %s) instead of hanging up", what,
			    pkt->data.size(),
			    proto::magic_name(proto::packet_magic(pkt->data)).c_str());
	}
}

bool HostilePeer::expect_hangup_unread(const char *what, int timeout_ms)
{
	pollfd pfd{sock_, POLLRDHUP, 0};
	int r;
	do {
		r = ::poll(&pfd, 1, timeout_ms);
	} while (r < 0 && errno == EINTR);
	if (r == 1 && (pfd.revents & (POLLRDHUP | POLLHUP)))
		return true;
	return fail("%s: the helper did not hang up", what);
}

bool HostilePeer::bye(uint32_t code)
{
	int r = send(proto::ByeCommand{code});
	if (r < 0)
		return fail("BYEE: send: %s", std::strerror(-r));
	return expect_hangup("after BYEE");
}

std::vector<std::string> HostilePeer::mounts_at(const std::string &path)
{
	std::vector<std::string> out;
	std::ifstream in("/proc/self/mountinfo");
	std::string line;
	while (std::getline(in, line)) {
		std::istringstream fields(line);
		std::string id, parent, devno, root, mp;
		fields >> id >> parent >> devno >> root >> mp;
		mp = unescape(mp);
		if (mp == path || mp.rfind(path + "/", 0) == 0)
			out.push_back(mp);
	}
	return out;
}

std::string HostilePeer::mount_options(const std::string &path)
{
	std::ifstream in("/proc/self/mountinfo");
	std::string line;
	while (std::getline(in, line)) {
		std::istringstream fields(line);
		std::string id, parent, devno, root, mp, mnt_opts, tok;
		fields >> id >> parent >> devno >> root >> mp >> mnt_opts;
		if (unescape(mp) != path)
			continue;
		while (fields >> tok && tok != "-") {
		}
		std::string fstype, source, super_opts;
		fields >> fstype >> source >> super_opts;
		return mnt_opts + " " + fstype + " " + super_opts;
	}
	return "";
}

RawPacket &RawPacket::u16(uint16_t v)
{
	buf_.push_back(static_cast<std::byte>(v >> 8));
	buf_.push_back(static_cast<std::byte>(v));
	return *this;
}

RawPacket &RawPacket::u32(uint32_t v)
{
	u16(static_cast<uint16_t>(v >> 16));
	return u16(static_cast<uint16_t>(v));
}

RawPacket &RawPacket::str(std::string_view s)
{
	for (char c : s)
		buf_.push_back(static_cast<std::byte>(c));
	return *this;
}

RawPacket &RawPacket::fill(size_t n, uint8_t b)
{
	buf_.insert(buf_.end(), n, static_cast<std::byte>(b));
	return *this;
}

} // namespace fsvc::hostile
