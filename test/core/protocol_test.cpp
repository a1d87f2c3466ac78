/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The wire format of PROTOCOL.md §2-§3, byte for byte. Every golden vector is
 * written by hand from the spec (big-endian, magic first, exact sizes, zero
 * padding), never produced by our own encoder, so a change in the encoder
 * cannot silently change the expectation with it.
 */
#include <gtest/gtest.h>

#include <cerrno>

#include "core/protocol.h"
#include "test_util.h"

using namespace fsvc;
using namespace fsvc::proto;
using namespace fsvc::test;

namespace
{

/* The magic numbers as ASCII, straight from the table in §2. */
const Bytes kSAFT = S("SAFT", false);
const Bytes kLAST = S("LAST", false);
const Bytes kFILE = S("FILE", false);
const Bytes kREPL = S("REPL", false);
const Bytes kOPEN = S("OPEN", false);
const Bytes kBDEV = S("BDEV", false);
const Bytes kTYPE = S("TYPE", false);
const Bytes kNAME = S("NAME", false);
const Bytes kOPTS = S("OPTS", false);
const Bytes kMTAB = S("MTAB", false);
const Bytes kMNTP = S("MNTP", false);
const Bytes kDOIT = S("DOIT", false);
const Bytes kBYEE = S("BYEE", false);

template <typename T>
const T &as(const Result<Command> &r)
{
	return std::get<T>(r.value());
}

} // namespace

TEST(ProtocolMagic, ValuesMatchTheSpec)
{
	EXPECT_EQ(kHelloCmd, 0x53414654u);
	EXPECT_EQ(kHelloReply, 0x4c415354u);
	EXPECT_EQ(kOpenReply, 0x46494c45u);
	EXPECT_EQ(kSimpleReply, 0x5245504cu);
	EXPECT_EQ(kOpenCmd, 0x4f50454eu);
	EXPECT_EQ(kOpenBdevCmd, 0x42444556u);
	EXPECT_EQ(kFsopenCmd, 0x54595045u);
	EXPECT_EQ(kSourceCmd, 0x4e414d45u);
	EXPECT_EQ(kMntOptsCmd, 0x4f505453u);
	EXPECT_EQ(kMtabOptsCmd, 0x4d544142u);
	EXPECT_EQ(kMountpointCmd, 0x4d4e5450u);
	EXPECT_EQ(kMountCmd, 0x444f4954u);
	EXPECT_EQ(kByeCmd, 0x42594545u);
	EXPECT_EQ(kArgsMagic, 0x41524753u);
	EXPECT_EQ(kMaxPacketSize, 65536u);
}

/* ---- golden bytes of every message ---- */

TEST(ProtocolGolden, Hello)
{
	const Bytes golden =
	    B({0x53, 0x41, 0x46, 0x54, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x03});
	EXPECT_EQ(encode(Hello{1, 2, 3}), golden);
	auto h = decode_hello(golden);
	ASSERT_TRUE(h.ok());
	EXPECT_EQ(h->min_version, 1);
	EXPECT_EQ(h->max_version, 2);
	EXPECT_EQ(h->flags, 3u);
}

TEST(ProtocolGolden, HelloReply)
{
	const Bytes golden = B({0x4c, 0x41, 0x53, 0x54, 0x00, 0x01, 0x00, 0x00});
	EXPECT_EQ(encode(HelloReply{}), golden);
	auto r = decode_hello_reply(golden);
	ASSERT_TRUE(r.ok());
	EXPECT_EQ(r->version, 1);
}

TEST(ProtocolGolden, SimpleReply)
{
	const Bytes golden = B({0x52, 0x45, 0x50, 0x4c, 0x00, 0x00, 0x00, 0x0d});
	EXPECT_EQ(encode(SimpleReply{13}), golden);
	auto r = decode_simple_reply(golden);
	ASSERT_TRUE(r.ok());
	EXPECT_EQ(r->error, 13u);
	EXPECT_EQ(encode(SimpleReply{0}), kREPL + be32(0));
	EXPECT_EQ(encode(SimpleReply{0x01020304}), kREPL + B({1, 2, 3, 4}));
}

