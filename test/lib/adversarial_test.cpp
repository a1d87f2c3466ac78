/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The adversarial helper: everything a broken or hostile mount helper can
 * send the server library. Each case checks the documented negative errno
 * and, through the fixture's census, that no fd leaked into the server.
 *
 * Errors chosen where fuse_service.h leaves them open (documented here):
 * - the helper hanging up is -ECONNRESET at every step, whether the library
 *   notices it while sending (EPIPE) or while receiving;
 * - a reply over the 64 KiB packet limit is -EMSGSIZE;
 * - a reply with an fd where none may travel (hello, SIMPLE_REPLY, a
 *   refusal) is -EBADMSG, and the fd is closed;
 * - a refusal errno outside 1..4095 is -EBADMSG, for files and mount
 *   commands alike (core/errors.h: one errno for a protocol violation).
 */
#include "service_fixture.h"

#include <sys/stat.h>

using namespace fsvc;
using namespace fsvc::proto;
using namespace fsvc::test;

namespace
{

class Hostile : public ServiceTest
{
protected:
	/* Start the accept conversation with the given hello bytes. */
	int accept_after_hello(const Bytes &hello_bytes, std::vector<int> fds = {})
	{
		activate();
		send_bytes(hello_bytes, fds);
		argv_file({"myfs", "/m"});
		fusedev();
		return fuse_service_accept(&sf_);
	}
	/* Accept with a good hello and fusedev, and this argv reply. */
	template <typename F>
	int accept_with_argv(F send_argv)
	{
		activate();
		hello();
		send_argv();
		fusedev();
		return fuse_service_accept(&sf_);
	}
	int append()
	{
		set_args({"/usr/libexec/myfs"});
		return fuse_service_append_args(sf_, &args_);
	}
	UniqueFD some_fd() { return UniqueFD(::open("/dev/null", O_RDONLY | O_CLOEXEC)); }
	void expect_failed_accept()
	{
		EXPECT_EQ(sf_, nullptr);
		EXPECT_FALSE(fd_is_open(3)) << "socket not closed after a failed accept";
	}
};

Bytes hello_bytes(uint16_t lo, uint16_t hi, uint32_t flags)
{
	return S("SAFT", false) + be16(lo) + be16(hi) + be32(flags);
}

} // namespace

/* ---- bad hello ---- */

TEST_F(Hostile, HelloMinAboveMax)
{
	EXPECT_EQ(accept_after_hello(hello_bytes(2, 1, 0)), -EOPNOTSUPP);
	expect_failed_accept();
}

TEST_F(Hostile, HelloMaxBelowOne)
{
	EXPECT_EQ(accept_after_hello(hello_bytes(0, 0, 0)), -EOPNOTSUPP);
	expect_failed_accept();
}

TEST_F(Hostile, HelloMinAboveOne)
{
	EXPECT_EQ(accept_after_hello(hello_bytes(2, 2, 0)), -EOPNOTSUPP);
	expect_failed_accept();
}

TEST_F(Hostile, HelloUnknownFlags)
{
	EXPECT_EQ(accept_after_hello(hello_bytes(1, 1, 1u << 2)), -EINVAL);
	expect_failed_accept();
	EXPECT_TRUE(log_mentions("flags"));
}

TEST_F(Hostile, HelloTooShort)
{
	EXPECT_EQ(accept_after_hello(S("SAFT", false) + be16(1) + be16(1) + B({0, 0, 0})),
		  -EBADMSG);
	expect_failed_accept();
}

TEST_F(Hostile, HelloTooLong)
{
	EXPECT_EQ(accept_after_hello(hello_bytes(1, 1, 0) + B({0})), -EBADMSG);
	expect_failed_accept();
}

TEST_F(Hostile, HelloWrongMagic)
{
	EXPECT_EQ(accept_after_hello(S("LAST", false) + be16(1) + be16(1) + be32(0)), -EBADMSG);
	expect_failed_accept();
}

