/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tarfs's archive reader (example/tar_archive.cpp) on arbitrary bytes, in a
 * real memfd as the server reads it. Whatever it accepts must be a
 * consistent tree: every entry names a live inode, entries are sorted and
 * unique, every file's data lies inside the archive, every directory's
 * parent is a directory. What it refuses carries a message and -EINVAL (or
 * -EFBIG for too many entries).
 */
#include <cerrno>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "example/tar_archive.h"
#include "fuzz_check.h"

namespace
{

int scratch_fd()
{
	static const int fd = ::memfd_create("fuzz tar", MFD_CLOEXEC);
	FUZZ_CHECK(fd >= 0);
	return fd;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const int fd = scratch_fd();
	FUZZ_CHECK(::ftruncate(fd, 0) == 0);
	size_t done = 0;
	while (done < size) {
		ssize_t n = ::pwrite(fd, data + done, size - done, static_cast<off_t>(done));
		FUZZ_CHECK(n > 0);
		done += static_cast<size_t>(n);
	}

	auto archive = tarfs::Archive::read(fd, size);
	if (!archive) {
		FUZZ_CHECK(archive.error() == -EINVAL || archive.error() == -EFBIG);
		FUZZ_CHECK(!archive.error_detail().message.empty());
		return 0;
	}
	const tarfs::Archive &a = *archive;
	FUZZ_CHECK(a.inode_count() >= 1);
	FUZZ_CHECK(S_ISDIR(a.node(tarfs::kRootIno)->mode));
	FUZZ_CHECK(a.node(0) == nullptr && a.node(a.inode_count() + 1) == nullptr);
	for (tarfs::Ino ino = tarfs::kRootIno; ino <= a.inode_count(); ino++) {
		const tarfs::Node *n = a.node(ino);
		FUZZ_CHECK(n != nullptr);
		const tarfs::Node *parent = a.node(n->parent);
		FUZZ_CHECK(parent != nullptr && S_ISDIR(parent->mode));
		if (S_ISREG(n->mode))
			FUZZ_CHECK(n->offset <= size && n->size <= size - n->offset);
		if (S_ISLNK(n->mode))
			FUZZ_CHECK(!n->target.empty() && n->size == n->target.size());
		if (!S_ISDIR(n->mode))
			FUZZ_CHECK(n->entries.empty());
		for (size_t i = 0; i < n->entries.size(); i++) {
			const auto &[name, child] = n->entries[i];
			FUZZ_CHECK(!name.empty() && name != "." && name != "..");
			FUZZ_CHECK(name.find('/') == std::string::npos);
			FUZZ_CHECK(i == 0 || n->entries[i - 1].first < name);
			FUZZ_CHECK(a.node(child) != nullptr);
			FUZZ_CHECK(a.lookup(ino, name) == child);
		}
	}
	return 0;
}
