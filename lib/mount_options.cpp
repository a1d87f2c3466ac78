/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "lib/mount_options.h"

#include <cerrno>
#include <cstring>
#include <sys/mount.h>

#include <fuse_opt.h>

namespace fsvc
{

namespace
{

enum Key {
	KEY_KERN_OPT = 1,
	KEY_KERN_FLAG,
	KEY_RO,
	KEY_MTAB_OPT,
	KEY_BLKDEV,
	KEY_FSNAME,
	KEY_SUBTYPE,
	KEY_IGNORE,
};

/* Mount flags by option name: `on` means the option sets the flag. */
struct FlagOption {
	const char *name;
	uint32_t flag;
	bool on;
};

/*
 * Exactly the flag options upstream libfuse 3.19 (lib/mount.c) recognises;
 * any other (atime, lazytime, relatime...) is not a mount flag there either
 * and reaches fuse_session_new(), which rejects it.
 */
constexpr FlagOption kFlagOptions[] = {
    {"rw", MS_RDONLY, false},
    {"ro", MS_RDONLY, true},
    {"suid", MS_NOSUID, false},
    {"nosuid", MS_NOSUID, true},
    {"dev", MS_NODEV, false},
    {"nodev", MS_NODEV, true},
    {"exec", MS_NOEXEC, false},
    {"noexec", MS_NOEXEC, true},
    {"async", MS_SYNCHRONOUS, false},
    {"sync", MS_SYNCHRONOUS, true},
    {"dirsync", MS_DIRSYNC, true},
    {"noatime", MS_NOATIME, true},
    {"nodiratime", MS_NODIRATIME, true},
    {"nostrictatime", MS_STRICTATIME, false},
    {"symfollow", MS_NOSYMFOLLOW, false},
    {"nosymfollow", MS_NOSYMFOLLOW, true},
};

#define KEY(templ, key) FUSE_OPT_KEY(templ, key)

const fuse_opt kMountOpts[] = {
    KEY("allow_other", KEY_KERN_OPT),
    KEY("default_permissions", KEY_KERN_OPT),
    KEY("blksize=", KEY_KERN_OPT),
    KEY("max_read=", KEY_KERN_OPT),
    KEY("context=", KEY_KERN_OPT),
    KEY("fscontext=", KEY_KERN_OPT),
    KEY("defcontext=", KEY_KERN_OPT),
    KEY("rootcontext=", KEY_KERN_OPT),
    KEY("blkdev", KEY_BLKDEV),
    KEY("fsname=", KEY_FSNAME),
    KEY("subtype=", KEY_SUBTYPE),
    KEY("auto_unmount", KEY_IGNORE),
    KEY("user=", KEY_MTAB_OPT),
    KEY("-n", KEY_MTAB_OPT),
    KEY("-r", KEY_RO),
    KEY("ro", KEY_KERN_FLAG),
    KEY("rw", KEY_KERN_FLAG),
    KEY("suid", KEY_KERN_FLAG),
    KEY("nosuid", KEY_KERN_FLAG),
    KEY("dev", KEY_KERN_FLAG),
    KEY("nodev", KEY_KERN_FLAG),
    KEY("exec", KEY_KERN_FLAG),
    KEY("noexec", KEY_KERN_FLAG),
    KEY("async", KEY_KERN_FLAG),
    KEY("sync", KEY_KERN_FLAG),
    KEY("dirsync", KEY_KERN_FLAG),
    KEY("noatime", KEY_KERN_FLAG),
    KEY("nodiratime", KEY_KERN_FLAG),
    KEY("nostrictatime", KEY_KERN_FLAG),
    KEY("symfollow", KEY_KERN_FLAG),
    KEY("nosymfollow", KEY_KERN_FLAG),
    FUSE_OPT_END,
};

struct Parsed {
	uint32_t flags = MS_NOSUID | MS_NODEV;
	bool blkdev = false;
	std::optional<std::string> fsname;
	std::optional<std::string> subtype;
	std::vector<std::string> kernel;
	std::vector<std::string> mtab;
};

void set_flag(Parsed &p, const char *name)
{
	for (const FlagOption &f : kFlagOptions) {
		if (std::strcmp(f.name, name) == 0) {
			if (f.on)
				p.flags |= f.flag;
			else
				p.flags &= ~f.flag;
			return;
		}
	}
}

std::string after_eq(const char *arg)
{
	const char *eq = std::strchr(arg, '=');
	return eq ? std::string(eq + 1) : std::string();
}

int parse_proc(void *data, const char *arg, int key, fuse_args *)
{
	Parsed &p = *static_cast<Parsed *>(data);
	switch (key) {
	case KEY_RO:
		set_flag(p, "ro");
		return 0;
	case KEY_KERN_FLAG:
		set_flag(p, arg);
		return 0;
	case KEY_KERN_OPT:
		p.kernel.emplace_back(arg);
		return 0;
	case KEY_MTAB_OPT:
		p.mtab.emplace_back(arg);
		return 0;
	case KEY_BLKDEV:
		p.blkdev = true;
		return 0;
	case KEY_FSNAME:
		p.fsname = after_eq(arg);
		return 0;
	case KEY_SUBTYPE:
		p.subtype = after_eq(arg);
		return 0;
	case KEY_IGNORE:
		return 0;
	case FUSE_OPT_KEY_OPT:
		if (std::strncmp(arg, "x-", 2) == 0)
			p.mtab.emplace_back(arg);
		return 1;
	default:
		return 1;
	}
}

std::optional<std::string> join(const std::vector<std::string> &v)
{
	if (v.empty())
		return std::nullopt;
	std::string s;
	for (const auto &x : v) {
		if (!s.empty())
			s += ',';
		s += x;
	}
	return s;
}

} // namespace

bool is_service_only_option(const char *opt)
{
	/* Mount flags libfuse 3.19 knows and 3.14's fuse_session_new() rejects. */
	static constexpr const char *kNewerFlags[] = {"symfollow", "nosymfollow", "nodiratime",
						      "nostrictatime"};
	if (std::strncmp(opt, "x-", 2) == 0)
		return true;
	for (const char *f : kNewerFlags)
		if (std::strcmp(opt, f) == 0)
			return true;
	return false;
}

Result<MountRequest> compute_mount_request(const std::vector<std::string> &args)
{
	/* fuse_opt_parse wants a mutable argv; parse a private copy. */
	std::vector<std::string> copy(args);
	std::vector<char *> argv;
	for (auto &a : copy)
		argv.push_back(a.data());
	argv.push_back(nullptr);
	fuse_args fa = FUSE_ARGS_INIT(static_cast<int>(copy.size()), argv.data());

	Parsed p;
	int r = fuse_opt_parse(&fa, &p, kMountOpts, parse_proc);
	fuse_opt_free_args(&fa);
	if (r == -1)
		return Error{-EINVAL};

	if (!p.subtype && !p.fsname && !args.empty()) {
		const std::string &prog = args[0];
		auto slash = prog.rfind('/');
		std::string base = slash == std::string::npos ? prog : prog.substr(slash + 1);
		if (!base.empty())
			p.subtype = base;
	}
	if (p.subtype && p.subtype->empty())
		p.subtype.reset();

	MountRequest m;
	m.fuseblk = p.blkdev;
	m.fstype = p.blkdev ? "fuseblk" : "fuse";
	if (p.subtype)
		m.fstype += "." + *p.subtype;
	m.source = p.fsname ? *p.fsname : p.subtype ? *p.subtype : "/dev/fuse";
	m.kernel_opts = join(p.kernel);
	m.mtab_opts = join(p.mtab);
	m.ms_flags = p.flags;
	return m;
}

} // namespace fsvc
