/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mounter.h"

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <optional>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "messages.h"
#include "mount_options.h"

namespace fsvc::helper
{

namespace
{

std::string fd_path(int fd)
{
	return "/proc/self/fd/" + std::to_string(fd);
}

/* The kernel explains fsconfig() failures through the context fd: pass it on. */
void print_fs_context_log(int fsfd)
{
	char buf[4096];
	for (;;) {
		ssize_t n = read(fsfd, buf, sizeof(buf) - 1);
		if (n <= 0)
			return;
		buf[n] = '\0';
		if (n > 0 && buf[n - 1] == '\n')
			buf[n - 1] = '\0';
		if (buf[0] && buf[1] == ' ')
			say("kernel: %s", printable(buf + 2).c_str());
		else if (buf[0])
			say("kernel: %s", printable(buf).c_str());
	}
}

int fsconfig_string(int fsfd, const char *key, const std::string &value)
{
	if (fsconfig(fsfd, FSCONFIG_SET_STRING, key, value.c_str(), 0) < 0) {
		int err = errno;
		say("fsconfig %s=%s: %s", printable(key).c_str(), printable(value).c_str(),
		    errstr(err));
		print_fs_context_log(fsfd);
		return -err;
	}
	return 0;
}

int fsconfig_flag(int fsfd, const char *key)
{
	if (fsconfig(fsfd, FSCONFIG_SET_FLAG, key, nullptr, 0) < 0) {
		int err = errno;
		say("fsconfig %s: %s", printable(key).c_str(), errstr(err));
		print_fs_context_log(fsfd);
		return -err;
	}
	return 0;
}

std::string octal(unsigned v)
{
	char buf[16];
	std::snprintf(buf, sizeof(buf), "%o", v);
	return buf;
}

/* Result of the new API: a mount, an error, or "cannot express this, use mount(2)". */
struct NewApiOutcome {
	bool fallback = false;
	int error = 0;
	UniqueFD mnt;
};

NewApiOutcome mount_new_api(const MountRequest &req, const Mountpoint &mp, int fsfd,
			    mode_t root_fmt)
{
	NewApiOutcome out;
	const NewApiFlags flags = translate_ms_flags(req.ms_flags);
	if (flags.leftover) {
		out.fallback = true;
		return out;
	}
	/* Kernels that predate the subtype key: mount(2) carries it in the type. */
	if (fsconfig(fsfd, FSCONFIG_SET_STRING, "subtype", req.subtype.c_str(), 0) < 0) {
		out.fallback = true;
		return out;
	}
	auto fail = [&](int err) {
		out.error = err;
		return std::move(out);
	};
	if (int r = fsconfig_string(fsfd, "source", req.source); r < 0)
		return fail(r);
	for (const char *f : flags.sb_flags)
		if (int r = fsconfig_flag(fsfd, f); r < 0)
			return fail(r);
	if (req.kernel_opts) {
		for (const KernelOption &o : split_kernel_options(*req.kernel_opts)) {
			int r = o.has_value ? fsconfig_string(fsfd, o.key.c_str(), o.value)
					    : fsconfig_flag(fsfd, o.key.c_str());
			if (r < 0)
				return fail(r);
		}
	}
	if (int r = fsconfig_string(fsfd, "fd", std::to_string(req.fusedev_fd)); r < 0)
		return fail(r);
	if (int r = fsconfig_string(fsfd, "rootmode", octal(root_fmt)); r < 0)
		return fail(r);
	if (int r = fsconfig_string(fsfd, "user_id", std::to_string(req.uid)); r < 0)
		return fail(r);
	if (int r = fsconfig_string(fsfd, "group_id", std::to_string(req.gid)); r < 0)
		return fail(r);
	if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0) {
		int err = errno;
		say("creating filesystem: %s", errstr(err));
		print_fs_context_log(fsfd);
		return fail(-err);
	}
	UniqueFD mnt(fsmount(fsfd, FSMOUNT_CLOEXEC, flags.attrs));
	if (!mnt.isValid()) {
		int err = errno;
		say("fsmount: %s", errstr(err));
		print_fs_context_log(fsfd);
		return fail(-err);
	}
	/* Onto the pinned fd itself: the path is never looked up again. */
	if (move_mount(mnt.get(), "", mp.fd.get(), "",
		       MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0) {
		int err = errno;
		say("move_mount: %s", errstr(err));
		return fail(-err); /* the detached mount goes away with mnt */
	}
	out.mnt = std::move(mnt);
	return out;
}

/* The mount id of an fd's object, without asking a FUSE server anything. */
std::optional<uint64_t> mount_id(int fd)
{
	struct statx stx;
	if (statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_MNT_ID, &stx) < 0 ||
	    !(stx.stx_mask & STATX_MNT_ID))
		return std::nullopt;
	return stx.stx_mnt_id;
}

/* Does mountinfo list mount id child, of fs type, directly on mount id parent? */
bool mountinfo_has(uint64_t child, uint64_t parent, const std::string &type)
{
	std::FILE *f = std::fopen("/proc/self/mountinfo", "re");
	if (!f)
		return false;
	char *line = nullptr;
	size_t cap = 0;
	bool found = false;
	while (!found && getline(&line, &cap, f) > 0) {
		unsigned long long id, pid;
		if (std::sscanf(line, "%llu %llu", &id, &pid) != 2 || id != child)
			continue;
		const char *sep = std::strstr(line, " - ");
		if (!sep)
			break;
		char fstype[256];
		if (std::sscanf(sep + 3, "%255s", fstype) == 1)
			found = pid == parent && type == fstype;
		break;
	}
	std::free(line);
	std::fclose(f);
	return found;
}

/*
 * After mount(2), find the new mount's root for a later detach: the pinned
 * object's path, looked up as the caller, must now lead to the root of a
 * mount of our type sitting directly on the pinned object's mount. Anything
 * else means someone moved things; then we have no safe handle. Nothing here
 * may send a request to the new filesystem: its server is waiting for us.
 */
UniqueFD find_new_root(const Mountpoint &mp, const Caller &caller, const std::string &type)
{
	char buf[PATH_MAX];
	ssize_t n = readlink(fd_path(mp.fd.get()).c_str(), buf, sizeof(buf) - 1);
	if (n <= 0)
		return {};
	buf[n] = '\0';
	UniqueFD root;
	{
		AsCaller as(caller);
		root.reset(open(buf, O_PATH | O_CLOEXEC | O_NOFOLLOW));
	}
	if (!root.isValid())
		return {};
	auto under = mount_id(mp.fd.get());
	auto top = mount_id(root.get());
	if (!under || !top || *under == *top || !mountinfo_has(*top, *under, type))
		return {};
	return root;
}

Result<Mounted> mount_legacy(const MountRequest &req, const Mountpoint &mp, mode_t root_fmt,
			     const Caller &caller)
{
	std::string data;
	if (req.kernel_opts)
		data = *req.kernel_opts + ",";
	data += "fd=" + std::to_string(req.fusedev_fd) + ",rootmode=" + octal(root_fmt) +
		",user_id=" + std::to_string(req.uid) + ",group_id=" + std::to_string(req.gid);
	const std::string type = fs_type_name(req.fuseblk, req.subtype);

	std::string target;
	if (mp.is_dir) {
		int r;
		{
			AsCaller as(caller);
			r = fchdir(mp.fd.get());
		}
		if (r < 0) {
			int err = errno;
			say("%s: %s", printable(mp.path).c_str(), errstr(err));
			return Error{-err};
		}
		target = ".";
	} else {
		target = fd_path(mp.fd.get());
	}
	int r = mount(req.source.c_str(), target.c_str(), type.c_str(), req.ms_flags, data.c_str());
	int err = errno;
	if (mp.is_dir && chdir("/") < 0) {
		/* harmless: we only leave the mountpoint so it is not kept busy */
	}
	if (r < 0) {
		say("mount: %s", errstr(err));
		return Error{-err};
	}
	Mounted m;
	m.how = MountPath::Legacy;
	m.root = find_new_root(mp, caller, type);
	return m;
}

} // namespace

