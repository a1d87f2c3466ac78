/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "util/messages.h"

#include <cstdarg>
#include <cstdio>
#include <cstring>

namespace fsvc::helper
{

void vsay(const char *program, const char *fmt, va_list ap)
{
	char line[2048];
	std::vsnprintf(line, sizeof(line), fmt, ap);
	/* One write per line, so parallel helpers never interleave mid-line. */
	std::fprintf(stderr, "%s: %s\n", program, line);
	std::fflush(stderr);
}

void say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsay(kProgramName, fmt, ap);
	va_end(ap);
}

std::string printable(std::string_view s)
{
	std::string out;
	out.reserve(s.size());
	for (char c : s) {
		const auto u = static_cast<unsigned char>(c);
		out.push_back(u >= 0x20 && u < 0x7f ? c : '?');
	}
	return out;
}

const char *errstr(int err)
{
	return std::strerror(err < 0 ? -err : err);
}

} // namespace fsvc::helper