TEST(ProtocolGolden, OpenReply)
{
	const Bytes golden =
	    B({0x46, 0x49, 0x4c, 0x45, 0x00, 0x00, 0x00, 0x02, 'a', 'r', 'g', 'v', 0x00});
	EXPECT_EQ(golden.size(), 8u + 4 + 1);
	EXPECT_EQ(encode(OpenReply{2, "argv"}), golden);
	auto r = decode_open_reply(golden);
	ASSERT_TRUE(r.ok());
	EXPECT_EQ(r->error, 2u);
	EXPECT_EQ(r->path, "argv");
}

TEST(ProtocolGolden, Open)
{
	const Bytes golden = kOPEN +
			     B({0x00, 0x00, 0x00, 0x42,    /* open_flags */
				0x00, 0x00, 0x01, 0xa4,    /* create_mode 0644 */
				0x00, 0x00, 0x00, 0x01,    /* request_flags */
				0x00, 0x00, 0x00, 0x00}) + /* block_size */
			     S("/dev/sda");
	EXPECT_EQ(golden.size(), 20u + 8 + 1);
	OpenCommand c{false, 0x42, 0644, kOpenQuiet, 0, "/dev/sda"};
	EXPECT_EQ(encode(c), golden);
	auto r = decode_command(golden);
	ASSERT_TRUE(r.ok());
	const auto &o = as<OpenCommand>(r);
	EXPECT_FALSE(o.blockdev);
	EXPECT_EQ(o.open_flags, 0x42u);
	EXPECT_EQ(o.create_mode, 0644u);
	EXPECT_EQ(o.request_flags, kOpenQuiet);
	EXPECT_EQ(o.block_size, 0u);
	EXPECT_EQ(o.path, "/dev/sda");
}

TEST(ProtocolGolden, Bdev)
{
	const Bytes golden =
	    kBDEV + be32(2) + be32(0) + be32(0) + B({0x00, 0x00, 0x10, 0x00}) + S("/dev/loop0");
	OpenCommand c{true, 2, 0, 0, 4096, "/dev/loop0"};
	EXPECT_EQ(encode(c), golden);
	auto r = decode_command(golden);
	ASSERT_TRUE(r.ok());
	const auto &o = as<OpenCommand>(r);
	EXPECT_TRUE(o.blockdev);
	EXPECT_EQ(o.block_size, 4096u);
	EXPECT_EQ(o.path, "/dev/loop0");
}

TEST(ProtocolGolden, Type)
{
	const Bytes golden = B({0x54, 0x59, 0x50, 0x45, 0x00, 0x00, 0x00, 0x01});
	EXPECT_EQ(encode(FsopenCommand{kFsopenFuseblk}), golden);
	EXPECT_EQ(encode(FsopenCommand{0}), kTYPE + be32(0));
	auto r = decode_command(golden);
	ASSERT_TRUE(r.ok());
	EXPECT_EQ(as<FsopenCommand>(r).fsopen_flags, 1u);
}

TEST(ProtocolGolden, StringCommands)
{
	const Bytes name = B({0x4e, 0x41, 0x4d, 0x45, 's', 'r', 'c', 0x00});
	const Bytes opts = B({0x4f, 0x50, 0x54, 0x53, 'a', ',', 'b', 0x00});
	const Bytes mtab = B({0x4d, 0x54, 0x41, 0x42, '-', 'n', 0x00});
	EXPECT_EQ(encode(SourceCommand{"src"}), name);
	EXPECT_EQ(encode(MntOptsCommand{"a,b"}), opts);
	EXPECT_EQ(encode(MtabOptsCommand{"-n"}), mtab);

	auto n = decode_command(name);
	ASSERT_TRUE(n.ok());
	EXPECT_EQ(as<SourceCommand>(n).value, "src");
	auto o = decode_command(opts);
	ASSERT_TRUE(o.ok());
	EXPECT_EQ(as<MntOptsCommand>(o).value, "a,b");
	auto m = decode_command(mtab);
	ASSERT_TRUE(m.ok());
	EXPECT_EQ(as<MtabOptsCommand>(m).value, "-n");
}