std::string fs_type_name(bool fuseblk, const std::string &subtype)
{
	return std::string(fuseblk ? "fuseblk." : "fuse.") + subtype;
}

UniqueFD try_fsopen(bool fuseblk)
{
	return UniqueFD(fsopen(fuseblk ? "fuseblk" : "fuse", FSOPEN_CLOEXEC));
}

Result<Mounted> mount_fuse(const MountRequest &req, const Mountpoint &mp, UniqueFD fsfd,
			   const Caller &caller)
{
	struct stat st;
	if (fstat(mp.fd.get(), &st) < 0) {
		int err = errno;
		say("%s: %s", printable(mp.path).c_str(), errstr(err));
		return Error{-err};
	}
	const mode_t root_fmt = st.st_mode & S_IFMT;

	if (fsfd.isValid()) {
		NewApiOutcome o = mount_new_api(req, mp, fsfd.get(), root_fmt);
		if (!o.fallback) {
			if (o.error)
				return Error{o.error};
			Mounted m;
			m.root = std::move(o.mnt);
			m.how = MountPath::NewApi;
			return m;
		}
	}
	return mount_legacy(req, mp, root_fmt, caller);
}

void detach_mount(const Mounted &m)
{
	if (!m.root.isValid()) {
		say("cannot find the new mount again to remove it");
		return;
	}
	if (umount2(fd_path(m.root.get()).c_str(), MNT_DETACH) < 0)
		say("removing the mount again: %s", errstr(errno));
}

} // namespace fsvc::helper
