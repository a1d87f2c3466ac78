/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The argv memfd of PROTOCOL.md §4: the writer's exact layout, every cap,
 * and every malformed file a hostile helper could hand the server. The
 * malformed files are built by hand, byte by byte.
 */
#include <gtest/gtest.h>

#include <cerrno>
#include <fcntl.h>
#include <string>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

#include "core/argv_memfd.h"
#include "test_util.h"

using namespace fsvc;
using namespace fsvc::test;

namespace
{

UniqueFD memfd_with(const Bytes &content)
{
	UniqueFD fd(::memfd_create("test argv", MFD_CLOEXEC));
	if (!fd.isValid())
		return fd;
	if (!content.empty() && ::pwrite(fd.get(), content.data(), content.size(), 0) !=
				    static_cast<ssize_t>(content.size()))
		fd.reset();
	return fd;
}

Bytes read_all(int fd)
{
	Bytes out(1 << 20);
	ssize_t n = ::pread(fd, out.data(), out.size(), 0);
	out.resize(n > 0 ? static_cast<size_t>(n) : 0);
	return out;
}

/* A well-formed file for the given strings, laid out by hand. */
Bytes layout(const std::vector<std::string> &args)
{
	Bytes head = S("ARGS", false) + be32(static_cast<uint32_t>(args.size()));
	uint32_t pos = 8 + 8 * static_cast<uint32_t>(args.size());
	Bytes strings;
	for (const auto &a : args) {
		head = head + be32(pos) + be32(static_cast<uint32_t>(a.size() + 1));
		strings = strings + S(a);
		pos += static_cast<uint32_t>(a.size() + 1);
	}
	return head + strings;
}

Result<std::vector<std::string>> read_bytes(const Bytes &content)
{
	UniqueFD fd = memfd_with(content);
	if (!fd.isValid())
		return Error{-EIO};
	return read_argv_memfd(fd.get());
}

class ArgvMemfd : public ::testing::Test
{
protected:
	void SetUp() override { before_ = open_fds(); }
	void TearDown() override { EXPECT_EQ(open_fds(), before_) << "fd leaked"; }
	std::set<int> before_;
};

} // namespace

TEST_F(ArgvMemfd, WriterLayoutIsExact)
{
	const std::vector<std::string_view> args = {"ext4", "/dev/sda1", "/mnt", "-o", "ro"};
	auto fd = write_argv_memfd(args);
	ASSERT_TRUE(fd.ok()) << fd.error();
	const Bytes golden = B({'A', 'R', 'G', 'S', 0, 0, 0, 5,    /* magic, argc */
				0,   0,   0,   48,  0, 0, 0, 5,    /* "ext4" at 48 */
				0,   0,   0,   53,  0, 0, 0, 10,   /* "/dev/sda1" */
				0,   0,   0,   63,  0, 0, 0, 5,    /* "/mnt" */
				0,   0,   0,   68,  0, 0, 0, 3,    /* "-o" */
				0,   0,   0,   71,  0, 0, 0, 3}) + /* "ro" */
			     S("ext4") +
			     S("/dev/sda1") + S("/mnt") + S("-o") + S("ro");
	EXPECT_EQ(read_all(fd->get()), golden);
	/* memfd_create(..., MFD_CLOEXEC) */
	EXPECT_TRUE(::fcntl(fd->get(), F_GETFD) & FD_CLOEXEC);
	/* Sealed: the server cannot change what the helper wrote. */
	const int seals = ::fcntl(fd->get(), F_GET_SEALS);
	EXPECT_TRUE(seals & F_SEAL_WRITE);
	EXPECT_TRUE(seals & F_SEAL_GROW);
	EXPECT_TRUE(seals & F_SEAL_SHRINK);
}

TEST_F(ArgvMemfd, RoundTrip)
{
	const std::vector<std::string_view> args = {"sub", "", "a b", "-o", "x=y,z", "ünï"};
	auto fd = write_argv_memfd(args);
	ASSERT_TRUE(fd.ok());
	auto back = read_argv_memfd(fd->get());
	ASSERT_TRUE(back.ok()) << back.error();
	ASSERT_EQ(back->size(), args.size());
	for (size_t i = 0; i < args.size(); i++)
		EXPECT_EQ((*back)[i], args[i]);
}