TEST(ProtocolGolden, Mountpoint)
{
	const Bytes golden =
	    B({0x4d, 0x4e, 0x54, 0x50, 0x40, 0x00, 0x00, 0x00, '/', 'm', 'n', 't', 0x00});
	EXPECT_EQ(golden.size(), 8u + 4 + 1);
	EXPECT_EQ(encode(MountpointCommand{kFmtDir, "/mnt"}), golden);
	EXPECT_EQ(encode(MountpointCommand{kFmtReg, "/f"}), kMNTP + B({0x80, 0, 0, 0}) + S("/f"));
	EXPECT_EQ(encode(MountpointCommand{0, "/f"}), kMNTP + B({0, 0, 0, 0}) + S("/f"));
	auto r = decode_command(golden);
	ASSERT_TRUE(r.ok());
	EXPECT_EQ(as<MountpointCommand>(r).expected_fmt, 0x4000);
	EXPECT_EQ(as<MountpointCommand>(r).path, "/mnt");
}

TEST(ProtocolGolden, Doit)
{
	const Bytes golden = B({0x44, 0x4f, 0x49, 0x54, 0x00, 0x00, 0x00, 0x06});
	EXPECT_EQ(encode(MountCommand{6}), golden);
	auto r = decode_command(golden);
	ASSERT_TRUE(r.ok());
	EXPECT_EQ(as<MountCommand>(r).ms_flags, 6u);
}

TEST(ProtocolGolden, Byee)
{
	const Bytes golden = B({0x42, 0x59, 0x45, 0x45, 0xff, 0xff, 0xff, 0xff});
	EXPECT_EQ(encode(ByeCommand{0xffffffffu}), golden);
	EXPECT_EQ(encode(ByeCommand{0}), kBYEE + be32(0));
	auto r = decode_command(golden);
	ASSERT_TRUE(r.ok());
	EXPECT_EQ(as<ByeCommand>(r).exitcode, 0xffffffffu);
}

/* ---- round trips through the variant ---- */

TEST(ProtocolRoundTrip, EveryCommand)
{
	const std::vector<Command> cmds = {
	    OpenCommand{false, 0x80002, 0600, 0, 0, "/a/b"},
	    OpenCommand{true, 2, 0, kOpenQuiet, 512, "/dev/x"},
	    FsopenCommand{0},
	    FsopenCommand{kFsopenFuseblk},
	    SourceCommand{"fsname"},
	    MntOptsCommand{"allow_other,max_read=4096"},
	    MtabOptsCommand{"user=joe,x-gvfs-hide"},
	    MountpointCommand{0, "rel/path"},
	    MountpointCommand{kFmtReg, "/file"},
	    MountCommand{0x406},
	    ByeCommand{1},
	};
	for (const Command &c : cmds) {
		Bytes bytes = encode(c);
		ASSERT_FALSE(bytes.empty());
		auto d = decode_command(bytes);
		ASSERT_TRUE(d.ok()) << magic_name(packet_magic(bytes));
		EXPECT_EQ(encode(d.value()), bytes);
		EXPECT_EQ(d->index(), c.index());
	}
}

TEST(ProtocolRoundTrip, Replies)
{
	for (uint32_t flags : {0u, 1u, 2u, 3u}) {
		auto h = decode_hello(encode(Hello{1, 1, flags}));
		ASSERT_TRUE(h.ok());
		EXPECT_EQ(h->flags, flags);
	}
	auto s = decode_simple_reply(encode(SimpleReply{EPERM}));
	ASSERT_TRUE(s.ok());
	EXPECT_EQ(s->error, static_cast<uint32_t>(EPERM));
	auto o = decode_open_reply(encode(OpenReply{0, "fusedev"}));
	ASSERT_TRUE(o.ok());
	EXPECT_EQ(o->error, 0u);
	EXPECT_EQ(o->path, "fusedev");
}

