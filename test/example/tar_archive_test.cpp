/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tarfs's archive reader on archives built header by header here, so each
 * case can be exactly the malformation it tests: every format feature it
 * claims (ustar prefix, pax and GNU long names, base-256, v7, hard links,
 * implicit directories, later members replacing earlier ones) and every
 * refusal, with its offset. Real archives made by tar(1) are mounted in
 * examples-direct.sh and run-units.sh.
 */
#include "example/tar_archive.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

using tarfs::Archive;
using tarfs::Ino;
using tarfs::kRootIno;

namespace
{

struct Member {
	std::string name;
	char type = '0';
	std::string data;
	std::string link;
	unsigned mode = 0644;
	unsigned long long mtime = 1000000000;
	std::string prefix;
	bool v7 = false;           /* no ustar magic */
	long long size = -1;       /* the size field, when not data.size() */
	bool base256_size = false; /* GNU binary size field */
	bool break_checksum = false;
};

void octal(std::string &h, size_t off, size_t len, unsigned long long v)
{
	char buf[32];
	std::snprintf(buf, sizeof(buf), "%0*llo", static_cast<int>(len - 1), v);
	std::memcpy(&h[off], buf, len - 1); /* the last byte stays NUL */
}

std::string header(const Member &m)
{
	std::string h(512, '\0');
	std::memcpy(&h[0], m.name.data(), std::min<size_t>(m.name.size(), 100));
	octal(h, 100, 8, m.mode);
	octal(h, 108, 8, 1000);
	octal(h, 116, 8, 1000);
	unsigned long long size =
	    m.size >= 0 ? static_cast<unsigned long long>(m.size) : m.data.size();
	if (m.base256_size) {
		h[124] = static_cast<char>(0x80);
		for (int i = 0; i < 8; i++)
			h[135 - i] = static_cast<char>((size >> (8 * i)) & 0xff);
	} else {
		octal(h, 124, 12, size);
	}
	octal(h, 136, 12, m.mtime);
	h[156] = m.type;
	std::memcpy(&h[157], m.link.data(), std::min<size_t>(m.link.size(), 100));
	if (!m.v7) {
		std::memcpy(&h[257], "ustar", 6);
		std::memcpy(&h[263], "00", 2);
		std::memcpy(&h[345], m.prefix.data(), std::min<size_t>(m.prefix.size(), 155));
	}
	std::memset(&h[148], ' ', 8);
	unsigned sum = 0;
	for (unsigned char c : h)
		sum += c;
	if (m.break_checksum)
		sum++;
	std::snprintf(&h[148], 8, "%06o", sum);
	return h;
}

std::string pad(std::string s)
{
	s.resize((s.size() + 511) / 512 * 512, '\0');
	return s;
}

std::string tar(const std::vector<Member> &members, bool end = true)
{
	std::string out;
	for (const auto &m : members)
		out += header(m) + pad(m.data);
	if (end)
		out += std::string(1024, '\0');
	return out;
}

/* A pax record, its length prefix computed. */
std::string record(const std::string &key, const std::string &value)
{
	std::string body = " " + key + "=" + value + "\n";
	size_t len = body.size() + 1;
	while (std::to_string(len).size() + body.size() != len)
		len++;
	return std::to_string(len) + body;
}

class TarArchive : public ::testing::Test
{
protected:
	fsvc::Result<Archive, tarfs::ParseError> read(const std::string &bytes)
	{
		fd_.reset(::memfd_create("tar", MFD_CLOEXEC));
		EXPECT_TRUE(fd_.isValid());
		EXPECT_EQ(::pwrite(fd_.get(), bytes.data(), bytes.size(), 0),
			  static_cast<ssize_t>(bytes.size()));
		return Archive::read(fd_.get(), bytes.size());
	}
	/* The inode at a slash-separated path, or 0. */
	static Ino at(const Archive &a, const std::string &path)
	{
		Ino ino = kRootIno;
		size_t start = 0;
		while (ino && start < path.size()) {
			size_t slash = path.find('/', start);
			if (slash == std::string::npos)
				slash = path.size();
			ino = a.lookup(ino, std::string_view(path).substr(start, slash - start));
			start = slash + 1;
		}
		return ino;
	}
	std::string content(const Archive &a, Ino ino)
	{
		const tarfs::Node *n = a.node(ino);
		std::string s(n->size, '\0');
		EXPECT_EQ(::pread(fd_.get(), s.data(), s.size(), static_cast<off_t>(n->offset)),
			  static_cast<ssize_t>(s.size()));
		return s;
	}
	void expect_error(const std::string &bytes, const std::string &message)
	{
		auto r = read(bytes);
		ASSERT_FALSE(r);
		EXPECT_EQ(r.error(), -EINVAL);
		EXPECT_EQ(r.error_detail().message, message);
	}

