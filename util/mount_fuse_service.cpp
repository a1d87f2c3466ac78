/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mount.fuse-service: what mount(8) and fstab run for `-t fuse.SUBTYPE`.
 *
 *   mount.fuse-service SOURCE MOUNTPOINT [-sfnvrw] [-o OPTIONS] [-t TYPE]
 *
 * When a service socket exists for the type and the caller may use it, the
 * mount is handed to fuservicemount3. Otherwise it behaves like the classic
 * mount.fuse3: it runs the filesystem program named by the type (or by a
 * "PROGRAM#SOURCE" source) as `PROGRAM SOURCE MOUNTPOINT -o OPTIONS`.
 * See mount.fuse-service(8).
 */
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <grp.h>
#include <optional>
#include <pwd.h>
#include <string>
#include <string_view>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include "fsvc_config.h"
#include "util/messages.h"

#ifdef FSVC_TEST_SOCKET_DIR
#define FRONTEND_SOCKET_DIR FSVC_TEST_SOCKET_DIR
#else
#define FRONTEND_SOCKET_DIR FSVC_SOCKET_DIR
#endif

namespace
{

constexpr const char *kName = "mount.fuse-service";

void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fsvc::helper::vsay(kName, fmt, ap);
	va_end(ap);
}

bool starts_with(std::string_view s, std::string_view p)
{
	return s.substr(0, p.size()) == p;
}

struct Request {
	std::string type; /* without fuse./fuseblk. */
	bool blk_type = false;
	std::string source;
	std::string mountpoint;
	std::vector<std::string> options;
	bool no_mtab = false;
	bool fake = false;
	std::string setuid_user;
	bool drop_privileges = false;
	bool dev = true, suid = true;
};

/* Options that only mean something to mount(8) itself. */
bool mount8_only(std::string_view o)
{
	for (std::string_view x :
	     {"", "user", "nouser", "users", "auto", "noauto", "_netdev", "nofail", "defaults"})
		if (o == x)
			return true;
	return false;
}

void add_options(Request &r, std::string_view list)
{
	size_t start = 0;
	for (size_t i = 0; i <= list.size(); i++) {
		if (i < list.size() && list[i] != ',')
			continue;
		std::string_view o = list.substr(start, i - start);
		start = i + 1;
		if (mount8_only(o))
			continue;
		if (starts_with(o, "setuid=")) {
			r.setuid_user = std::string(o.substr(7));
			continue;
		}
		if (o == "drop_privileges") {
			r.drop_privileges = true;
			continue;
		}
		if (o == "nodev")
			r.dev = false;
		if (o == "nosuid")
			r.suid = false;
		r.options.emplace_back(o);
	}
}

std::optional<Request> parse(int argc, char **argv)
{
	Request r;
	const char *base = std::strrchr(argv[0], '/');
	base = base ? base + 1 : argv[0];
	if (starts_with(base, "mount.fuse."))
		r.type = base + 11;
	else if (starts_with(base, "mount.fuseblk.")) {
		r.type = base + 14;
		r.blk_type = true;
	}
	if (argc < 3) {
		std::fprintf(stderr,
			     "usage: %s SOURCE MOUNTPOINT [-sfnvrw] [-o OPTIONS] [-t TYPE]\n",
			     kName);
		return std::nullopt;
	}
	r.source = argv[1];
	r.mountpoint = argv[2];
	for (int i = 3; i < argc; i++) {
		std::string_view a = argv[i];
		if (a == "-o" || a == "-t" || a == "-N") {
			if (i + 1 >= argc) {
				say("missing argument to option '%s'", argv[i]);
				return std::nullopt;
			}
			std::string_view v = argv[++i];
			if (a == "-o") {
				add_options(r, v);
			} else if (a == "-N") {
				say("-N (mount namespaces) is not supported");
				return std::nullopt;
			} else {
				r.blk_type = starts_with(v, "fuseblk.");
				if (starts_with(v, "fuse."))
					v.remove_prefix(5);
				else if (starts_with(v, "fuseblk."))
					v.remove_prefix(8);
				else if (v == "fuse" || v == "fuseblk")
					v = "";
				r.type = std::string(v);
			}
		} else if (a.size() >= 2 && a[0] == '-' && a[1] != '-') {
			for (char c : a.substr(1)) {
				switch (c) {
				case 'n':
					r.no_mtab = true;
					break;
				case 'f':
					r.fake = true;
					break;
				case 'r':
					r.options.emplace_back("ro");
					break;
				case 'w':
					r.options.emplace_back("rw");
					break;
				case 's':
				case 'v':
					break;
				default:
					say("unknown option '-%c'", c);
					return std::nullopt;
				}
			}
		} else {
			say("unexpected argument '%s'", argv[i]);
			return std::nullopt;
		}
	}
	/* Classic "PROGRAM#SOURCE" with a bare fuse type. */
	if (r.type.empty()) {
		auto hash = r.source.find('#');
		r.type = r.source.substr(0, hash);
		r.source = hash == std::string::npos ? "" : r.source.substr(hash + 1);
	}
	if (r.type.empty()) {
		say("empty filesystem type");
		return std::nullopt;
	}
	return r;
}

