/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Who the helper works for, and the one way it acts as that user.
 *
 * The helper may run setuid root. Every path lookup, open and connect done on
 * behalf of the caller happens inside an AsCaller scope: the filesystem uid
 * and gid are switched to the caller's real ids and each switch is verified
 * by reading it back (setfsuid() reports no errors, so a silent failure would
 * otherwise leave us opening files as root). A switch that does not stick
 * ends the process at once.
 */
#pragma once

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

/* RAII: filesystem ids are the caller's for the lifetime of the object. */
class AsCaller
{
public:
	explicit AsCaller(const Caller &caller) noexcept;
	~AsCaller();
	AsCaller(const AsCaller &) = delete;
	AsCaller &operator=(const AsCaller &) = delete;

private:
	uid_t saved_uid_;
	gid_t saved_gid_;
};

/* The current filesystem uid/gid, read without changing them. */
uid_t current_fsuid() noexcept;
gid_t current_fsgid() noexcept;

} // namespace fsvc::helper
