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
 * Unprivileged by default: once the checks that need root's view are done
 * (installation, fuse.conf), become_caller() makes the caller's ids the
 * effective ones for the rest of the run, so a lookup or open written
 * without a scope fails closed, with the caller's rights. Root is taken
 * back only inside an AsRoot scope, one per operation that needs it:
 *
 *   "fsopen"             fsopen("fuse"/"fuseblk"): CAP_SYS_ADMIN
 *   "create the mount"   fsconfig(FSCONFIG_CMD_CREATE), fsmount(), move_mount()
 *                        onto the pinned fd (no path is looked up)
 *   "mount(2)"           the legacy fallback, on "." (the pinned directory,
 *                        entered as the caller) or the pinned fd's /proc path
 *   "detach"             umount2(MNT_DETACH) of our own new mount, by its fd
 *
 * The mount-table record needs no scope: it is written by a child that
 * takes all ids 0 (see mtab.h). test/helper's nonroot_euid0_syscalls
 * checks this list against what the helper really does with euid 0.
 */
#pragma once

#include <array>
#include <cstdint>
#include <sys/types.h>

#include "core/result.h"

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

/*
 * Give up root for good, except in AsRoot scopes: when the helper runs
 * elevated (setuid), the effective and fs ids become the caller's real
 * ones (the supplementary groups are the caller's already: a setuid exec
 * keeps them); every id is read back and, for a non-root caller, the
 * effective capability set must be empty. Ends the process on any failure.
 * Nothing to do for a root caller, or a helper that is not setuid.
 */
void become_caller(const Caller &caller) noexcept;

/*
 * RAII: euid and egid 0 for one named privileged operation, then back to
 * the ids in force before, read back and verified. errno is preserved
 * across the destructor, so it can be read after the scope; code in a scope
 * should still save it inside, before anything else. A no-op when the
 * effective uid is 0 already (a root caller).
 */
class AsRoot
{
public:
	explicit AsRoot(const char *what) noexcept;
	~AsRoot();
	AsRoot(const AsRoot &) = delete;
	AsRoot &operator=(const AsRoot &) = delete;

private:
	bool raised_ = false;
	uid_t saved_euid_;
	gid_t saved_egid_;
};

/* The current filesystem uid/gid, read without changing them. */
uid_t current_fsuid() noexcept;
gid_t current_fsgid() noexcept;

/* The effective capability set as 64 bits, or -errno of capget(). */
Result<uint64_t> effective_capabilities() noexcept;

} // namespace fsvc::helper
