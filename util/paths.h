/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Paths fixed at build time. The test twin of the helper is compiled with its
 * own socket directory and fuse.conf inside the build tree, so tests never
 * touch the host's; nothing here can be changed at run time.
 */
#pragma once

#include "fsvc_config.h"

namespace fsvc::helper
{

#ifdef FSVC_TEST_SOCKET_DIR
inline constexpr const char *kSocketDir = FSVC_TEST_SOCKET_DIR;
#else
inline constexpr const char *kSocketDir = FSVC_SOCKET_DIR;
#endif

#ifdef FSVC_TEST_FUSE_CONF
inline constexpr const char *kFuseConfPath = FSVC_TEST_FUSE_CONF;
#else
inline constexpr const char *kFuseConfPath = FSVC_FUSE_CONF;
#endif

inline constexpr const char *kFuseDevice = "/dev/fuse";

} // namespace fsvc::helper
