/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * How this project reports failure, in one place.
 *
 * Convention. Inside, a function that can fail returns Result<T> (a T or a
 * negative errno, core/result.h) or, when there is no value, a plain int:
 * 0 or a negative errno. Nothing throws; no function reports failure with
 * a bool, a -1, an empty optional or a flag in a struct, and none prints a
 * message that its caller also prints. The C boundary (lib/service.cpp,
 * lib/service_main.cpp) returns what include/fuse_service.h documents:
 * the negative errno unchanged, NULL for the one function returning a
 * string, -1 where it mirrors fuse_parse_cmdline(), and fuse_main()'s exit
 * codes from fuse_service_main(). The helper turns an errno into its one
 * line on stderr and exit status 1 at the top of each step, and into a
 * positive errno in a reply to the server.
 *
 * One errno per kind of failure, on both ends of the wire. The values the
 * helper puts on the wire (SIMPLE_REPLY/OPEN_REPLY error fields) are the
 * ones upstream libfuse 3.19 sends, so nothing here changes a byte.
 *
 * Out of memory. The code is built with -fno-exceptions: a failed
 * allocation by operator new (std::string, std::vector, std::make_unique...)
 * terminates the process (std::terminate, then abort), in the library as in
 * the helper. Nothing checks for it and nothing uses `new (std::nothrow)`:
 * a check that can never see the failure would only hide the policy. A
 * helper that dies this way leaves no mount behind unless it had already
 * mounted (exactly as when it is killed); the server sees its hang-up.
 * -ENOMEM is returned only where a C allocator reports failure by
 * returning NULL or an error (fuse_opt_add_arg(), strdup(), clearenv(),
 * libmount's constructors), and fuse_service_cmdline() returns NULL.
 */
#pragma once

#include <cerrno>

namespace fsvc::err
{

/*
 * The peer broke the protocol: a packet of the wrong size or magic, a
 * string without its NUL, a reply naming a file we did not ask for, a
 * descriptor where none belongs (or none where one must be), an errno
 * outside 1..4095, a malformed argv memfd. PROTOCOL.md names EBADMSG for
 * these; the conversation cannot go on.
 */
inline constexpr int kProtocol = -EBADMSG;

/* A magic number that is no command of the server: the helper ends the conversation. */
inline constexpr int kUnknownCommand = -ENOMSG;

/*
 * A known command that breaks one of its rules (size, padding, flags,
 * expected format), is repeated, or comes out of order: the helper answers
 * EINVAL and the conversation goes on.
 */
inline constexpr int kBadCommand = -EINVAL;

/* HELLO / HELLO_REPLY: no protocol version in common. */
inline constexpr int kNoCommonVersion = -EOPNOTSUPP;

/* A packet over proto::kMaxPacketSize. */
inline constexpr int kTooBig = -EMSGSIZE;

/* The other end hung up; a send that meets EPIPE reports this too. */
inline constexpr int kHungUp = -ECONNRESET;

/* The helper waited longer than the silence timeout for the next packet. */
inline constexpr int kSilent = -ETIMEDOUT;

/* The conversation outlived its overall deadline. */
inline constexpr int kDeadline = -ETIME;

/* A bound of ours (argv memfd: argc, argument and file size) is exceeded. */
inline constexpr int kOverLimit = -E2BIG;

/* The caller may not have this (policy of the helper, fusermount3's rules). */
inline constexpr int kNotPermitted = -EPERM;

} // namespace fsvc::err
