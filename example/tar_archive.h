/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The table of contents of a tar archive, for tarfs: read once at mount
 * time, then served read-only from memory (metadata) and from the archive
 * descriptor (file data, with pread).
 *
 * Formats: POSIX ustar and pax (extended headers 'x' and 'g' with the keys
 * path, linkpath, size, mtime, uid, gid), GNU long names ('L', 'K') and
 * base-256 numbers, and old v7 headers. Entries: regular files,
 * directories, symbolic links and hard links; device nodes and fifos are
 * skipped (counted). The archive is untrusted: every field is checked, and
 * anything that does not add up is an error naming the offset.
 */
#pragma once

#include <fuse_service_types.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <utility>
#include <vector>

namespace tarfs
{

/* Inode numbers: 1 is the root (FUSE_ROOT_ID), entries count up from it. */
using Ino = std::uint64_t;
inline constexpr Ino kRootIno = 1;

struct Node {
	mode_t mode = 0; /* file type and permission bits */
	std::uint32_t uid = 0;
	std::uint32_t gid = 0;
	std::int64_t mtime = 0;
	std::uint64_t size = 0;   /* bytes of data (files), target length (symlinks) */
	std::uint64_t offset = 0; /* where the data starts in the archive */
	std::uint32_t nlink = 1;
	Ino parent = kRootIno;
	std::string target; /* symlink target */
	/* Directory entries, sorted by name (excluding "." and ".."). */
	std::vector<std::pair<std::string, Ino>> entries;
};

/* A failure to read the archive: a negative errno and a one-line reason. */
struct ParseError {
	int code;
	std::string message;
};

class Archive
{
public:
	/*
	 * Read the table of contents from @p fd (an archive of @p size bytes).
	 * Errors: -EINVAL with "offset N: what is wrong" for a corrupt or
	 * unsupported archive, -EIO (and the errno) when reading fails,
	 * -EFBIG when it holds more entries than we are willing to index.
	 */
	[[nodiscard]] static fsvc::Result<Archive, ParseError> read(int fd, std::uint64_t size);

	[[nodiscard]] const Node *node(Ino ino) const noexcept
	{
		return ino >= kRootIno && ino - kRootIno < nodes_.size() ? &nodes_[ino - kRootIno]
									 : nullptr;
	}
	/* The inode of @p name in directory @p dir, or 0. */
	[[nodiscard]] Ino lookup(Ino dir, std::string_view name) const noexcept;
	[[nodiscard]] std::size_t inode_count() const noexcept { return nodes_.size(); }
	[[nodiscard]] std::uint64_t skipped() const noexcept { return skipped_; }
	[[nodiscard]] std::uint64_t data_bytes() const noexcept { return data_bytes_; }

private:
	friend class Builder;
	std::vector<Node> nodes_;
	std::uint64_t skipped_ = 0;
	std::uint64_t data_bytes_ = 0;
};

} // namespace tarfs
