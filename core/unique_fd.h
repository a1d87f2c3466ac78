/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The one owning file descriptor type of the project. Every fd we open or
 * receive is wrapped in a UniqueFD the moment it exists, so no error path can
 * leak one. It is the public fsvc::UniqueFD of the C++ API: servers and the
 * library share the type.
 */
#pragma once

#include <fuse_service_types.hpp>
