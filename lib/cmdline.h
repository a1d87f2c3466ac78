/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Command-line handling for services: the fuse_parse_cmdline() equivalent
 * (no realpath of the mountpoint), and the effective command line string.
 */
#pragma once

#include <string>

struct fuse_args;
struct fuse_cmdline_opts;

namespace fsvc
{

/* 0, or -EINVAL for arguments libfuse's parser rejects (message already logged). */
int parse_service_cmdline(fuse_args &args, fuse_cmdline_opts &opts);

/* "argv0 -t args[0] args[1] ..." */
std::string service_cmdline(const char *argv0, const fuse_args &args);

} // namespace fsvc
