/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The paths of the test twins: inside the build tree (build/test-run). */
#include "util/paths.h"

#include "fsvc_test_paths.h"

namespace fsvc::helper
{

const char kSocketDir[] = FSVC_TEST_SOCKET_DIR;
const char kFuseConfPath[] = FSVC_TEST_FUSE_CONF;
const char kHelperPath[] = FSVC_TEST_HELPER_PATH;

} // namespace fsvc::helper