TEST(ProtocolRoundTrip, LargestStringFits)
{
	/* 4 + len + 1 == 65536 is the biggest NAME there can be. */
	std::string big(kMaxPacketSize - 5, 'x');
	Bytes bytes = encode(SourceCommand{big});
	ASSERT_EQ(bytes.size(), kMaxPacketSize);
	auto d = decode_command(bytes);
	ASSERT_TRUE(d.ok());
	EXPECT_EQ(as<SourceCommand>(d).value, big);

	std::string path(kMaxPacketSize - 9, 'p');
	bytes = encode(OpenReply{0, path});
	ASSERT_EQ(bytes.size(), kMaxPacketSize);
	ASSERT_TRUE(decode_open_reply(bytes).ok());
}

/* ---- encoders refuse what a decoder would reject ---- */

TEST(ProtocolEncode, RefusesUnsendableStrings)
{
	EXPECT_TRUE(encode(SourceCommand{""}).empty());
	EXPECT_TRUE(encode(MntOptsCommand{std::string("a\0b", 3)}).empty());
	EXPECT_TRUE(encode(MtabOptsCommand{std::string(kMaxPacketSize - 4, 'x')}).empty());
	EXPECT_TRUE(encode(OpenReply{0, ""}).empty());
	EXPECT_TRUE(encode(OpenCommand{false, 0, 0, 0, 0, ""}).empty());
	EXPECT_TRUE(encode(MountpointCommand{0, std::string("/\0x", 3)}).empty());
	EXPECT_TRUE(
	    encode(OpenCommand{false, 0, 0, 0, 0, std::string(kMaxPacketSize, 'p')}).empty());
}

/* ---- §3 rejection rules ---- */

TEST(ProtocolReject, HelloSizeAndMagic)
{
	const Bytes good = kSAFT + be16(1) + be16(1) + be32(0);
	ASSERT_TRUE(decode_hello(good).ok());
	EXPECT_EQ(decode_hello(Bytes(good.begin(), good.end() - 1)).error(), -EBADMSG);
	EXPECT_EQ(decode_hello(good + B({0})).error(), -EBADMSG);
	EXPECT_EQ(decode_hello(kLAST + be16(1) + be16(1) + be32(0)).error(), -EBADMSG);
	EXPECT_EQ(decode_hello({}).error(), -EBADMSG);
}

TEST(ProtocolReject, HelloVersions)
{
	auto hello = [](uint16_t lo, uint16_t hi) {
		return decode_hello(kSAFT + be16(lo) + be16(hi) + be32(0));
	};
	EXPECT_EQ(hello(2, 1).error(), -EOPNOTSUPP); /* min > max */
	EXPECT_EQ(hello(0, 0).error(), -EOPNOTSUPP); /* max < 1 */
	EXPECT_EQ(hello(2, 5).error(), -EOPNOTSUPP); /* min > 1 */
	EXPECT_TRUE(hello(0, 1).ok());
	EXPECT_TRUE(hello(1, 7).ok()); /* a newer helper that still speaks 1 */
}

TEST(ProtocolReject, HelloUnknownFlags)
{
	for (uint32_t bad : {4u, 0x80000000u, 0xffffffffu})
		EXPECT_EQ(decode_hello(kSAFT + be16(1) + be16(1) + be32(bad)).error(), -EINVAL)
		    << bad;
}