TEST_F(Hostile, HelloWithAnFd)
{
	UniqueFD fd = some_fd();
	EXPECT_EQ(accept_after_hello(hello_bytes(1, 1, 0), {fd.get()}), -EBADMSG);
	expect_failed_accept();
}

TEST_F(Hostile, HelloOversize)
{
	EXPECT_EQ(accept_after_hello(hello_bytes(1, 1, 0) + Bytes(70000)), -EMSGSIZE);
	expect_failed_accept();
}

/* ---- hang-ups during accept ---- */

TEST_F(Hostile, HangUpBeforeHello)
{
	activate();
	hang_up();
	EXPECT_EQ(fuse_service_accept(&sf_), -ECONNRESET);
	expect_failed_accept();
}

TEST_F(Hostile, HangUpAfterHello)
{
	activate();
	hello();
	hang_up();
	EXPECT_EQ(fuse_service_accept(&sf_), -ECONNRESET);
	expect_failed_accept();
}

TEST_F(Hostile, HalfCloseAfterHello)
{
	activate();
	hello();
	ASSERT_EQ(::shutdown(peer_.get(), SHUT_WR), 0);
	EXPECT_EQ(fuse_service_accept(&sf_), -ECONNRESET);
	expect_failed_accept();
}

TEST_F(Hostile, HangUpAfterArgv)
{
	activate();
	hello();
	argv_file({"myfs"});
	ASSERT_EQ(::shutdown(peer_.get(), SHUT_WR), 0);
	EXPECT_EQ(fuse_service_accept(&sf_), -ECONNRESET);
	expect_failed_accept();
}

/* ---- bad argv / fusedev replies during accept ---- */

TEST_F(Hostile, ArgvReplyWithoutFd)
{
	EXPECT_EQ(accept_with_argv([&] { file_reply("argv", -1, 0); }), -EBADMSG);
	expect_failed_accept();
}

TEST_F(Hostile, ArgvReplyWithTwoFds)
{
	UniqueFD a = some_fd(), b = some_fd();
	EXPECT_EQ(accept_with_argv([&] {
			  send_bytes(encode(OpenReply{0, "argv"}), {a.get(), b.get()});
		  }),
		  -EBADMSG);
	expect_failed_accept();
}

TEST_F(Hostile, ArgvReplyForTheWrongPath)
{
	UniqueFD fd = some_fd();
	EXPECT_EQ(accept_with_argv([&] { file_reply("fusedev", fd.get()); }), -EBADMSG);
	expect_failed_accept();
}

TEST_F(Hostile, ArgvRefusalWithAnFd)
{
	UniqueFD fd = some_fd();
	EXPECT_EQ(accept_with_argv([&] { file_reply("argv", fd.get(), EACCES); }), -EBADMSG);
	expect_failed_accept();
}

TEST_F(Hostile, ArgvRefused)
{
	/* A clean refusal of a file accept cannot do without: its errno. */
	EXPECT_EQ(accept_with_argv([&] { file_reply("argv", -1, ENOMEM); }), -ENOMEM);
	expect_failed_accept();
}

TEST_F(Hostile, ArgvReplyWrongMagic)
{
	UniqueFD fd = some_fd();
	EXPECT_EQ(accept_with_argv(
		      [&] { send_bytes(S("FILF", false) + be32(0) + S("argv"), {fd.get()}); }),
		  -EBADMSG);
	expect_failed_accept();
}

TEST_F(Hostile, SimpleReplyInsteadOfOpenReply)
{
	EXPECT_EQ(accept_with_argv([&] { reply(0); }), -EBADMSG);
	expect_failed_accept();
}

TEST_F(Hostile, ArgvReplyOversize)
{
	UniqueFD fd = some_fd();
	EXPECT_EQ(accept_with_argv([&] {
			  send_bytes(encode(OpenReply{0, "argv"}) + Bytes(70000), {fd.get()});
		  }),
		  -EMSGSIZE);
	expect_failed_accept();
}

