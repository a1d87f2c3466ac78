/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Who the helper works for, and the one way it acts as that user.
 *
 * The helper may run setuid root. Every path lookup, open, ioctl and connect
 * done on behalf of the caller happens inside an AsCaller scope, which
 * switches the EFFECTIVE uid and gid to the caller's real ones (the
 * filesystem ids follow them). Switching only the filesystem ids is not
 * enough: it drops the filesystem capabilities but leaves CAP_SYS_PTRACE,
 * CAP_SYS_ADMIN... effective, which opens /proc/PID/cwd of any process or
 * lets BLKBSZSET through. The saved uid stays 0, so the scope can switch
 * back, and the caller cannot ptrace us meanwhile. Every switch is read back
 * and, for a non-root caller, the effective capability set must be empty
 * inside the scope; anything else ends the process at once.
 *
 * Everything that needs root (mount, fsopen/fsconfig/fsmount/move_mount,
 * the mount table, fuse.conf) happens outside any AsCaller scope.
 */
#pragma once

#include <array>
#include <cstdint>
#include <sys/types.h>

namespace fsvc::helper
{

class Caller
{
public:
	/* Capture the real and effective ids of this process. */
	static Caller current() noexcept;

	[[nodiscard]] uid_t uid() const noexcept { return uid_; }
	[[nodiscard]] gid_t gid() const noexcept { return gid_; }
	/* Root may do what the non-root policy forbids. */
	[[nodiscard]] bool is_root() const noexcept { return uid_ == 0; }
	/* Running with ids that differ from the caller's (setuid/setgid). */
	[[nodiscard]] bool elevated() const noexcept { return uid_ != euid_ || gid_ != egid_; }
	[[nodiscard]] uid_t euid() const noexcept { return euid_; }

private:
	uid_t uid_ = 0, euid_ = 0;
	gid_t gid_ = 0, egid_ = 0;
};

/* RAII: effective (hence filesystem) ids are the caller's for the lifetime of the object. */
class AsCaller
{
public:
	explicit AsCaller(const Caller &caller) noexcept;
	~AsCaller();
	AsCaller(const AsCaller &) = delete;
	AsCaller &operator=(const AsCaller &) = delete;

private:
	uid_t saved_euid_;
	gid_t saved_egid_;
	/* Effective capabilities we had to clear by hand (see the .cpp), restored on exit. */
	bool caps_cleared_ = false;
	std::array<uint32_t, 2> saved_effective_{};
};

/* The current filesystem uid/gid, read without changing them. */
uid_t current_fsuid() noexcept;
gid_t current_fsgid() noexcept;

/* The effective capability set as 64 bits; false when it cannot be read. */
bool effective_capabilities(uint64_t *out) noexcept;

} // namespace fsvc::helper
