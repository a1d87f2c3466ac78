/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "util/caller_options.h"

#include <string_view>
#include <sys/mount.h>

#include "util/argument_policy.h"
#include "util/messages.h"

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif

namespace fsvc::helper
{

namespace
{

/* A restriction, and the option that takes it back (mount(8)'s names). */
struct Restriction {
	std::string_view on;
	std::string_view off;
	uint32_t flag;
};

constexpr Restriction kRestrictions[] = {
    {"ro", "rw", MS_RDONLY},
    {"noexec", "exec", MS_NOEXEC},
    {"sync", "async", MS_SYNCHRONOUS},
    {"dirsync", "", MS_DIRSYNC},
    {"nodiratime", "diratime", MS_NODIRATIME},
    {"nosymfollow", "symfollow", MS_NOSYMFOLLOW},
};

void apply_token(std::string_view t, CallerMountOptions *o, bool *noatime, bool *relatime)
{
	for (const Restriction &r : kRestrictions) {
		if (t == r.on)
			o->required_flags |= r.flag;
		else if (!r.off.empty() && t == r.off)
			o->required_flags &= ~r.flag;
	}
	if (t == "suid" || t == "nosuid")
		o->suid = t == "suid";
	else if (t == "dev" || t == "nodev")
		o->dev = t == "dev";
	else if (t == "noatime")
		*noatime = true;
	else if (t == "relatime")
		*relatime = true, *noatime = false;
	else if (t == "atime" || t == "strictatime")
		*noatime = *relatime = false;
	else if (t == "allow_other")
		o->allow_other = true;
	else if (t == "allow_root")
		o->allow_root = true;
	else if (t == "default_permissions")
		o->default_permissions = true;
}

} // namespace

CallerMountOptions parse_caller_mount_options(std::span<const std::string> args)
{
	CallerMountOptions o;
	bool noatime = false, relatime = false;
	for (size_t i = 0; i < args.size(); i++) {
		const std::string &a = args[i];
		if (a == "--")
			break;
		std::string_view list;
		if (a == "-o" && i + 1 < args.size())
			list = args[++i];
		else if (a.size() > 2 && a[0] == '-' && a[1] == 'o')
			list = std::string_view(a).substr(2);
		else
			continue;
		for (const std::string &t : split_fuse_opts(list))
			apply_token(t, &o, &noatime, &relatime);
	}
	if (noatime) {
		o.required_flags |= MS_NOATIME;
		o.forbidden_flags |= MS_STRICTATIME | MS_RELATIME;
	} else if (relatime) {
		o.forbidden_flags |= MS_STRICTATIME;
	}
	return o;
}

uint32_t apply_caller_floor(uint32_t ms_flags, const CallerMountOptions &caller,
			    bool allow_widening)
{
	ms_flags |= caller.required_flags;
	ms_flags &= ~caller.forbidden_flags;
	/* The data comes from an untrusted image: suid and dev only on request. */
	if (!(ms_flags & MS_NOSUID) && !(allow_widening && caller.suid)) {
		say("unsafe option suid ignored");
		ms_flags |= MS_NOSUID;
	}
	if (!(ms_flags & MS_NODEV) && !(allow_widening && caller.dev)) {
		say("unsafe option dev ignored");
		ms_flags |= MS_NODEV;
	}
	return ms_flags;
}

} // namespace fsvc::helper
