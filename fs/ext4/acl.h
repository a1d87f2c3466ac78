/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * POSIX ACLs in the kernel's xattr form (system.posix_acl_*: a version 2
 * header, then {tag, perm, id} entries), for what a server with
 * FUSE_POSIX_ACL must do itself: derive the mode from an access ACL and
 * inherit a directory's default ACL at create.
 */
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <vector>

#include "core/result.h"

namespace fsvc::ext4
{

/**
 * The mode bits an access ACL stands for, written into @p mode (permission
 * bits only; the rest kept). True when the ACL says no more than the mode
 * (owner, group, other entries only), so it need not be stored.
 * -EINVAL for a malformed ACL.
 */
Result<bool> aclToMode(const std::vector<std::byte> &acl, mode_t &mode);

/**
 * posix_acl_create()'s masking: restrict @p acl (a default ACL, modified in
 * place) and @p mode (permission bits) by each other. True when the result
 * needs an access ACL (it has named entries or a mask).
 */
Result<bool> aclCreateMasq(std::vector<std::byte> &acl, mode_t &mode);

/**
 * posix_acl_chmod(): the owner, mask (or group) and other entries of an
 * access ACL take the permission bits of @p mode.
 */
Result<void> aclChmod(std::vector<std::byte> &acl, mode_t mode);

} // namespace fsvc::ext4