TEST_F(Hostile, ArgvRefusalWithBogusErrno)
{
	EXPECT_EQ(accept_with_argv([&] { file_reply("argv", -1, 100000); }), -EBADMSG);
	expect_failed_accept();
}

TEST_F(Hostile, FusedevMissing)
{
	activate();
	hello();
	argv_file({"myfs"});
	file_reply("fusedev", -1, 0);
	EXPECT_EQ(fuse_service_accept(&sf_), -EBADMSG);
	expect_failed_accept();
}

/* ---- bad argv memfd contents (found by fuse_service_append_args) ---- */

TEST_F(Hostile, ArgvHugeArgc)
{
	ASSERT_EQ(accept_with_argv([&] { raw_argv_file(S("ARGS", false) + be32(0xffffffffu)); }),
		  0);
	EXPECT_EQ(append(), -EBADMSG);
	EXPECT_EQ(args_.argc, 1); /* the caller's args are untouched */
}

TEST_F(Hostile, ArgvLengthPastTheEnd)
{
	ASSERT_EQ(accept_with_argv([&] {
			  raw_argv_file(S("ARGS", false) + be32(1) + be32(16) + be32(1000) +
					S("x"));
		  }),
		  0);
	EXPECT_EQ(append(), -EBADMSG);
}

TEST_F(Hostile, ArgvPositionWraps)
{
	ASSERT_EQ(accept_with_argv([&] {
			  raw_argv_file(S("ARGS", false) + be32(1) + be32(0xfffffff8u) +
					be32(0x10) + S("x"));
		  }),
		  0);
	EXPECT_EQ(append(), -EBADMSG);
}

TEST_F(Hostile, ArgvWrongMagic)
{
	ASSERT_EQ(accept_with_argv([&] {
			  raw_argv_file(S("ARGV", false) + be32(1) + be32(16) + be32(2) + S("x"));
		  }),
		  0);
	EXPECT_EQ(append(), -EBADMSG);
}

TEST_F(Hostile, ArgvArgcZero)
{
	ASSERT_EQ(accept_with_argv([&] { raw_argv_file(S("ARGS", false) + be32(0)); }), 0);
	EXPECT_EQ(append(), -EBADMSG);
}

TEST_F(Hostile, ArgvEmptyFile)
{
	ASSERT_EQ(accept_with_argv([&] { raw_argv_file({}); }), 0);
	EXPECT_EQ(append(), -EBADMSG);
}

TEST_F(Hostile, ArgvNotAMemfdButAPipe)
{
	int p[2];
	ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
	UniqueFD r(p[0]), w(p[1]);
	ASSERT_EQ(accept_with_argv([&] { file_reply("argv", r.get()); }), 0);
	EXPECT_EQ(append(), -EBADMSG);
}

TEST_F(Hostile, ArgvNotAMemfdButASocket)
{
	auto pair = seqpacket_pair();
	ASSERT_EQ(accept_with_argv([&] { file_reply("argv", pair.a.get()); }), 0);
	EXPECT_EQ(append(), -EBADMSG);
}

TEST_F(Hostile, ArgvFileOverTheCap)
{
	Bytes big = S("ARGS", false) + be32(1) + be32(16) + be32(2) + S("x");
	big.resize(kMaxArgvFileSize + 1);
	ASSERT_EQ(accept_with_argv([&] { raw_argv_file(big); }), 0);
	EXPECT_EQ(append(), -EBADMSG);
}

/* ---- bad file replies ---- */

class HostileFile : public Hostile
{
protected:
	void SetUp() override
	{
		Hostile::SetUp();
		accept_ok({"myfs", "/dev/sdz", "/m"});
		ASSERT_EQ(fuse_service_request_file(sf_, "/dev/sdz", O_RDWR, 0, 0), 0);
		ASSERT_EQ(packet_magic(next_packet()), kOpenCmd);
	}
	int receive()
	{
		fd_ = 777;
		return fuse_service_receive_file(sf_, "/dev/sdz", &fd_);
	}
	int fd_ = -1;
};