std::string joined(const std::vector<std::string> &v)
{
	std::string s;
	for (const auto &o : v)
		s += (s.empty() ? "" : ",") + o;
	return s;
}

/* Same rule as `fuservicemount3 --check`: a socket the caller may write to. */
bool service_exists(const Request &r)
{
	if (r.type.find('/') != std::string::npos)
		return false;
	std::string path = std::string(FRONTEND_SOCKET_DIR) + "/" + r.type;
	struct stat st;
	return stat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode) &&
	       access(path.c_str(), W_OK) == 0;
}

int run_service(const Request &r)
{
	std::string type = std::string(r.blk_type ? "fuseblk." : "fuse.") + r.type;
	std::string opts = joined(r.options);
	std::vector<const char *> av = {FSVC_HELPER_PATH,
					r.source.empty() ? r.type.c_str() : r.source.c_str(),
					r.mountpoint.c_str(), "-t", type.c_str()};
	if (!opts.empty()) {
		av.push_back("-o");
		av.push_back(opts.c_str());
	}
	if (r.no_mtab)
		av.push_back("-n");
	av.push_back(nullptr);
	execv(FSVC_HELPER_PATH, const_cast<char **>(av.data()));
	say("failed to execute %s: %s", FSVC_HELPER_PATH, std::strerror(errno));
	return 1;
}

int become(const std::string &user)
{
	passwd *pw = getpwnam(user.c_str());
	if (!pw) {
		say("setuid=%s: no such user", user.c_str());
		return -1;
	}
	if (initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 ||
	    setuid(pw->pw_uid) < 0) {
		say("failed to setuid to %s: %s", user.c_str(), std::strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * setuid= and drop_privileges change who the filesystem runs as. A service
 * runs as its unit says, so it cannot honour them: such a mount never goes
 * to a service (as with mount.fuse3), instead of silently running for root.
 */
bool wants_classic(const Request &r)
{
	return !r.setuid_user.empty() || r.drop_privileges;
}

int run_classic(const Request &r)
{
	if (r.drop_privileges) {
		/* It needs the mount made here with capabilities dropped before exec: not done. */
		say("drop_privileges is not supported; use mount.fuse3 from libfuse for this "
		    "mount");
		return 1;
	}
	if (!r.setuid_user.empty() && become(r.setuid_user) < 0)
		return 1;
	if (r.setuid_user.empty() && !std::getenv("HOME"))
		setenv("HOME", "/root", 0); /* filesystems started at boot expect one */
	/* mount(8) mounts suid,dev by default; libfuse would not. Say it explicitly. */
	std::vector<std::string> options = r.options;
	if (r.dev)
		options.emplace_back("dev");
	if (r.suid)
		options.emplace_back("suid");
	std::string opts = joined(options);
	std::vector<const char *> av = {r.type.c_str()};
	if (!r.source.empty())
		av.push_back(r.source.c_str());
	av.push_back(r.mountpoint.c_str());
	if (!opts.empty()) {
		av.push_back("-o");
		av.push_back(opts.c_str());
	}
	av.push_back(nullptr);
	execvp(r.type.c_str(), const_cast<char **>(av.data()));
	say("failed to execute %s: %s", r.type.c_str(), std::strerror(errno));
	return 1;
}

} // namespace

int main(int argc, char *argv[])
{
	if (argc < 1 || !argv[0])
		return 1;
	auto r = parse(argc, argv);
	if (!r)
		return 1;
	if (r->fake)
		return 0;
	if (!wants_classic(*r) && service_exists(*r))
		return run_service(*r);
	return run_classic(*r);
}
