/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "privileges.h"

#include <cstdlib>
#include <sys/fsuid.h>
#include <unistd.h>

#include "messages.h"

namespace fsvc::helper
{

namespace
{

/* An invalid id: setfs[ug]id() then changes nothing and returns the current id. */
constexpr uid_t kQueryUid = static_cast<uid_t>(-1);
constexpr gid_t kQueryGid = static_cast<gid_t>(-1);

[[noreturn]] void die_switch(const char *what)
{
	say("cannot switch %s; refusing to continue", what);
	_exit(EXIT_FAILURE);
}

void set_fsuid_checked(uid_t uid)
{
	(void)setfsuid(uid);
	if (current_fsuid() != uid)
		die_switch("filesystem uid");
}

void set_fsgid_checked(gid_t gid)
{
	(void)setfsgid(gid);
	if (current_fsgid() != gid)
		die_switch("filesystem gid");
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

AsCaller::AsCaller(const Caller &caller) noexcept
    : saved_uid_(current_fsuid()), saved_gid_(current_fsgid())
{
	/* Group first: changing the gid may need the capabilities the uid switch drops. */
	set_fsgid_checked(caller.gid());
	set_fsuid_checked(caller.uid());
}

AsCaller::~AsCaller()
{
	set_fsuid_checked(saved_uid_);
	set_fsgid_checked(saved_gid_);
}

} // namespace fsvc::helper
