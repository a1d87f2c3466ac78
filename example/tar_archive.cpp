/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading a tar archive's table of contents. Written from the format as
 * POSIX (pax, ustar) and GNU tar document it; every offset and length that
 * comes from the archive is checked against the archive's size before use.
 */
#include "tar_archive.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstring>
#include <map>
#include <optional>
#include <sys/stat.h>
#include <unistd.h>

namespace tarfs
{

namespace
{

constexpr std::uint64_t kBlock = 512;
/* Caps against archives built to exhaust memory. */
constexpr std::uint64_t kMaxExtendedHeader = 1 << 20; /* pax / GNU long name data */
constexpr std::size_t kMaxNodes = 1 << 20;
constexpr std::size_t kMaxPath = PATH_MAX - 1;

/* The ustar header fields: offset and length in the 512-byte block. */
struct Field {
	std::size_t off, len;
};
constexpr Field kName{0, 100}, kMode{100, 8}, kUid{108, 8}, kGid{116, 8}, kSize{124, 12},
    kMtime{136, 12}, kChksum{148, 8}, kType{156, 1}, kLinkname{157, 100}, kMagic{257, 6},
    kVersion{263, 2}, kPrefix{345, 155};

using Block = std::array<unsigned char, kBlock>;

std::string_view text(const Block &b, Field f)
{
	const char *p = reinterpret_cast<const char *>(b.data()) + f.off;
	return {p, strnlen(p, f.len)};
}

/* An octal field (NUL/space padded) or a GNU base-256 one; nullopt if bad. */
std::optional<std::uint64_t> number(const Block &b, Field f)
{
	const unsigned char *p = b.data() + f.off;
	if (p[0] & 0x80) {
		if (p[0] & 0x40)
			return std::nullopt; /* negative */
		std::uint64_t v = p[0] & 0x3f;
		for (std::size_t i = 1; i < f.len; i++) {
			if (v >> 55)
				return std::nullopt;
			v = (v << 8) | p[i];
		}
		return v;
	}
	std::size_t i = 0;
	while (i < f.len && p[i] == ' ')
		i++;
	std::uint64_t v = 0;
	for (; i < f.len && p[i] >= '0' && p[i] <= '7'; i++) {
		if (v >> 60)
			return std::nullopt;
		v = v * 8 + (p[i] - '0');
	}
	for (; i < f.len; i++)
		if (p[i] != ' ' && p[i] != '\0')
			return std::nullopt;
	return v;
}

/* A decimal number of a pax record; the fraction of a time is dropped. */
std::optional<std::int64_t> decimal(std::string_view s, bool allow_fraction)
{
	bool negative = !s.empty() && s[0] == '-';
	if (negative)
		s.remove_prefix(1);
	if (s.empty())
		return std::nullopt;
	std::int64_t v = 0;
	std::size_t i = 0;
	for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; i++) {
		if (v > (INT64_MAX - 9) / 10)
			return std::nullopt;
		v = v * 10 + (s[i] - '0');
	}
	if (i == 0)
		return std::nullopt;
	if (i < s.size()) {
		if (!allow_fraction || s[i] != '.')
			return std::nullopt;
		for (i++; i < s.size(); i++)
			if (s[i] < '0' || s[i] > '9')
				return std::nullopt;
	}
	return negative ? -v : v;
}

bool checksum_ok(const Block &b)
{
	auto stored = number(b, kChksum);
	if (!stored)
		return false;
	/* The sum of the header with the checksum field read as spaces; some
	 * old tars summed signed chars, so accept either. */
	std::uint64_t usum = 0;
	std::int64_t ssum = 0;
	for (std::size_t i = 0; i < kBlock; i++) {
		bool in_field = i >= kChksum.off && i < kChksum.off + kChksum.len;
		unsigned char c = in_field ? ' ' : b[i];
		usum += c;
		ssum += static_cast<signed char>(c);
	}
	return *stored == usum || static_cast<std::int64_t>(*stored) == ssum;
}

bool all_zero(const Block &b)
{
	return std::all_of(b.begin(), b.end(), [](unsigned char c) { return c == 0; });
}

/* Overrides from pax headers and GNU long names. */
struct Overrides {
	std::optional<std::string> path, linkpath;
	std::optional<std::uint64_t> size, uid, gid;
	std::optional<std::int64_t> mtime;

	[[nodiscard]] bool any() const { return path || linkpath || size || uid || gid || mtime; }
};

} // namespace

class Builder
{
public:
	Builder(int fd, std::uint64_t size) : fd_(fd), size_(size)
	{
		Node root;
		root.mode = S_IFDIR | 0755;
		root.nlink = 2;
		archive_.nodes_.push_back(root);
		maps_.emplace_back();
	}

