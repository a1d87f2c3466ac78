/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Only the public C API is exported from libfuse_service.so: the library is
 * built with hidden visibility, the functions of fuse_service.h are marked
 * with this macro, and fuse_service.map names them again as version 3.19.
 */
#pragma once

#define FUSE_SERVICE_EXPORT __attribute__((visibility("default")))
