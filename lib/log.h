/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The library's diagnostics go where libfuse's own go: fuse_log(), so a
 * server that installed a log function with fuse_set_log_func() sees them.
 */
#pragma once

namespace fsvc
{

/* Log one line through fuse_log at FUSE_LOG_ERR, prefixed "fuse: ". */
[[gnu::format(printf, 1, 2)]] void log_error(const char *fmt, ...);

} // namespace fsvc