	fsvc::Result<Archive, ParseError> run()
	{
		if (size_ == 0)
			return ParseError{-EINVAL, "an empty file"};
		std::uint64_t pos = 0;
		while (pos < size_) {
			if (size_ - pos < kBlock)
				return fail(pos, "truncated header");
			Block b;
			if (auto r = read_at(b.data(), kBlock, pos); r < 0)
				return ParseError{r, "read at offset " + std::to_string(pos) +
							 ": " + std::strerror(-r)};
			if (all_zero(b))
				break; /* the end-of-archive marker */
			if (!checksum_ok(b))
				return fail(pos, "bad header checksum (not a tar archive?)");
			std::uint64_t at = pos;
			if (auto err = entry(b, pos); !err.empty())
				return fail(at, err);
			if (archive_.nodes_.size() > kMaxNodes)
				return ParseError{-EFBIG, "more than " + std::to_string(kMaxNodes) +
							      " entries"};
		}
		if (pending_.any())
			return fail(pos, "extended header without an entry");
		finish();
		return std::move(archive_);
	}

private:
	ParseError fail(std::uint64_t pos, const std::string &what)
	{
		return ParseError{-EINVAL, "offset " + std::to_string(pos) + ": " + what};
	}

	int read_at(void *buf, std::size_t len, std::uint64_t pos)
	{
		auto *p = static_cast<char *>(buf);
		while (len > 0) {
			ssize_t n = ::pread(fd_, p, len, static_cast<off_t>(pos));
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return -errno;
			if (n == 0)
				return -EIO; /* the archive shrank under us */
			p += n;
			pos += static_cast<std::uint64_t>(n);
			len -= static_cast<std::size_t>(n);
		}
		return 0;
	}

	/* Parse one header at @p pos and advance pos_ past its data; "" or why not. */
	std::string entry(const Block &b, std::uint64_t &pos)
	{
		auto hsize = number(b, kSize);
		if (!hsize)
			return "bad size field";
		char type = static_cast<char>(b[kType.off]);
		bool extended = type == 'x' || type == 'g' || type == 'L' || type == 'K';
		/* An extended header's size is its own, never overridden. */
		std::uint64_t size =
		    extended ? *hsize : pending_.size.value_or(global_.size.value_or(*hsize));
		std::uint64_t data = pos + kBlock;
		if (size > size_ - data)
			return "entry data runs past the end of the archive (truncated?)";
		std::uint64_t padded = (size + kBlock - 1) / kBlock * kBlock;
		if (padded > size_ - data)
			return "entry data runs past the end of the archive (truncated?)";
		std::uint64_t next = data + padded;

		std::string err;
		if (extended) {
			if (size > kMaxExtendedHeader)
				return "extended header over 1 MiB";
			std::string content(size, '\0');
			if (int r = read_at(content.data(), size, data); r < 0)
				return std::string("read: ") + std::strerror(-r);
			if (type == 'x')
				err = pax(content, pending_);
			else if (type == 'g')
				err = pax(content, global_);
			else if (type == 'L')
				pending_.path = content.substr(0, strnlen(content.c_str(), size));
			else
				pending_.linkpath =
				    content.substr(0, strnlen(content.c_str(), size));
			pos = next;
			return err;
		}

		err = member(b, type, data, size);
		pending_ = Overrides{};
		pos = next;
		return err;
	}

	/* pax records: "LEN key=value\n", LEN counting the whole record. */
	static std::string pax(std::string_view s, Overrides &o)
	{
		while (!s.empty()) {
			std::size_t sp = s.find(' ');
			if (sp == std::string_view::npos || sp == 0 || sp > 20)
				return "bad pax record length";
			auto len = decimal(s.substr(0, sp), false);
			if (!len || *len <= static_cast<std::int64_t>(sp) + 2 ||
			    static_cast<std::uint64_t>(*len) > s.size())
				return "bad pax record length";
			std::string_view rec =
			    s.substr(sp + 1, static_cast<std::size_t>(*len) - sp - 1);
			s.remove_prefix(static_cast<std::size_t>(*len));
			if (rec.back() != '\n')
				return "pax record does not end in a newline";
			rec.remove_suffix(1);
			std::size_t eq = rec.find('=');
			if (eq == std::string_view::npos || eq == 0)
				return "pax record without a key";
			std::string_view key = rec.substr(0, eq), value = rec.substr(eq + 1);
			if (key == "path" || key == "linkpath") {
				if (value.find('\0') != std::string_view::npos)
					return "NUL in a pax path";
				(key == "path" ? o.path : o.linkpath) = std::string(value);
			} else if (key == "size" || key == "uid" || key == "gid") {
				auto v = decimal(value, false);
				if (!v || *v < 0)
					return "bad pax " + std::string(key);
				auto u = static_cast<std::uint64_t>(*v);
				(key == "size" ? o.size : key == "uid" ? o.uid : o.gid) = u;
			} else if (key == "mtime") {
				auto v = decimal(value, true);
				if (!v)
					return "bad pax mtime";
				o.mtime = *v;
			}
			/* Other keys (atime, uname, charset, SCHILY.*...) change nothing we serve.
			 */
		}
		return {};
	}

