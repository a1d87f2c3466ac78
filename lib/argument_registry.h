/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Which arguments each context's mount request is computed from.
 * fuse_service_parse_cmdline_opts() is not given a context, so contexts
 * are registered and recognised by the fuse_args they appended the helper's
 * command line to.
 */
#pragma once

#include "lib/context.h"

namespace fsvc
{

/* Remember the arguments a fuse_args currently holds for the mount request. */
void record_args(fuse_service &sf, const fuse_args &args);

void register_context(fuse_service *sf);
void unregister_context(fuse_service *sf);
/* record_args() on every registered context that appended to args. */
void record_args_for(const fuse_args &args);

} // namespace fsvc