TEST_F(HostileFile, ReplyWithoutFd)
{
	file_reply("/dev/sdz", -1, 0);
	EXPECT_EQ(receive(), -EBADMSG);
	EXPECT_LT(fd_, 0);
}

TEST_F(HostileFile, ReplyWithTwoFds)
{
	UniqueFD a = some_fd(), b = some_fd();
	send_bytes(encode(OpenReply{0, "/dev/sdz"}), {a.get(), b.get()});
	EXPECT_EQ(receive(), -EBADMSG);
}

TEST_F(HostileFile, FdForTheWrongPath)
{
	UniqueFD fd = some_fd();
	file_reply("/etc/shadow", fd.get());
	EXPECT_EQ(receive(), -EBADMSG);
	EXPECT_LT(fd_, 0);
}

TEST_F(HostileFile, RefusalWithAnFd)
{
	UniqueFD fd = some_fd();
	file_reply("/dev/sdz", fd.get(), EPERM);
	EXPECT_EQ(receive(), -EBADMSG);
}

TEST_F(HostileFile, RefusalWithBogusErrno)
{
	file_reply("/dev/sdz", -1, 0x10000);
	EXPECT_EQ(receive(), -EBADMSG);
}

TEST_F(HostileFile, ReplyWrongMagic)
{
	UniqueFD fd = some_fd();
	send_bytes(S("REPL", false) + be32(0) + S("/dev/sdz"), {fd.get()});
	EXPECT_EQ(receive(), -EBADMSG);
}

TEST_F(HostileFile, SimpleReplyInsteadOfOpenReply)
{
	reply(0);
	EXPECT_EQ(receive(), -EBADMSG);
}

TEST_F(HostileFile, OversizeReply)
{
	UniqueFD fd = some_fd();
	send_bytes(encode(OpenReply{0, "/dev/sdz"}) + Bytes(70000), {fd.get()});
	EXPECT_EQ(receive(), -EMSGSIZE);
}

TEST_F(HostileFile, ReplyPathMissingNul)
{
	UniqueFD fd = some_fd();
	send_bytes(S("FILE", false) + be32(0) + S("/dev/sdz", false), {fd.get()});
	EXPECT_EQ(receive(), -EBADMSG);
}

TEST_F(HostileFile, HangUpDuringRequest)
{
	hang_up();
	EXPECT_EQ(receive(), -ECONNRESET);
	EXPECT_EQ(fd_, -ECONNRESET);
	/* A new request to a helper that is gone. */
	EXPECT_EQ(fuse_service_request_file(sf_, "/dev/sdz", O_RDWR, 0, 0), -ECONNRESET);
}

TEST_F(HostileFile, BadReplyThenGoodReplyIsNotConfused)
{
	/* After a rejected reply the next one is read on its own merits. */
	file_reply("/wrong", -1, ENOENT);
	EXPECT_EQ(receive(), -EBADMSG);
	ASSERT_EQ(fuse_service_request_file(sf_, "/dev/sdz", O_RDWR, 0, 0), 0);
	ASSERT_EQ(packet_magic(next_packet()), kOpenCmd);
	file_reply("/dev/sdz", -1, ENOENT);
	EXPECT_EQ(receive(), 0);
	EXPECT_EQ(fd_, -ENOENT);
}

/* ---- bad mount command replies ---- */

class HostileMount : public Hostile
{
protected:
	void SetUp() override
	{
		Hostile::SetUp();
		/* allow_other and user= make OPTS and MTAB part of the conversation. */
		prepare_mount({"myfs", "/mnt/h", "-o", "allow_other,user=bob"});
	}
	int mount() { return fuse_service_session_mount(sf_, se_, S_IFDIR, &opts_); }
	std::vector<uint32_t> sent()
	{
		std::vector<uint32_t> m;
		for (Bytes p = next_packet(); !p.empty(); p = next_packet())
			m.push_back(packet_magic(p));
		return m;
	}
};