TEST(ProtocolReject, HelloReply)
{
	EXPECT_EQ(decode_hello_reply(kLAST + be16(1)).error(), -EBADMSG);
	EXPECT_EQ(decode_hello_reply(kLAST + be16(1) + be16(0) + B({0})).error(), -EBADMSG);
	EXPECT_EQ(decode_hello_reply(kSAFT + be16(1) + be16(0)).error(), -EBADMSG);
	EXPECT_EQ(decode_hello_reply(kLAST + be16(2) + be16(0)).error(), -EOPNOTSUPP);
	EXPECT_EQ(decode_hello_reply(kLAST + be16(0) + be16(0)).error(), -EOPNOTSUPP);
	EXPECT_EQ(decode_hello_reply(kLAST + be16(1) + be16(1)).error(), -EINVAL);
	EXPECT_EQ(decode_hello_reply(kLAST + be16(1) + be16(0x8000)).error(), -EINVAL);
}

TEST(ProtocolReject, SimpleReply)
{
	EXPECT_EQ(decode_simple_reply(kREPL + B({0, 0, 0})).error(), -EBADMSG);
	EXPECT_EQ(decode_simple_reply(kREPL + be32(0) + B({0})).error(), -EBADMSG);
	EXPECT_EQ(decode_simple_reply(kFILE + be32(0)).error(), -EBADMSG);
	/* An OPEN_REPLY where a SIMPLE_REPLY is due. */
	EXPECT_EQ(decode_simple_reply(kFILE + be32(0) + S("x")).error(), -EBADMSG);
}

TEST(ProtocolReject, OpenReply)
{
	EXPECT_EQ(decode_open_reply(kREPL + be32(0) + S("x")).error(), -EBADMSG); /* magic */
	EXPECT_EQ(decode_open_reply(kFILE + be32(0)).error(), -EBADMSG);          /* no path */
	EXPECT_EQ(decode_open_reply(kFILE + be32(0) + S("")).error(), -EBADMSG);  /* empty */
	EXPECT_EQ(decode_open_reply(kFILE + be32(0) + S("abc", false)).error(),
		  -EBADMSG); /* no NUL */
	EXPECT_EQ(decode_open_reply(kFILE + be32(0) + S(std::string("a\0b", 3))).error(),
		  -EBADMSG);                                               /* embedded NUL */
	EXPECT_EQ(decode_open_reply(kFILE + B({0, 0})).error(), -EBADMSG); /* short head */
	EXPECT_EQ(
	    decode_open_reply(kFILE + be32(0) + S(std::string(kMaxPacketSize - 8, 'x'))).error(),
	    -EBADMSG); /* 65537 bytes */
	/* A SIMPLE_REPLY where an OPEN_REPLY is due. */
	EXPECT_EQ(decode_open_reply(kREPL + be32(0)).error(), -EBADMSG);
}

TEST(ProtocolReject, CommandFraming)
{
	EXPECT_EQ(decode_command({}).error(), -EBADMSG);
	EXPECT_EQ(decode_command(B({'D', 'O', 'I'})).error(), -EBADMSG);
	EXPECT_EQ(decode_command(kSAFT + be16(1) + be16(1) + be32(0)).error(), -ENOMSG);
	EXPECT_EQ(decode_command(kREPL + be32(0)).error(), -ENOMSG);
	EXPECT_EQ(decode_command(B({0, 0, 0, 0, 0, 0, 0, 0})).error(), -ENOMSG);
	EXPECT_EQ(decode_command(kNAME + S(std::string(kMaxPacketSize - 4, 'x'))).error(),
		  -EBADMSG); /* 65537 bytes */
}

TEST(ProtocolReject, FixedSizeCommands)
{
	for (const Bytes &magic : {kTYPE, kDOIT, kBYEE}) {
		EXPECT_EQ(decode_command(magic + B({0, 0, 0})).error(), -EINVAL);
		EXPECT_EQ(decode_command(magic + be32(0) + B({0})).error(), -EINVAL);
		EXPECT_EQ(decode_command(magic).error(), -EINVAL);
		EXPECT_TRUE(decode_command(magic + be32(0)).ok());
	}
}