	fsvc::UniqueFD fd_;
};

} // namespace

TEST_F(TarArchive, FilesDirectoriesLinks)
{
	auto r = read(tar({
	    {.name = "./", .type = '5', .mode = 0700},
	    {.name = "dir/", .type = '5', .mode = 0750},
	    {.name = "dir/a.txt", .data = "hello", .mode = 0640, .mtime = 1234},
	    {.name = "dir/sub/deep/b", .data = std::string(1000, 'b')},
	    {.name = "link", .type = '2', .link = "dir/a.txt"},
	    {.name = "hard", .type = '1', .link = "./dir/a.txt"},
	    {.name = "fifo", .type = '6'},
	}));
	ASSERT_TRUE(r) << r.error_detail().message;
	const Archive &a = *r;
	const tarfs::Node *root = a.node(kRootIno);
	EXPECT_EQ(root->mode, static_cast<mode_t>(S_IFDIR | 0700));
	EXPECT_EQ(root->nlink, 3u); /* ".", "..", dir */

	Ino file = at(a, "dir/a.txt");
	ASSERT_NE(file, 0u);
	EXPECT_EQ(a.node(file)->mode, static_cast<mode_t>(S_IFREG | 0640));
	EXPECT_EQ(a.node(file)->mtime, 1234);
	EXPECT_EQ(a.node(file)->uid, 1000u);
	EXPECT_EQ(content(a, file), "hello");
	EXPECT_EQ(a.node(file)->nlink, 2u);
	EXPECT_EQ(at(a, "hard"), file);

	Ino deep = at(a, "dir/sub/deep/b");
	ASSERT_NE(deep, 0u);
	EXPECT_EQ(content(a, deep), std::string(1000, 'b'));
	EXPECT_EQ(a.node(at(a, "dir/sub"))->mode, static_cast<mode_t>(S_IFDIR | 0755));
	EXPECT_EQ(a.node(at(a, "dir/sub"))->parent, at(a, "dir"));

	Ino link = at(a, "link");
	EXPECT_EQ(a.node(link)->mode & S_IFMT, static_cast<mode_t>(S_IFLNK));
	EXPECT_EQ(a.node(link)->target, "dir/a.txt");
	EXPECT_EQ(at(a, "fifo"), 0u);
	EXPECT_EQ(a.skipped(), 1u);

	/* Entries are sorted: readdir order and binary search agree. */
	const auto &entries = a.node(kRootIno)->entries;
	ASSERT_EQ(entries.size(), 3u);
	EXPECT_EQ(entries[0].first, "dir");
	EXPECT_EQ(entries[1].first, "hard");
	EXPECT_EQ(entries[2].first, "link");
}

TEST_F(TarArchive, LongNamesPrefixPaxGnuBase256V7)
{
	std::string long_name = std::string(150, 'p') + "/" + std::string(200, 'n');
	std::string pax = record("path", long_name) + record("mtime", "1700000000.25") +
			  record("uid", "4242") + record("atime", "1");
	std::string gnu_long = std::string(120, 'g') + '\0';
	auto r = read(tar({
	    {.name = "name", .data = "in prefix", .prefix = "the/prefix"},
	    {.name = "PaxHeaders/x", .type = 'x', .data = pax},
	    {.name = "short", .data = "pax"},
	    {.name = "././@LongLink", .type = 'L', .data = gnu_long},
	    {.name = "truncated", .data = "gnu"},
	    {.name = "big", .data = "256", .base256_size = true},
	    {.name = "old", .data = "v7", .v7 = true},
	}));
	ASSERT_TRUE(r) << r.error_detail().message;
	const Archive &a = *r;
	EXPECT_EQ(content(a, at(a, "the/prefix/name")), "in prefix");
	Ino p = at(a, long_name);
	ASSERT_NE(p, 0u);
	EXPECT_EQ(content(a, p), "pax");
	EXPECT_EQ(a.node(p)->mtime, 1700000000);
	EXPECT_EQ(a.node(p)->uid, 4242u);
	EXPECT_EQ(at(a, "short"), 0u);
	EXPECT_EQ(content(a, at(a, std::string(120, 'g'))), "gnu");
	EXPECT_EQ(content(a, at(a, "big")), "256");
	EXPECT_EQ(content(a, at(a, "old")), "v7");
}

