/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "lib/log.h"

#include <cstdarg>
#include <cstdio>

#include <fuse_log.h>

namespace fsvc
{

void log_error(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	std::vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fuse_log(FUSE_LOG_ERR, "fuse: %s\n", line);
}

} // namespace fsvc