TEST(ProtocolReject, UnknownFlagBits)
{
	EXPECT_EQ(decode_command(kTYPE + be32(2)).error(), -EINVAL);
	EXPECT_EQ(decode_command(kTYPE + be32(0x80000000u)).error(), -EINVAL);
	for (const Bytes &magic : {kOPEN, kBDEV})
		EXPECT_EQ(
		    decode_command(magic + be32(0) + be32(0) + be32(2) + be32(0) + S("/x")).error(),
		    -EINVAL);
	/* HELLO: see ProtocolReject.HelloUnknownFlags */
}

TEST(ProtocolReject, OpenCommandStrings)
{
	const Bytes head = kOPEN + be32(0) + be32(0) + be32(0) + be32(0);
	EXPECT_TRUE(decode_command(head + S("/x")).ok());
	EXPECT_EQ(decode_command(head).error(), -EINVAL);                  /* no path */
	EXPECT_EQ(decode_command(head + S("")).error(), -EINVAL);          /* empty */
	EXPECT_EQ(decode_command(head + S("/x", false)).error(), -EINVAL); /* no NUL */
	EXPECT_EQ(decode_command(head + S(std::string("/\0x", 3))).error(), -EINVAL);
	EXPECT_EQ(decode_command(kOPEN + be32(0) + be32(0) + B({0, 0})).error(), -EINVAL);
	EXPECT_EQ(open_command_path(head + S("/dev/sdb")), "/dev/sdb");
	EXPECT_EQ(open_command_path(head + S("/x", false)), "?");
	EXPECT_EQ(open_command_path(kTYPE + be32(0)), "?");
}

TEST(ProtocolReject, StringCommands)
{
	for (const Bytes &magic : {kNAME, kOPTS, kMTAB}) {
		EXPECT_EQ(decode_command(magic).error(), -EINVAL);
		EXPECT_EQ(decode_command(magic + S("")).error(), -EINVAL);
		EXPECT_EQ(decode_command(magic + S("abc", false)).error(), -EINVAL);
		EXPECT_EQ(decode_command(magic + S(std::string("a\0c", 3))).error(), -EINVAL);
		EXPECT_TRUE(decode_command(magic + S("a")).ok());
	}
}

TEST(ProtocolReject, MountpointRules)
{
	EXPECT_TRUE(decode_command(kMNTP + be16(0) + be16(0) + S("/m")).ok());
	EXPECT_TRUE(decode_command(kMNTP + be16(0x4000) + be16(0) + S("/m")).ok());
	EXPECT_TRUE(decode_command(kMNTP + be16(0x8000) + be16(0) + S("/m")).ok());
	for (uint16_t fmt : {0x2000, 0x6000, 0xa000, 0xc000, 0x1000, 0x4001, 0xffff})
		EXPECT_EQ(decode_command(kMNTP + be16(fmt) + be16(0) + S("/m")).error(), -EINVAL)
		    << fmt;
	EXPECT_EQ(decode_command(kMNTP + be16(0) + be16(1) + S("/m")).error(), -EINVAL);
	EXPECT_EQ(decode_command(kMNTP + be16(0) + be16(0x100) + S("/m")).error(), -EINVAL);
	EXPECT_EQ(decode_command(kMNTP + be16(0) + be16(0) + S("")).error(), -EINVAL);
	EXPECT_EQ(decode_command(kMNTP + be16(0) + be16(0) + S("/m", false)).error(), -EINVAL);
	EXPECT_EQ(decode_command(kMNTP + be16(0) + be16(0) + S(std::string("/\0m", 3))).error(),
		  -EINVAL);
	EXPECT_EQ(decode_command(kMNTP + be16(0)).error(), -EINVAL);
}

TEST(ProtocolHelpers, MagicNames)
{
	EXPECT_EQ(magic_name(kByeCmd), "BYEE");
	EXPECT_EQ(magic_name(kArgsMagic), "ARGS");
	EXPECT_EQ(magic_name(0x00414243), "?ABC");
	EXPECT_EQ(packet_magic(kDOIT + be32(0)), kMountCmd);
	EXPECT_EQ(packet_magic(B({1, 2, 3})), 0u);
}
