/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Packet I/O over a real socketpair(AF_UNIX, SOCK_SEQPACKET): framing, fd
 * passing with exactly one fd, and the error for every way a peer can
 * misbehave. Each test takes an fd census before and after: a received fd
 * that is rejected must be closed, never left installed in the process.
 */
#include <gtest/gtest.h>

#include <cerrno>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/packet_io.h"
#include "test_util.h"

using namespace fsvc;
using namespace fsvc::test;

namespace
{

class PacketIo : public ::testing::Test
{
protected:
	void SetUp() override
	{
		before_ = open_fds();
		pair_ = seqpacket_pair();
		ASSERT_TRUE(pair_.a.isValid());
	}
	void TearDown() override
	{
		pair_.a.reset();
		pair_.b.reset();
		extra_.reset();
		EXPECT_EQ(open_fds(), before_) << "fd leaked";
	}
	/* An fd worth passing: a pipe end, recognisable by its inode. */
	int make_fd()
	{
		extra_.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
		return extra_.get();
	}

	std::set<int> before_;
	SocketPair pair_;
	UniqueFD extra_;
};

bool same_file(int a, int b)
{
	struct stat sa, sb;
	return ::fstat(a, &sa) == 0 && ::fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

} // namespace

TEST_F(PacketIo, SendReceive)
{
	const Bytes msg = S("hello");
	ASSERT_EQ(send_packet(pair_.a.get(), msg), 0);
	ASSERT_EQ(send_packet(pair_.a.get(), S("second")), 0);
	auto p = recv_packet(pair_.b.get(), FdPolicy::Refuse);
	ASSERT_TRUE(p.ok()) << p.error();
	EXPECT_EQ(p->data, msg);
	EXPECT_FALSE(p->fd.isValid());
	/* Packet boundaries are the framing. */
	auto q = recv_packet(pair_.b.get(), FdPolicy::AcceptOne);
	ASSERT_TRUE(q.ok());
	EXPECT_EQ(q->data, S("second"));
	EXPECT_FALSE(q->fd.isValid());
}

TEST_F(PacketIo, LargestPacket)
{
	Bytes big(proto::kMaxPacketSize, std::byte{0x5a});
	ASSERT_EQ(send_packet(pair_.a.get(), big), 0);
	auto p = recv_packet(pair_.b.get(), FdPolicy::Refuse);
	ASSERT_TRUE(p.ok());
	EXPECT_EQ(p->data, big);
}

TEST_F(PacketIo, SendRefusesEmptyAndOversize)
{
	EXPECT_EQ(send_packet(pair_.a.get(), Bytes{}), -EMSGSIZE);
	EXPECT_EQ(send_packet(pair_.a.get(), Bytes(proto::kMaxPacketSize + 1)), -EMSGSIZE);
	EXPECT_EQ(recv_packet(pair_.b.get(), FdPolicy::Refuse, 0).error(), -ETIMEDOUT);
}

TEST_F(PacketIo, OneFdPassesWithCloexec)
{
	const int fd = make_fd();
	ASSERT_EQ(send_packet(pair_.a.get(), S("FILE"), fd), 0);
	auto p = recv_packet(pair_.b.get(), FdPolicy::AcceptOne);
	ASSERT_TRUE(p.ok()) << p.error();
	ASSERT_TRUE(p->fd.isValid());
	EXPECT_NE(p->fd.get(), fd);
	EXPECT_TRUE(same_file(p->fd.get(), fd));
	/* MSG_CMSG_CLOEXEC: a received fd never survives an exec by accident. */
	const int fl = ::fcntl(p->fd.get(), F_GETFD);
	ASSERT_GE(fl, 0);
	EXPECT_TRUE(fl & FD_CLOEXEC);
}

TEST_F(PacketIo, TwoFdsAreRejectedAndClosed)
{
	const int fd = make_fd();
	const auto census = open_fds();
	ASSERT_EQ(send_raw(pair_.a.get(), S("two"), {fd, fd}), 4);
	auto p = recv_packet(pair_.b.get(), FdPolicy::AcceptOne);
	EXPECT_EQ(p.error(), -EBADMSG);
	EXPECT_EQ(open_fds(), census);
	/* The stream goes on after the bad packet. */
	ASSERT_EQ(send_packet(pair_.a.get(), S("next")), 0);
	auto q = recv_packet(pair_.b.get(), FdPolicy::AcceptOne);
	ASSERT_TRUE(q.ok());
	EXPECT_EQ(q->data, S("next"));
}

TEST_F(PacketIo, ThreeFdsAreRejectedAndClosed)
{
	const int fd = make_fd();
	const auto census = open_fds();
	ASSERT_EQ(send_raw(pair_.a.get(), S("three"), {fd, fd, fd}), 6);
	EXPECT_EQ(recv_packet(pair_.b.get(), FdPolicy::AcceptOne).error(), -EBADMSG);
	EXPECT_EQ(open_fds(), census);
}

TEST_F(PacketIo, FdToRefusingReceiverIsNotInstalled)
{
	const int fd = make_fd();
	const auto census = open_fds();
	ASSERT_EQ(send_packet(pair_.a.get(), S("REPL"), fd), 0);
	auto p = recv_packet(pair_.b.get(), FdPolicy::Refuse);
	EXPECT_EQ(p.error(), -EBADMSG);
	EXPECT_EQ(open_fds(), census);
}

TEST_F(PacketIo, OversizePacketIsDroppedAndNextIsReadable)
{
	Bytes big(proto::kMaxPacketSize + 1, std::byte{1});
	ASSERT_EQ(send_raw(pair_.a.get(), big), static_cast<ssize_t>(big.size()));
	ASSERT_EQ(send_packet(pair_.a.get(), S("after")), 0);
	EXPECT_EQ(recv_packet(pair_.b.get(), FdPolicy::AcceptOne).error(), -EMSGSIZE);
	auto p = recv_packet(pair_.b.get(), FdPolicy::AcceptOne);
	ASSERT_TRUE(p.ok()) << p.error();
	EXPECT_EQ(p->data, S("after"));
}

TEST_F(PacketIo, OversizePacketWithFdLeaksNothing)
{
	const int fd = make_fd();
	const auto census = open_fds();
	Bytes big(100000, std::byte{1});
	ASSERT_EQ(send_raw(pair_.a.get(), big, {fd}), static_cast<ssize_t>(big.size()));
	EXPECT_EQ(recv_packet(pair_.b.get(), FdPolicy::AcceptOne).error(), -EMSGSIZE);
	EXPECT_EQ(open_fds(), census);
}

TEST_F(PacketIo, HangUpIsConnReset)
{
	ASSERT_EQ(send_packet(pair_.a.get(), S("last")), 0);
	pair_.a.reset();
	auto p = recv_packet(pair_.b.get(), FdPolicy::Refuse);
	ASSERT_TRUE(p.ok()); /* what was sent before the hang-up still arrives */
	EXPECT_EQ(recv_packet(pair_.b.get(), FdPolicy::Refuse).error(), -ECONNRESET);
	EXPECT_EQ(recv_packet(pair_.b.get(), FdPolicy::AcceptOne, 1000).error(), -ECONNRESET);
}

TEST_F(PacketIo, ShutdownIsConnReset)
{
	ASSERT_EQ(::shutdown(pair_.a.get(), SHUT_WR), 0);
	EXPECT_EQ(recv_packet(pair_.b.get(), FdPolicy::AcceptOne).error(), -ECONNRESET);
}

TEST_F(PacketIo, TimeoutIsEtimedout)
{
	EXPECT_EQ(recv_packet(pair_.b.get(), FdPolicy::Refuse, 0).error(), -ETIMEDOUT);
	EXPECT_EQ(recv_packet(pair_.b.get(), FdPolicy::AcceptOne, 1).error(), -ETIMEDOUT);
	/* Nothing was consumed by the timeout. */
	ASSERT_EQ(send_packet(pair_.a.get(), S("late")), 0);
	auto p = recv_packet(pair_.b.get(), FdPolicy::Refuse, 1000);
	ASSERT_TRUE(p.ok());
	EXPECT_EQ(p->data, S("late"));
}

TEST_F(PacketIo, SendToClosedPeerFails)
{
	pair_.b.reset();
	EXPECT_EQ(send_packet(pair_.a.get(), S("x")), -EPIPE);
}

TEST_F(PacketIo, BadSocket)
{
	EXPECT_EQ(recv_packet(-1, FdPolicy::Refuse).error(), -EBADF);
	EXPECT_EQ(send_packet(-1, S("x")), -EBADF);
}

TEST_F(PacketIo, SendBufferCheck)
{
	int size = 0;
	EXPECT_TRUE(sendbuf_big_enough(pair_.a.get(), &size));
	EXPECT_GE(static_cast<size_t>(size), proto::kOpenCmdHead + 4096 + 1);
}