	/* Split a member path into components; "" when it names the root. */
	static std::string components(std::string_view path, std::vector<std::string> &out)
	{
		out.clear();
		if (path.size() > kMaxPath)
			return "path too long";
		while (!path.empty()) {
			std::size_t slash = path.find('/');
			std::string_view c = path.substr(0, slash);
			path.remove_prefix(slash == std::string_view::npos ? path.size()
									   : slash + 1);
			if (c.empty() || c == ".")
				continue;
			if (c == "..")
				return "path with '..'";
			if (c.size() > NAME_MAX)
				return "file name over 255 bytes";
			out.emplace_back(c);
		}
		return {};
	}

	std::string member(const Block &b, char type, std::uint64_t data, std::uint64_t size)
	{
		/* "ustar\0" + "00" (POSIX), "ustar " + " \0" (GNU), nothing (v7). */
		bool ustar = std::memcmp(b.data() + kMagic.off, "ustar", 5) == 0;
		std::string path;
		if (pending_.path)
			path = *pending_.path;
		else if (global_.path)
			path = *global_.path;
		else {
			path = std::string(text(b, kName));
			/* GNU tar puts other data where POSIX has the prefix. */
			bool posix = ustar && text(b, kVersion) == "00";
			if (posix && !text(b, kPrefix).empty())
				path = std::string(text(b, kPrefix)) + "/" + path;
		}
		std::vector<std::string> parts;
		if (auto err = components(path, parts); !err.empty())
			return err;

		auto mode = number(b, kMode);
		auto uid = number(b, kUid), gid = number(b, kGid);
		auto mtime = number(b, kMtime);
		if (!mode || !uid || !gid || !mtime)
			return "bad numeric field";
		Node n;
		n.mode = static_cast<mode_t>(*mode & 07777);
		n.uid =
		    static_cast<std::uint32_t>(pending_.uid.value_or(global_.uid.value_or(*uid)));
		n.gid =
		    static_cast<std::uint32_t>(pending_.gid.value_or(global_.gid.value_or(*gid)));
		n.mtime = pending_.mtime.value_or(
		    global_.mtime.value_or(static_cast<std::int64_t>(*mtime)));
		std::string link = pending_.linkpath.value_or(
		    global_.linkpath.value_or(std::string(text(b, kLinkname))));

		switch (type) {
		case '0':
		case '\0':
		case '7':
			n.mode |= S_IFREG;
			n.size = size;
			n.offset = data;
			archive_.data_bytes_ += size;
			break;
		case '5':
		case 'D': /* GNU dumpdir: a directory with a listing we do not need */
			n.mode |= S_IFDIR;
			n.nlink = 2;
			break;
		case '2':
			if (link.empty())
				return "symbolic link without a target";
			if (link.size() > kMaxPath)
				return "symbolic link target too long";
			n.mode |= S_IFLNK;
			n.target = link;
			n.size = link.size();
			break;
		case '1':
			return hard_link(parts, link);
		case '3':
		case '4':
		case '6':
		case 'V': /* devices, fifos, a volume label: nothing to serve */
			archive_.skipped_++;
			return {};
		case 'S':
			return "GNU sparse files are not supported";
		case 'M':
			return "multi-volume archives are not supported";
		default:
			if (type >= 'A' && type <= 'Z') {
				/* Vendor extensions: not ours to guess. */
				archive_.skipped_++;
				return {};
			}
			/* POSIX: an unknown type is read as a regular file. */
			n.mode |= S_IFREG;
			n.size = size;
			n.offset = data;
			archive_.data_bytes_ += size;
			break;
		}
		if (parts.empty()) {
			/* "./": the root's own attributes. */
			if (!S_ISDIR(n.mode))
				return "the archive root is not a directory";
			Node &root = archive_.nodes_[0];
			root.mode = n.mode;
			root.uid = n.uid;
			root.gid = n.gid;
			root.mtime = n.mtime;
			return {};
		}
		return place(parts, std::move(n));
	}