TEST_F(ArgvMemfd, ReaderAcceptsHandBuiltFile)
{
	auto r = read_bytes(layout({"fuse.t", "/m"}));
	ASSERT_TRUE(r.ok()) << r.error();
	EXPECT_EQ(*r, (std::vector<std::string>{"fuse.t", "/m"}));
	/* Strings may be anywhere in the file, even shared or out of order. */
	Bytes shared =
	    S("ARGS", false) + be32(2) + be32(24) + be32(2) + be32(24) + be32(2) + S("x");
	auto s = read_bytes(shared);
	ASSERT_TRUE(s.ok());
	EXPECT_EQ(*s, (std::vector<std::string>{"x", "x"}));
}

TEST_F(ArgvMemfd, WriterCaps)
{
	std::vector<std::string_view> many(kMaxArgc, "a");
	EXPECT_TRUE(write_argv_memfd(many).ok());
	many.push_back("a");
	EXPECT_EQ(write_argv_memfd(many).error(), -E2BIG);

	std::string longest(kMaxArgLength - 1, 'l');
	std::vector<std::string_view> one = {longest};
	EXPECT_TRUE(write_argv_memfd(one).ok());
	std::string too_long(kMaxArgLength, 'l');
	one = {too_long};
	EXPECT_EQ(write_argv_memfd(one).error(), -E2BIG);

	/* Each argument within its cap, but together over the file cap. */
	std::vector<std::string_view> big(kMaxArgvFileSize / (kMaxArgLength - 1) + 1, longest);
	EXPECT_EQ(write_argv_memfd(big).error(), -E2BIG);

	EXPECT_EQ(write_argv_memfd({}).error(), -EINVAL);
	std::string nul("a\0b", 3);
	one = {nul};
	EXPECT_EQ(write_argv_memfd(one).error(), -EINVAL);
}

TEST_F(ArgvMemfd, ReaderCapArgc)
{
	std::vector<std::string> args(kMaxArgc, "a");
	EXPECT_TRUE(read_bytes(layout(args)).ok());
	args.push_back("a");
	EXPECT_EQ(read_bytes(layout(args)).error(), -EBADMSG);
	/* A huge argc with no table behind it. */
	EXPECT_EQ(read_bytes(S("ARGS", false) + be32(0xffffffffu)).error(), -EBADMSG);
	/* argc within the cap but the table runs past the end. */
	EXPECT_EQ(read_bytes(S("ARGS", false) + be32(3) + be32(24) + be32(2)).error(), -EBADMSG);
}

TEST_F(ArgvMemfd, ReaderCapArgLength)
{
	std::string longest(kMaxArgLength - 1, 'l');
	EXPECT_TRUE(read_bytes(layout({longest})).ok());
	EXPECT_EQ(read_bytes(layout({longest + "l"})).error(), -EBADMSG);
}

TEST_F(ArgvMemfd, ReaderCapFileSize)
{
	Bytes ok = layout({"a"});
	ok.resize(kMaxArgvFileSize); /* trailing zeros are allowed */
	EXPECT_TRUE(read_bytes(ok).ok());
	ok.push_back(std::byte{0});
	EXPECT_EQ(read_bytes(ok).error(), -EBADMSG);
}

TEST_F(ArgvMemfd, ReaderRejectsArgcZero)
{
	EXPECT_EQ(read_bytes(S("ARGS", false) + be32(0)).error(), -EBADMSG);
}

TEST_F(ArgvMemfd, ReaderRejectsWrongMagic)
{
	Bytes b = layout({"a"});
	b[0] = std::byte{'X'};
	EXPECT_EQ(read_bytes(b).error(), -EBADMSG);
	/* Little-endian magic is wrong too. */
	EXPECT_EQ(read_bytes(S("SGRA", false) + be32(1) + be32(16) + be32(2) + S("a")).error(),
		  -EBADMSG);
}