TEST_F(HostileMount, OpenReplyInsteadOfSimpleReply)
{
	send_bytes(encode(OpenReply{0, "x"}));
	EXPECT_EQ(mount(), -EBADMSG);
	EXPECT_EQ(sent(), std::vector<uint32_t>{kFsopenCmd});
}

TEST_F(HostileMount, ReplyWrongMagic)
{
	send_bytes(S("LPER", false) + be32(0));
	EXPECT_EQ(mount(), -EBADMSG);
}

TEST_F(HostileMount, ReplyWrongSize)
{
	send_bytes(S("REPL", false) + be32(0) + B({0}));
	EXPECT_EQ(mount(), -EBADMSG);
}

TEST_F(HostileMount, ReplyWithAnFd)
{
	UniqueFD fd = some_fd();
	send_bytes(encode(SimpleReply{0}), {fd.get()});
	EXPECT_EQ(mount(), -EBADMSG);
}

TEST_F(HostileMount, OversizeReply)
{
	reply(0);
	send_bytes(encode(SimpleReply{0}) + Bytes(70000));
	EXPECT_EQ(mount(), -EMSGSIZE);
	EXPECT_EQ(sent(), (std::vector<uint32_t>{kFsopenCmd, kSourceCmd}));
}

TEST_F(HostileMount, BogusErrnoIsEbadmsg)
{
	for (int i = 0; i < 5; i++)
		reply(0);
	reply(0xdeadbeef);
	EXPECT_EQ(mount(), -EBADMSG);
}

/* One case per mount command: the helper hangs up, or refuses it. */
struct Step {
	const char *name;
	uint32_t magic;
};
const Step kSteps[] = {
    {"TYPE", kFsopenCmd},  {"NAME", kSourceCmd},   {"MNTP", kMountpointCmd},
    {"OPTS", kMntOptsCmd}, {"MTAB", kMtabOptsCmd}, {"DOIT", kMountCmd},
};

class HostileMountStep : public HostileMount, public ::testing::WithParamInterface<int>
{
};

TEST_P(HostileMountStep, HangUpBeforeReply)
{
	const int k = GetParam();
	for (int i = 0; i < k; i++)
		reply(0);
	hang_up();
	EXPECT_EQ(mount(), -ECONNRESET) << kSteps[k].name;
}

TEST_P(HostileMountStep, HalfCloseBeforeReply)
{
	const int k = GetParam();
	for (int i = 0; i < k; i++)
		reply(0);
	ASSERT_EQ(::shutdown(peer_.get(), SHUT_WR), 0);
	EXPECT_EQ(mount(), -ECONNRESET) << kSteps[k].name;
	std::vector<uint32_t> expect;
	for (int i = 0; i <= k; i++)
		expect.push_back(kSteps[i].magic);
	EXPECT_EQ(sent(), expect);
}

TEST_P(HostileMountStep, Refused)
{
	const int k = GetParam();
	const int err[] = {EPERM, EINVAL, ENOTDIR, EPERM, EINVAL, EUSERS};
	for (int i = 0; i < k; i++)
		reply(0);
	reply(static_cast<uint32_t>(err[k]));
	EXPECT_EQ(mount(), -err[k]) << kSteps[k].name;
	/* Nothing after the refused command. */
	std::vector<uint32_t> expect;
	for (int i = 0; i <= k; i++)
		expect.push_back(kSteps[i].magic);
	EXPECT_EQ(sent(), expect);
	EXPECT_EQ(opts_.foreground, 0);
}

INSTANTIATE_TEST_SUITE_P(EveryCommand, HostileMountStep, ::testing::Range(0, 6),
			 [](const ::testing::TestParamInfo<int> &i) {
				 return std::string(kSteps[i.param].name);
			 });
