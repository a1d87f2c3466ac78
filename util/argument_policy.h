/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Which paths a server may ask the helper to touch. The server is not
 * trusted: the helper opens files and mounts with the caller's authority, so
 * it only does so for paths the caller wrote on the command line.
 */
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace fsvc::helper
{

/*
 * The caller's mountpoint: the second positional argument (SOURCE
 * MOUNTPOINT), or the only one; never an option or the value of one (so
 * `-o x=/etc` cannot smuggle a mountpoint), nor the source or a further
 * positional argument the server might prefer to cover.
 */
std::optional<std::string_view> mountpoint_argument(std::span<const std::string> args);

/* path is the caller's mountpoint, verbatim. */
bool is_mountpoint_argument(std::span<const std::string> args, std::string_view path);

/*
 * A file to OPEN must be an argument verbatim, or the value of an option as
 * a fuse_opt parser sees it: `-o name=PATH` (comma-separated, backslash
 * escapes), `-oname=PATH`, `--name=PATH`, or a short option with the value
 * glued on, `-XPATH`.
 */
bool is_named_on_command_line(std::span<const std::string> args, std::string_view path);

} // namespace fsvc::helper