TEST_F(TarArchive, PaxSizeOverridesAndLaterMembersReplace)
{
	std::string data(700, 'd');
	auto r = read(tar({
	    {.name = "f", .data = "first"},
	    {.name = "x", .type = 'x', .data = record("size", "700")},
	    {.name = "f", .data = data, .size = 0},
	    {.name = "after", .data = "next header found"},
	}));
	ASSERT_TRUE(r) << r.error_detail().message;
	EXPECT_EQ(content(*r, at(*r, "f")), data);
	EXPECT_EQ(content(*r, at(*r, "after")), "next header found");
	EXPECT_EQ(r->node(kRootIno)->entries.size(), 2u);
}

TEST_F(TarArchive, EndWithoutZeroBlocksIsFine)
{
	auto r = read(tar({{.name = "f", .data = "x"}}, false));
	ASSERT_TRUE(r) << r.error_detail().message;
	EXPECT_NE(at(*r, "f"), 0u);
}

TEST_F(TarArchive, Refusals)
{
	expect_error("", "an empty file");
	expect_error(std::string(300, 'x'), "offset 0: truncated header");
	expect_error(std::string(512, 'x'), "offset 0: bad header checksum (not a tar archive?)");
	expect_error(tar({{.name = "a", .data = "1"}, {.name = "b", .break_checksum = true}}),
		     "offset 1024: bad header checksum (not a tar archive?)");
	expect_error(tar({{.name = "a", .data = "x", .size = 5000}}, false),
		     "offset 0: entry data runs past the end of the archive (truncated?)");
	std::string cut = tar({{.name = "a", .data = std::string(600, 'a')}}, false);
	cut.resize(cut.size() - 100);
	expect_error(cut, "offset 0: entry data runs past the end of the archive (truncated?)");
	expect_error(tar({{.name = "../etc/passwd", .data = "x"}}), "offset 0: path with '..'");
	expect_error(tar({{.name = "a/../../b", .data = "x"}}), "offset 0: path with '..'");
	expect_error(tar({{.name = "x", .type = 'x', .data = "99 path=a\n"}}),
		     "offset 0: bad pax record length");
	expect_error(tar({{.name = "x", .type = 'x', .data = "9 path=ab"}}),
		     "offset 0: pax record does not end in a newline");
	expect_error(tar({{.name = "x", .type = 'x', .data = record("size", "-1")}}),
		     "offset 0: bad pax size");
	expect_error(tar({{.name = "x", .type = 'x', .data = record("path", "a")}}),
		     "offset 1024: extended header without an entry");
	expect_error(tar({{.name = "h", .type = '1', .link = "nowhere"}}),
		     "offset 0: hard link to 'nowhere', which is not in the archive before it");
	expect_error(tar({{.name = "d", .type = '5'}, {.name = "h", .type = '1', .link = "d"}}),
		     "offset 512: hard link to a directory");
	expect_error(tar({{.name = "d", .data = "file"}, {.name = "d/x", .data = "under a file"}}),
		     "offset 1024: 'd' is a file and a directory");
	expect_error(tar({{.name = "d", .type = '5'}, {.name = "d", .data = "file"}}),
		     "offset 512: 'd' is a file and a directory");
	expect_error(tar({{.name = "s", .type = '2'}}), "offset 0: symbolic link without a target");
	expect_error(tar({{.name = "s", .type = 'S', .data = "x"}}),
		     "offset 0: GNU sparse files are not supported");
	expect_error(tar({{.name = "x", .type = 'x', .data = record("path", std::string(300, 'n'))},
			  {.name = "f"}}),
		     "offset 1024: file name over 255 bytes");

	std::string bad_octal = tar({{.name = "f", .data = "x"}});
	bad_octal[100] = '9'; /* mode */
	std::memset(&bad_octal[148], ' ', 8);
	unsigned sum = 0;
	for (int i = 0; i < 512; i++)
		sum += static_cast<unsigned char>(bad_octal[i]);
	std::snprintf(&bad_octal[148], 8, "%06o", sum);
	expect_error(bad_octal, "offset 0: bad numeric field");
}

TEST_F(TarArchive, ReadErrorsAreErrnos)
{
	/* The archive shrank between fstat and the read: -EIO, not a crash. */
	std::string bytes = tar({{.name = "f", .data = "x"}});
	fd_.reset(::memfd_create("tar", MFD_CLOEXEC));
	ASSERT_EQ(::pwrite(fd_.get(), bytes.data(), 512, 0), 512);
	auto r = Archive::read(fd_.get(), bytes.size());
	ASSERT_FALSE(r);
	EXPECT_EQ(r.error(), -EIO);
	auto bad = Archive::read(-1, 1024);
	EXPECT_EQ(bad.error(), -EBADF);
}