TEST_F(ArgvMemfd, ReaderRejectsShortFile)
{
	EXPECT_EQ(read_bytes({}).error(), -EBADMSG);
	EXPECT_EQ(read_bytes(S("ARG", false)).error(), -EBADMSG);
	EXPECT_EQ(read_bytes(S("ARGS", false) + B({0, 0, 1})).error(), -EBADMSG);
	Bytes cut = layout({"abc"});
	cut.pop_back(); /* the last string loses its NUL and its end */
	EXPECT_EQ(read_bytes(cut).error(), -EBADMSG);
}

TEST_F(ArgvMemfd, ReaderRejectsEntryPastTheEnd)
{
	const Bytes head = S("ARGS", false) + be32(1);
	EXPECT_EQ(read_bytes(head + be32(16) + be32(3) + S("a")).error(), -EBADMSG);
	EXPECT_EQ(read_bytes(head + be32(100) + be32(2) + S("a")).error(), -EBADMSG);
	/* pos + len wraps a u32: must not be read as a small number. */
	EXPECT_EQ(read_bytes(head + be32(0xfffffff0u) + be32(0x20) + S("a")).error(), -EBADMSG);
	EXPECT_EQ(read_bytes(head + be32(16) + be32(0xffffffffu) + S("a")).error(), -EBADMSG);
	EXPECT_EQ(read_bytes(head + be32(0xffffffffu) + be32(1) + S("a")).error(), -EBADMSG);
	/* A zero-length entry has no room for its NUL. */
	EXPECT_EQ(read_bytes(head + be32(16) + be32(0) + S("a")).error(), -EBADMSG);
}

TEST_F(ArgvMemfd, ReaderRejectsMissingOrEmbeddedNul)
{
	const Bytes head = S("ARGS", false) + be32(1) + be32(16);
	EXPECT_TRUE(read_bytes(head + be32(3) + S("ab")).ok());
	EXPECT_EQ(read_bytes(head + be32(2) + S("ab")).error(), -EBADMSG); /* no NUL in len */
	EXPECT_EQ(read_bytes(head + be32(4) + S(std::string("a\0b", 3))).error(), -EBADMSG);
}

TEST_F(ArgvMemfd, ReaderRejectsPipe)
{
	int p[2];
	ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
	UniqueFD r(p[0]), w(p[1]);
	const Bytes file = layout({"a"});
	ASSERT_EQ(::write(w.get(), file.data(), file.size()), static_cast<ssize_t>(file.size()));
	EXPECT_EQ(read_argv_memfd(r.get()).error(), -EBADMSG);
}

TEST_F(ArgvMemfd, ReaderRejectsSocket)
{
	auto pair = seqpacket_pair();
	EXPECT_EQ(read_argv_memfd(pair.a.get()).error(), -EBADMSG);
}

TEST_F(ArgvMemfd, ReaderRejectsDirectoryAndBadFd)
{
	UniqueFD dir(::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	ASSERT_TRUE(dir.isValid());
	EXPECT_EQ(read_argv_memfd(dir.get()).error(), -EBADMSG);
	EXPECT_EQ(read_argv_memfd(-1).error(), -EBADF);
}

/*
 * Decision (lead's reader): any regular file is read, memfd or not; the
 * reader only ever trusts the one snapshot it took. A write-only fd cannot
 * be read and fails with the errno of pread.
 */
TEST_F(ArgvMemfd, RegularNonMemfdFileIsRead)
{
	char tmpl[] = "/tmp/fsvc-argv-XXXXXX";
	UniqueFD fd(::mkostemp(tmpl, O_CLOEXEC));
	ASSERT_TRUE(fd.isValid());
	::unlink(tmpl);
	const Bytes file = layout({"sub", "/mnt"});
	ASSERT_EQ(::pwrite(fd.get(), file.data(), file.size(), 0),
		  static_cast<ssize_t>(file.size()));
	auto r = read_argv_memfd(fd.get());
	ASSERT_TRUE(r.ok()) << r.error();
	EXPECT_EQ(*r, (std::vector<std::string>{"sub", "/mnt"}));

	UniqueFD wronly(
	    ::open(("/proc/self/fd/" + std::to_string(fd.get())).c_str(), O_WRONLY | O_CLOEXEC));
	ASSERT_TRUE(wronly.isValid());
	EXPECT_EQ(read_argv_memfd(wronly.get()).error(), -EBADF);
}
