/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Paths fixed at build time. Each is defined by exactly one small
 * translation unit linked into the program: paths_installed.cpp for the
 * shipped fuservicemount3 and mount.fuse-service, paths_test.cpp for their
 * test twins, whose socket directory, fuse.conf and helper live in the
 * build tree so tests never touch the host's. Nothing here can be changed
 * at run time.
 */
#pragma once

namespace fsvc::helper
{

/* Where the service sockets are: SOCKET_DIR/SUBTYPE. */
extern const char kSocketDir[];
/* fuse.conf: user_allow_other, mount_max. */
extern const char kFuseConfPath[];
/* fuservicemount3, as mount.fuse-service executes it. */
extern const char kHelperPath[];

inline constexpr const char *kFuseDevice = "/dev/fuse";

} // namespace fsvc::helper
