/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Errors as values. A Result<T> holds either a T or a negative errno; nothing
 * in this project throws, and the C boundary returns the errno unchanged.
 * It is the public fsvc::Result of the C++ API: one result type everywhere.
 */
#pragma once

#include <fuse_service_types.hpp>
