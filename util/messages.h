/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Diagnostics of the helper: one line on stderr, always prefixed with the
 * fixed program name. argv[0] is chosen by the caller of a setuid program, so
 * it never appears in a message; neither do raw bytes from the server, which
 * could hold terminal escape sequences.
 */
#pragma once

#include <cstdarg>
#include <string>
#include <string_view>

namespace fsvc::helper
{

inline constexpr const char *kProgramName = "fuservicemount3";

/* Print "fuservicemount3: <formatted text>\n" on stderr. */
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The same line for another of our programs (the mount(8) front end). */
void vsay(const char *program, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* A copy of s with control and non-ASCII bytes replaced by '?'. */
std::string printable(std::string_view s);

/* strerror() of a positive or negative errno value. */
const char *errstr(int err);

} // namespace fsvc::helper
