/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A scripted, deliberately misbehaving service peer for the helper's
 * protocol tests: the edge cases a well-behaved server (test_server.c) never
 * produces. Started by systemd-socket-activate like a real server; talks on
 * fd 3 through core/, and logs every answer of the helper, one line per
 * step, for the test to check.
 *
 *   fsvc-fake-server LOGFILE STEP...
 *
 * Steps:
 *   hello            receive HELLO, log "HELLO flags=N", answer version 1
 *   hello-raw:HEX    receive HELLO, answer with these bytes
 *   files            receive argv + fusedev, log "ARGV a|b|..." and "FUSEDEV ok"
 *   open:PATH  bdev:PATH  open-quiet:PATH  bdev-bs:SIZE:PATH
 *   open-opath:PATH  (O_PATH)  open-peer:SUFFIX  (/proc/<helper pid>SUFFIX)
 *                    request a file (bdev-bs: with a block size to set), log
 *                    "OPEN PATH -> ERRNO fd=0|1"
 *   type:N  name:S  opts:S  mtab:S  mntp:FMT:PATH  doit:FLAGS
 *                    send the command, log "<MAGIC> -> ERRNO"
 *   raw:HEX          send these bytes, log the reply ("REPL -> E" / "FILE P -> E")
 *   send-raw:HEX     send these bytes, expect no reply
 *   fdpush           send TYPE with a descriptor attached, log what happened
 *   big:N            send an N-byte packet (TYPE magic, then zeros), expect no reply
 *   peer             log "PEER pid=N" (the helper's pid, from SO_PEERCRED)
 *   bye:N            send BYEE N
 *   sleep:MS         do nothing for a while
 *   spam:MS          every MS milliseconds, send a command the helper refuses
 *                    (TYPE with an unknown flag), until the helper hangs up;
 *                    log "SPAM refused=N" with the number of refusals
 *   wait-eof         wait until the helper hangs up, log "EOF"
 * Exits 0 when every step could be carried out, 1 otherwise.
 */
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <unistd.h>

#include "core/argv_memfd.h"
#include "core/packet_io.h"
#include "core/protocol.h"

using namespace fsvc;

namespace
{

constexpr int kSock = 3;
constexpr int kTimeoutMs = 60000;
std::FILE *g_log;
UniqueFD g_fusedev;

void logf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void logf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	std::vfprintf(g_log, fmt, ap);
	va_end(ap);
	std::fputc('\n', g_log);
	std::fflush(g_log);
}

proto::Bytes from_hex(std::string_view hex)
{
	proto::Bytes out;
	for (size_t i = 0; i + 1 < hex.size(); i += 2)
		out.push_back(
		    static_cast<std::byte>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
	return out;
}

bool send_bytes(const proto::Bytes &b, int fd = -1)
{
	int r = send_packet(kSock, b, fd);
	if (r < 0)
		logf("SEND-FAILED %s", std::strerror(-r));
	return r == 0;
}

/* Log whatever the helper answered. */
bool log_reply(const char *what)
{
	auto pkt = recv_packet(kSock, FdPolicy::AcceptOne, kTimeoutMs);
	if (!pkt) {
		logf("%s -> RECV-FAILED %s", what, std::strerror(-pkt.error()));
		return false;
	}
	if (auto s = proto::decode_simple_reply(pkt->data)) {
		logf("%s -> %u", what, s->error);
		return true;
	}
	if (auto o = proto::decode_open_reply(pkt->data)) {
		logf("%s %s -> %u fd=%d", what, o->path.c_str(), o->error, pkt->fd.isValid());
		return true;
	}
	logf("%s -> UNDECODABLE", what);
	return false;
}

bool step(std::string_view s)
{
	auto arg = [&](size_t n) { return std::string(s.substr(n)); };
	if (s == "hello" || s.rfind("hello-raw:", 0) == 0) {
		auto pkt = recv_packet(kSock, FdPolicy::Refuse, kTimeoutMs);
		if (!pkt)
			return false;
		auto h = proto::decode_hello(pkt->data);
		if (!h)
			return false;
		logf("HELLO flags=%u", h->flags);
		return send_bytes(s == "hello" ? proto::encode(proto::HelloReply{})
					       : from_hex(s.substr(10)));
	}
	if (s == "files") {
		for (int i = 0; i < 2; i++) {
			auto pkt = recv_packet(kSock, FdPolicy::AcceptOne, kTimeoutMs);
			if (!pkt)
				return false;
			auto o = proto::decode_open_reply(pkt->data);
			if (!o || !pkt->fd.isValid())
				return false;
			if (o->path == proto::kArgvFileName) {
				auto args = read_argv_memfd(pkt->fd.get());
				if (!args)
					return false;
				std::string line;
				for (auto &a : *args)
					line += (line.empty() ? "" : "|") + a;
				logf("ARGV %s", line.c_str());
			} else {
				logf("FUSEDEV ok");
				g_fusedev = std::move(pkt->fd);
			}
		}
		return true;
	}
	auto open_cmd = [&](std::string path, bool bdev, uint32_t flags, uint32_t block_size = 0,
			    uint32_t open_flags = O_RDONLY) {
		proto::OpenCommand c;
		c.blockdev = bdev;
		c.open_flags = open_flags;
		c.request_flags = flags;
		c.block_size = block_size;
		c.path = path;
		return send_bytes(proto::encode(c)) && log_reply("OPEN");
	};
	if (s.rfind("bdev-bs:", 0) == 0) {
		std::string rest = arg(8);
		size_t colon = rest.find(':');
		return open_cmd(rest.substr(colon + 1), true, 0,
				static_cast<uint32_t>(std::stoul(rest.substr(0, colon))));
	}
	if (s.rfind("open:", 0) == 0)
		return open_cmd(arg(5), false, 0);
	if (s.rfind("open-opath:", 0) == 0)
		return open_cmd(arg(11), false, 0, 0, O_PATH);
	if (s.rfind("open-peer:", 0) == 0) {
		ucred cr{};
		socklen_t len = sizeof(cr);
		if (getsockopt(kSock, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
			return false;
		return open_cmd("/proc/" + std::to_string(cr.pid) + arg(10), false, 0);
	}
	if (s.rfind("open-quiet:", 0) == 0)
		return open_cmd(arg(11), false, proto::kOpenQuiet);
	if (s.rfind("bdev:", 0) == 0)
		return open_cmd(arg(5), true, 0);
	if (s.rfind("type:", 0) == 0)
		return send_bytes(proto::encode(proto::FsopenCommand{
			   static_cast<uint32_t>(std::stoul(arg(5), nullptr, 0))})) &&
		       log_reply("TYPE");
	if (s.rfind("name:", 0) == 0)
		return send_bytes(proto::encode(proto::SourceCommand{arg(5)})) && log_reply("NAME");
	if (s.rfind("opts:", 0) == 0)
		return send_bytes(proto::encode(proto::MntOptsCommand{arg(5)})) &&
		       log_reply("OPTS");
	if (s.rfind("mtab:", 0) == 0)
		return send_bytes(proto::encode(proto::MtabOptsCommand{arg(5)})) &&
		       log_reply("MTAB");
	if (s.rfind("mntp:", 0) == 0) {
		std::string rest = arg(5);
		size_t colon = rest.find(':');
		proto::MountpointCommand c;
		c.expected_fmt =
		    static_cast<uint16_t>(std::stoul(rest.substr(0, colon), nullptr, 0));
		c.path = rest.substr(colon + 1);
		return send_bytes(proto::encode(c)) && log_reply("MNTP");
	}
	if (s.rfind("doit:", 0) == 0)
		return send_bytes(proto::encode(proto::MountCommand{
			   static_cast<uint32_t>(std::stoul(arg(5), nullptr, 0))})) &&
		       log_reply("DOIT");
	if (s.rfind("raw:", 0) == 0)
		return send_bytes(from_hex(s.substr(4))) && log_reply("RAW");
	if (s.rfind("send-raw:", 0) == 0)
		return send_bytes(from_hex(s.substr(9)));
	if (s.rfind("big:", 0) == 0) {
		proto::Bytes b = proto::encode(proto::FsopenCommand{0});
		b.resize(std::stoul(arg(4)));
		/* send_packet() refuses oversized packets: this one must go out anyway */
		ssize_t n = ::send(kSock, b.data(), b.size(), MSG_EOR | MSG_NOSIGNAL);
		logf("BIG sent=%zd", n);
		return n > 0;
	}
	if (s == "peer") {
		ucred cr{};
		socklen_t len = sizeof(cr);
		if (getsockopt(kSock, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
			return false;
		logf("PEER pid=%d", cr.pid);
		return true;
	}
	if (s == "fdpush") {
		UniqueFD null(open("/dev/null", O_RDONLY | O_CLOEXEC));
		int r = send_packet(kSock, proto::encode(proto::FsopenCommand{0}), null.get());
		logf("FDPUSH send=%d", r);
		return true;
	}
	if (s.rfind("bye:", 0) == 0)
		return send_bytes(proto::encode(
		    proto::ByeCommand{static_cast<uint32_t>(std::stoul(arg(4), nullptr, 0))}));
	if (s.rfind("sleep:", 0) == 0) {
		usleep(static_cast<useconds_t>(std::stoul(arg(6))) * 1000);
		return true;
	}
	if (s.rfind("spam:", 0) == 0) {
		const auto interval = static_cast<useconds_t>(std::stoul(arg(5))) * 1000;
		const proto::Bytes refused = from_hex("5459504500000080");
		unsigned n = 0;
		for (;;) {
			usleep(interval);
			if (send_packet(kSock, refused) < 0)
				break;
			auto pkt = recv_packet(kSock, FdPolicy::AcceptOne, kTimeoutMs);
			if (!pkt)
				break;
			n++;
		}
		logf("SPAM refused=%u", n);
		return true;
	}
	if (s == "wait-eof") {
		auto pkt = recv_packet(kSock, FdPolicy::AcceptOne, kTimeoutMs);
		logf(!pkt && pkt.error() == -ECONNRESET ? "EOF" : "NOT-EOF");
		return true;
	}
	logf("UNKNOWN-STEP %.*s", static_cast<int>(s.size()), s.data());
	return false;
}

} // namespace

int main(int argc, char *argv[])
{
	if (argc < 2)
		return 2;
	g_log = std::fopen(argv[1], "ae");
	if (!g_log)
		return 2;
	(void)fcntl(kSock, F_SETFD, FD_CLOEXEC);
	for (int i = 2; i < argc; i++) {
		if (!step(argv[i])) {
			logf("STEP-FAILED %s", argv[i]);
			return 1;
		}
	}
	logf("DONE");
	return 0;
}
