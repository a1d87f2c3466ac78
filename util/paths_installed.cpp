/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The paths of the installed programs (meson options socket_dir, fuse_conf). */
#include "util/paths.h"

#include "fsvc_config.h"

namespace fsvc::helper
{

const char kSocketDir[] = FSVC_SOCKET_DIR;
const char kFuseConfPath[] = FSVC_FUSE_CONF;
const char kHelperPath[] = FSVC_HELPER_PATH;

} // namespace fsvc::helper
