/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The argv memfd: how the helper hands its command line to the server.
 *
 *   offset 0: u32 magic (ARGS), u32 argc
 *   offset 8: argc entries of { u32 pos, u32 len }   (len counts the NUL)
 *   then:     the strings, each at its pos
 *
 * Upstream bounds neither side; we cap argc, each argument and the whole
 * file, and the reader parses one snapshot of the file so a writer that keeps
 * changing it cannot make two reads disagree.
 */
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/unique_fd.h"

namespace fsvc
{

inline constexpr size_t kMaxArgc = 4096;
inline constexpr size_t kMaxArgLength = 128 * 1024; /* bytes, NUL included */
inline constexpr size_t kMaxArgvFileSize = 2 * 1024 * 1024;

/*
 * Write args (args[0] is the subtype) into a new sealed memfd.
 * -E2BIG when a cap is exceeded, -EINVAL for an empty list or an argument
 * holding a NUL, or the errno of the failing system call.
 */
Result<UniqueFD> write_argv_memfd(std::span<const std::string_view> args);

/*
 * Read and validate an argv memfd. -EBADMSG for anything malformed: short
 * file, wrong magic, argc of 0 or over the cap, an entry outside the file, a
 * string not NUL-terminated or holding a NUL, a file over the size cap, or an
 * fd that is not a regular file (a memfd).
 */
Result<std::vector<std::string>> read_argv_memfd(int fd);

} // namespace fsvc
