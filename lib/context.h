/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The service context behind the opaque `struct fuse_service` of the C API:
 * the connection to the helper, the two files it sent, what the hello said,
 * and the arguments the mount request is computed from.
 */
#pragma once

#include <string>
#include <sys/types.h>
#include <vector>

#include "core/unique_fd.h"

struct fuse_args;

struct fuse_service {
	fsvc::UniqueFD sock;
	fsvc::UniqueFD argv_fd;
	fsvc::UniqueFD fusedev;
	bool allow_other = false;
	bool can_fuseblk = false;
	mode_t expected_fmt = 0;
	/* The fuse_args the command line was appended to, to recognise it later. */
	const fuse_args *args_seen_at = nullptr;
	/* Arguments as last seen, from which the mount request is computed. */
	std::vector<std::string> seen_args;
};
