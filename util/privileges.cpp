/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "util/privileges.h"

#include <cerrno>
#include <cstdlib>
#include <linux/capability.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/messages.h"

namespace fsvc::helper
{

namespace
{

/* An invalid id: setfs[ug]id() then changes nothing and returns the current id. */
constexpr uid_t kQueryUid = static_cast<uid_t>(-1);
constexpr gid_t kQueryGid = static_cast<gid_t>(-1);
constexpr uid_t kKeepUid = static_cast<uid_t>(-1);
constexpr gid_t kKeepGid = static_cast<gid_t>(-1);

[[noreturn]] void die_switch(const char *what)
{
	say("cannot switch %s; refusing to continue", what);
	_exit(EXIT_FAILURE);
}

/* glibc has no capget()/capset() wrappers: the raw v3 interface (two 32-bit words). */
using CapData = std::array<__user_cap_data_struct, _LINUX_CAPABILITY_U32S_3>;

bool read_caps(CapData *data)
{
	__user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
	return syscall(SYS_capget, &hdr, data->data()) == 0;
}

bool write_caps(const CapData &data)
{
	__user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
	return syscall(SYS_capset, &hdr, data.data()) == 0;
}

void set_effective_ids(uid_t uid, gid_t gid, bool uid_first)
{
	auto set_uid = [&] {
		if (setresuid(kKeepUid, uid, kKeepUid) < 0)
			die_switch("effective uid");
	};
	auto set_gid = [&] {
		if (setresgid(kKeepGid, gid, kKeepGid) < 0)
			die_switch("effective gid");
	};
	/* Regaining root must come before the gid; giving it up after. */
	if (uid_first) {
		set_uid();
		set_gid();
	} else {
		set_gid();
		set_uid();
	}
	uid_t r, e, s;
	gid_t rg, eg, sg;
	if (getresuid(&r, &e, &s) < 0 || e != uid)
		die_switch("effective uid");
	if (getresgid(&rg, &eg, &sg) < 0 || eg != gid)
		die_switch("effective gid");
	if (current_fsuid() != uid)
		die_switch("filesystem uid");
	if (current_fsgid() != gid)
		die_switch("filesystem gid");
	/* An id change resets "dumpable" to fs.suid_dumpable: keep us out of ptrace and cores. */
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

} // namespace

Caller Caller::current() noexcept
{
	Caller c;
	c.uid_ = getuid();
	c.euid_ = geteuid();
	c.gid_ = getgid();
	c.egid_ = getegid();
	return c;
}

uid_t current_fsuid() noexcept
{
	return static_cast<uid_t>(setfsuid(kQueryUid));
}

gid_t current_fsgid() noexcept
{
	return static_cast<gid_t>(setfsgid(kQueryGid));
}

Result<uint64_t> effective_capabilities() noexcept
{
	CapData d{};
	if (!read_caps(&d))
		return Error{-errno};
	return (static_cast<uint64_t>(d[1].effective) << 32) | d[0].effective;
}

AsCaller::AsCaller(const Caller &caller) noexcept : saved_euid_(geteuid()), saved_egid_(getegid())
{
	set_effective_ids(caller.uid(), caller.gid(), false);
	if (caller.is_root())
		return;
	/*
	 * Leaving euid 0 empties the effective set, unless securebits say
	 * otherwise or a non-root caller brought capabilities of its own (a
	 * helper that is not setuid). A non-root caller gets the non-root
	 * rules, so those are cleared too, and the result is checked.
	 */
	CapData d{};
	if (!read_caps(&d))
		die_switch("capabilities");
	if (d[0].effective || d[1].effective) {
		saved_effective_ = {d[0].effective, d[1].effective};
		caps_cleared_ = true;
		d[0].effective = d[1].effective = 0;
		if (!write_caps(d))
			die_switch("capabilities");
	}
	if (auto eff = effective_capabilities(); !eff || *eff != 0)
		die_switch("capabilities");
}

AsCaller::~AsCaller()
{
	const int saved_errno = errno;
	set_effective_ids(saved_euid_, saved_egid_, true);
	if (!caps_cleared_) {
		errno = saved_errno;
		return;
	}
	CapData d{};
	if (!read_caps(&d))
		die_switch("capabilities");
	d[0].effective = saved_effective_[0];
	d[1].effective = saved_effective_[1];
	if (!write_caps(d))
		die_switch("capabilities");
	errno = saved_errno;
}

void become_caller(const Caller &caller) noexcept
{
	if (!caller.elevated())
		return;
	set_effective_ids(caller.uid(), caller.gid(), false);
	if (caller.is_root())
		return;
	/* Leaving euid 0 emptied the effective set (no SECBIT_NO_SETUID_FIXUP): check. */
	if (auto eff = effective_capabilities(); !eff || *eff != 0)
		die_switch("capabilities");
}

AsRoot::AsRoot(const char *what) noexcept : saved_euid_(geteuid()), saved_egid_(getegid())
{
	(void)what; /* the name is for the reader (and the list in privileges.h) */
	if (saved_euid_ == 0)
		return;
	/* Back to euid 0 first: only then may the gid change. Effective caps return with it. */
	set_effective_ids(0, 0, true);
	raised_ = true;
}

AsRoot::~AsRoot()
{
	if (!raised_)
		return;
	const int saved_errno = errno;
	set_effective_ids(saved_euid_, saved_egid_, false);
	if (saved_euid_ != 0) {
		if (auto eff = effective_capabilities(); !eff || *eff != 0)
			die_switch("capabilities");
	}
	errno = saved_errno;
}

} // namespace fsvc::helper