	/* The directory holding @p parts (created as needed), or 0. */
	Ino parent_of(const std::vector<std::string> &parts, std::string &err)
	{
		Ino dir = kRootIno;
		for (std::size_t i = 0; i + 1 < parts.size(); i++) {
			auto &map = maps_[dir - kRootIno];
			auto it = map.find(parts[i]);
			if (it == map.end()) {
				Node d;
				d.mode = S_IFDIR | 0755;
				d.nlink = 2;
				Ino ino = add(std::move(d), dir);
				maps_[dir - kRootIno].emplace(parts[i], ino);
				dir = ino;
				continue;
			}
			if (!S_ISDIR(archive_.nodes_[it->second - kRootIno].mode)) {
				err = "'" + parts[i] + "' is a file and a directory";
				return 0;
			}
			dir = it->second;
		}
		return dir;
	}

	Ino add(Node n, Ino parent)
	{
		n.parent = parent;
		if (S_ISDIR(n.mode))
			archive_.nodes_[parent - kRootIno].nlink++;
		archive_.nodes_.push_back(std::move(n));
		maps_.emplace_back();
		return archive_.nodes_.size();
	}

	std::string place(const std::vector<std::string> &parts, Node n)
	{
		std::string err;
		Ino dir = parent_of(parts, err);
		if (!dir)
			return err;
		auto &map = maps_[dir - kRootIno];
		auto it = map.find(parts.back());
		if (it == map.end()) {
			Ino ino = add(std::move(n), dir);
			maps_[dir - kRootIno].emplace(parts.back(), ino);
			return {};
		}
		/* A later member of the same name replaces the earlier one (as tar
		 * extracts it), as long as neither is a directory with the other not. */
		Node &old = archive_.nodes_[it->second - kRootIno];
		if (S_ISDIR(old.mode) != S_ISDIR(n.mode))
			return "'" + parts.back() + "' is a file and a directory";
		if (S_ISDIR(old.mode)) {
			old.mode = n.mode;
			old.uid = n.uid;
			old.gid = n.gid;
			old.mtime = n.mtime;
			return {};
		}
		/* The old inode may still be reachable through hard links. */
		if (old.nlink > 1) {
			old.nlink--;
			Ino ino = add(std::move(n), dir);
			maps_[dir - kRootIno][parts.back()] = ino;
		} else {
			n.parent = dir;
			old = std::move(n);
		}
		return {};
	}

	std::string hard_link(const std::vector<std::string> &parts, const std::string &target)
	{
		std::vector<std::string> tparts;
		if (auto err = components(target, tparts); !err.empty())
			return "hard link target: " + err;
		Ino t = kRootIno;
		for (const auto &c : tparts) {
			auto &map = maps_[t - kRootIno];
			auto it = map.find(c);
			if (it == map.end())
				return "hard link to '" + target +
				       "', which is not in the archive before it";
			t = it->second;
		}
		if (tparts.empty() || S_ISDIR(archive_.nodes_[t - kRootIno].mode))
			return "hard link to a directory";
		if (parts.empty())
			return "hard link named as the root";
		std::string err;
		Ino dir = parent_of(parts, err);
		if (!dir)
			return err;
		auto &map = maps_[dir - kRootIno];
		auto it = map.find(parts.back());
		if (it != map.end()) {
			if (it->second == t)
				return {};
			Node &old = archive_.nodes_[it->second - kRootIno];
			if (S_ISDIR(old.mode))
				return "'" + parts.back() + "' is a file and a directory";
			old.nlink--;
		}
		archive_.nodes_[t - kRootIno].nlink++;
		map[parts.back()] = t;
		return {};
	}

	/* Sorted entry vectors for lookup (binary search) and readdir (by index). */
	void finish()
	{
		for (std::size_t i = 0; i < maps_.size(); i++) {
			auto &entries = archive_.nodes_[i].entries;
			entries.reserve(maps_[i].size());
			for (auto &[name, ino] : maps_[i])
				entries.emplace_back(name, ino);
		}
		maps_.clear();
	}

	int fd_;
	std::uint64_t size_;
	Archive archive_;
	std::vector<std::map<std::string, Ino, std::less<>>> maps_;
	Overrides pending_, global_;
};

fsvc::Result<Archive, ParseError> Archive::read(int fd, std::uint64_t size)
{
	return Builder(fd, size).run();
}

Ino Archive::lookup(Ino dir, std::string_view name) const noexcept
{
	const Node *d = node(dir);
	if (!d)
		return 0;
	auto it = std::lower_bound(d->entries.begin(), d->entries.end(), name,
				   [](const auto &e, std::string_view n) { return e.first < n; });
	return it != d->entries.end() && it->first == name ? it->second : 0;
}

} // namespace tarfs
