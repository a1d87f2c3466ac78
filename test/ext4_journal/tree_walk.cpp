/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Prints one line per file of a tree: path, type, mode, size, mtime (ns),
 * user.* xattrs and an FNV-1a hash of the contents (or symlink target),
 * sorted by path. Two sources, compared line for line by the tests:
 *   tree_walk image FILE [--norecovery]   through libext2fs and open_replayed()
 *   tree_walk dir DIR                     through the kernel (a mounted tree)
 *   tree_walk replay FILE                 replay_to_device() on FILE, then
 *                                         the walk of the result as "image"
 */
#include "core/unique_fd.h"
#include "fs/ext4/replay/open_replayed.h"
#include "fs/ext4/replay/replay_to_device.h"

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <vector>

namespace
{

struct Hash {
	uint64_t h = 0xcbf29ce484222325ULL;
	void add(const void *p, size_t n)
	{
		auto *b = static_cast<const unsigned char *>(p);
		for (size_t i = 0; i < n; i++)
			h = (h ^ b[i]) * 0x100000001b3ULL;
	}
};

std::vector<std::string> g_lines;

void emit(const std::string &path, unsigned mode, uint64_t size, int64_t sec, uint32_t nsec,
	  const std::string &xattrs, uint64_t hash)
{
	char buf[256];
	std::snprintf(buf, sizeof(buf),
		      " mode=%o size=%" PRIu64 " mtime=%" PRId64 ".%09u hash=%016" PRIx64, mode,
		      size, sec, nsec, hash);
	g_lines.push_back(path + buf + " xattrs=[" + xattrs + "]");
}

/* ---- libext2fs side ---- */

int collect_xattr(char *name, char *value, size_t len, void *data)
{
	auto *out = static_cast<std::vector<std::string> *>(data);
	if (std::strncmp(name, "user.", 5) == 0) {
		Hash h;
		h.add(value, len);
		char buf[32];
		std::snprintf(buf, sizeof(buf), "=%016" PRIx64, h.h);
		out->push_back(std::string(name) + buf);
	}
	return 0;
}

std::string join(std::vector<std::string> v)
{
	std::sort(v.begin(), v.end());
	std::string s;
	for (auto &x : v)
		s += (s.empty() ? "" : ",") + x;
	return s;
}

int walk_ext2(ext2_filsys fs, ext2_ino_t ino, const std::string &path);

struct DirCtx {
	ext2_filsys fs;
	std::string path;
	std::vector<std::pair<std::string, ext2_ino_t>> entries;
};

int dir_cb(ext2_ino_t, int, struct ext2_dir_entry *d, int, int, char *, void *data)
{
	auto *c = static_cast<DirCtx *>(data);
	std::string name(d->name, ext2fs_dirent_name_len(d));
	if (name == "." || name == "..")
		return 0;
	c->entries.emplace_back(name, d->inode);
	return 0;
}

int walk_ext2(ext2_filsys fs, ext2_ino_t ino, const std::string &path)
{
	struct ext2_inode_large in {
	};
	errcode_t err =
	    ext2fs_read_inode_full(fs, ino, reinterpret_cast<ext2_inode *>(&in), sizeof(in));
	if (err) {
		std::fprintf(stderr, "tree_walk: inode %u: %s\n", ino, error_message(err));
		return 1;
	}
	auto *inode = reinterpret_cast<ext2_inode *>(&in);
	uint64_t size = EXT2_I_SIZE(inode);
	int64_t sec = int32_t(in.i_mtime);
	uint32_t nsec = 0;
	if (EXT2_INODE_SIZE(fs->super) > EXT2_GOOD_OLD_INODE_SIZE &&
	    in.i_extra_isize >= 8) { /* i_mtime_extra is present */
		sec += int64_t(in.i_mtime_extra & 3) << 32;
		nsec = in.i_mtime_extra >> 2;
	}
	std::vector<std::string> xa;
	struct ext2_xattr_handle *h = nullptr;
	if (!ext2fs_xattrs_open(fs, ino, &h)) {
		if (!ext2fs_xattrs_read(h))
			ext2fs_xattrs_iterate(h, collect_xattr, &xa);
		ext2fs_xattrs_close(&h);
	}
	Hash hash;
	int rc = 0;
	if (LINUX_S_ISREG(inode->i_mode) ||
	    (LINUX_S_ISLNK(inode->i_mode) && !ext2fs_is_fast_symlink(inode))) {
		if (inode->i_flags & EXT4_INLINE_DATA_FL) {
			std::vector<char> buf(size + 64);
			size_t got = buf.size();
			if (ext2fs_inline_data_get(fs, ino, inode, buf.data(), &got) == 0)
				hash.add(buf.data(), std::min<size_t>(got, size));
			else
				rc = 1;
		} else {
			ext2_file_t f = nullptr;
			err = ext2fs_file_open2(fs, ino, inode, 0, &f);
			if (err) {
				std::fprintf(stderr, "tree_walk: open %s: %s\n", path.c_str(),
					     error_message(err));
				return 1;
			}
			std::vector<char> buf(65536);
			for (;;) {
				unsigned int got = 0;
				err = ext2fs_file_read(f, buf.data(), unsigned(buf.size()), &got);
				if (err) {
					std::fprintf(stderr, "tree_walk: read %s: %s\n",
						     path.c_str(), error_message(err));
					rc = 1;
					break;
				}
				if (got == 0)
					break;
				hash.add(buf.data(), got);
			}
			ext2fs_file_close(f);
		}
	} else if (LINUX_S_ISLNK(inode->i_mode)) {
		hash.add(inode->i_block, size);
	}
	emit(path.empty() ? "/" : path, inode->i_mode, LINUX_S_ISDIR(inode->i_mode) ? 0 : size, sec,
	     nsec, join(xa), LINUX_S_ISDIR(inode->i_mode) ? 0 : hash.h);
	if (LINUX_S_ISDIR(inode->i_mode)) {
		DirCtx c{fs, path, {}};
		err = ext2fs_dir_iterate2(fs, ino, 0, nullptr, dir_cb, &c);
		if (err) {
			std::fprintf(stderr, "tree_walk: readdir %s: %s\n", path.c_str(),
				     error_message(err));
			return 1;
		}
		for (auto &[name, child] : c.entries)
			rc |= walk_ext2(fs, child, path + "/" + name);
	}
	return rc;
}

/* ---- kernel side ---- */

int walk_dir(int dirfd, const std::string &path, const std::string &full)
{
	struct stat st;
	if (lstat(full.c_str(), &st) < 0) {
		std::fprintf(stderr, "tree_walk: %s: %s\n", full.c_str(), std::strerror(errno));
		return 1;
	}
	(void)dirfd;
	std::vector<std::string> xa;
	std::vector<char> names(65536);
	ssize_t n = llistxattr(full.c_str(), names.data(), names.size());
	for (ssize_t off = 0; n > 0 && off < n;
	     off += ssize_t(std::strlen(&names[size_t(off)])) + 1) {
		const char *nm = &names[size_t(off)];
		if (std::strncmp(nm, "user.", 5) != 0)
			continue;
		std::vector<char> v(65536);
		ssize_t vl = lgetxattr(full.c_str(), nm, v.data(), v.size());
		Hash h;
		if (vl > 0)
			h.add(v.data(), size_t(vl));
		char buf[32];
		std::snprintf(buf, sizeof(buf), "=%016" PRIx64, h.h);
		xa.push_back(std::string(nm) + buf);
	}
	Hash hash;
	int rc = 0;
	if (S_ISREG(st.st_mode)) {
		int fd = open(full.c_str(), O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return 1;
		std::vector<char> buf(65536);
		ssize_t got;
		while ((got = read(fd, buf.data(), buf.size())) > 0)
			hash.add(buf.data(), size_t(got));
		if (got < 0)
			rc = 1;
		close(fd);
	} else if (S_ISLNK(st.st_mode)) {
		std::vector<char> buf(8192);
		ssize_t got = readlink(full.c_str(), buf.data(), buf.size());
		if (got > 0)
			hash.add(buf.data(), size_t(got));
	}
	bool dir = S_ISDIR(st.st_mode);
	emit(path.empty() ? "/" : path, st.st_mode, dir ? 0 : uint64_t(st.st_size),
	     st.st_mtim.tv_sec, uint32_t(st.st_mtim.tv_nsec), join(xa), dir ? 0 : hash.h);
	if (dir) {
		DIR *d = opendir(full.c_str());
		if (!d)
			return 1;
		std::vector<std::string> kids;
		while (struct dirent *e = readdir(d)) {
			std::string nm = e->d_name;
			if (nm != "." && nm != "..")
				kids.push_back(nm);
		}
		closedir(d);
		for (auto &k : kids)
			rc |= walk_dir(-1, path + "/" + k, full + "/" + k);
	}
	return rc;
}

} // namespace

int main(int argc, char **argv)
{
	if (argc < 3) {
		std::fprintf(stderr, "usage: tree_walk image FILE [--norecovery] | dir DIR | "
				     "replay FILE\n");
		return 2;
	}
	std::string what = argv[1];
	int rc;
	if (what == "replay") {
		fsvc::UniqueFD fd(open(argv[2], O_RDWR | O_CLOEXEC));
		if (!fd.isValid()) {
			std::fprintf(stderr, "tree_walk: %s: %s\n", argv[2], std::strerror(errno));
			return 1;
		}
		std::string why;
		auto st = fsvc::ext4::replay_to_device(fd.get(), why);
		if (!st) {
			std::fprintf(stderr, "tree_walk: %s\n", why.c_str());
			return 1;
		}
		std::fprintf(stderr,
			     "tree_walk: wrote back %u transactions, %zu blocks, %zu revoked\n",
			     st->transactions, st->blocks, st->revoked);
		/* The walk below must need no replay any more. */
		what = "image";
	}
	if (what == "image") {
		fsvc::UniqueFD fd(open(argv[2], O_RDONLY | O_CLOEXEC));
		if (!fd.isValid()) {
			std::fprintf(stderr, "tree_walk: %s: %s\n", argv[2], std::strerror(errno));
			return 1;
		}
		fsvc::ext4::ReplayOpenOptions o;
		o.recovery = !(argc > 3 && std::string(argv[3]) == "--norecovery");
		std::string why;
		auto r = fsvc::ext4::open_replayed(fd.get(), why, o);
		if (!r) {
			std::fprintf(stderr, "tree_walk: %s\n", why.c_str());
			return 1;
		}
		std::fprintf(stderr,
			     "tree_walk: replayed %u transactions, %zu blocks, %zu revoked\n",
			     r->stats.transactions, r->stats.blocks, r->stats.revoked);
		rc = walk_ext2(r->fs.get(), EXT2_ROOT_INO, "");
	} else if (what == "dir") {
		rc = walk_dir(-1, "", argv[2]);
	} else {
		return 2;
	}
	std::sort(g_lines.begin(), g_lines.end());
	for (auto &l : g_lines)
		std::printf("%s\n", l.c_str());
	return rc;
}
