/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "util/mounter.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <linux/openat2.h>
#include <optional>
#include <string_view>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <vector>

#include "util/messages.h"
#include "util/mount_options.h"

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
	/* The three steps that need root, in one scope with nothing else in it. */
	UniqueFD mnt;
	const char *step = nullptr;
	int err = 0;
	{
		AsRoot root("create the mount");
		if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0) {
			err = errno;
			step = "creating filesystem";
		}
		if (!step) {
			mnt.reset(fsmount(fsfd, FSMOUNT_CLOEXEC, flags.attrs));
			if (!mnt.isValid()) {
				err = errno;
				step = "fsmount";
			}
		}
		/* Onto the pinned fd itself: the path is never looked up again. */
		if (!step && move_mount(mnt.get(), "", mp.fd.get(), "",
					MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0) {
			err = errno;
			step = "move_mount";
		}
	}
	if (step) {
		say("%s: %s", step, errstr(err));
		if (!mnt.isValid()) /* the kernel explains create and fsmount failures */
			print_fs_context_log(fsfd);
		return fail(-err); /* a detached mount goes away with mnt */
	}
	out.mnt = std::move(mnt);
	return out;
}

/*
 * The mount id of an fd's object, without asking a FUSE server anything.
 * The VFS reports the mount id whatever the mask; asking for nothing keeps
 * FUSE from checking who we are (it refuses any non-empty request from a
 * process whose ids are not all the mount owner's, setuid helpers
 * included: EACCES) and from asking its server.
 */
std::optional<uint64_t> mount_id(int fd)
{
	struct statx stx;
	if (statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, 0, &stx) < 0 ||
	    !(stx.stx_mask & STATX_MNT_ID))
		return std::nullopt;
	return stx.stx_mnt_id;
}

/* The parts of a /proc/self/mountinfo line the legacy path needs. */
struct MountInfoEntry {
	uint64_t id = 0;
	std::string mountpoint; /* unescaped */
	std::string fstype;
};

/* mountinfo writes space, tab, newline and backslash as \ooo. */
std::string unescape_mountinfo(std::string_view s)
{
	std::string out;
	for (size_t i = 0; i < s.size(); i++) {
		if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '3' &&
		    s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
			out.push_back(static_cast<char>((s[i + 1] - '0') * 64 +
							(s[i + 2] - '0') * 8 + (s[i + 3] - '0')));
			i += 3;
		} else {
			out.push_back(s[i]);
		}
	}
	return out;
}

/* Every mount visible to us; empty if mountinfo cannot be read. */
std::vector<MountInfoEntry> read_mountinfo()
{
	std::vector<MountInfoEntry> out;
	std::FILE *f = std::fopen("/proc/self/mountinfo", "re");
	if (!f)
		return out;
	char *line = nullptr;
	size_t cap = 0;
	ssize_t len;
	while ((len = getline(&line, &cap, f)) > 0) {
		/* id parent major:minor root mountpoint options [optional...] - fstype ... */
		std::string_view l(line, static_cast<size_t>(len));
		auto field = [&l](size_t n) -> std::string_view {
			size_t pos = 0;
			for (size_t i = 0; i < n; i++) {
				pos = l.find(' ', pos);
				if (pos == std::string_view::npos)
					return {};
				pos++;
			}
			return l.substr(pos, l.find(' ', pos) - pos);
		};
		MountInfoEntry e;
		unsigned long long id = 0;
		if (std::sscanf(line, "%llu", &id) != 1)
			continue;
		e.id = id;
		e.mountpoint = unescape_mountinfo(field(4));
		size_t sep = l.find(" - ");
		if (sep == std::string_view::npos)
			continue;
		std::string_view rest = l.substr(sep + 3);
		e.fstype = std::string(rest.substr(0, rest.find(' ')));
		out.push_back(std::move(e));
	}
	std::free(line);
	std::fclose(f);
	return out;
}

std::vector<uint64_t> all_mount_ids()
{
	std::vector<uint64_t> ids;
	for (const MountInfoEntry &e : read_mountinfo())
		ids.push_back(e.id);
	return ids;
}

/* Open a path as the caller without following any symlink in it. */
UniqueFD open_literal_path(const std::string &path, const Caller &caller)
{
	open_how how{};
	how.flags = O_PATH | O_CLOEXEC | O_NOFOLLOW;
	how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
	AsCaller as(caller);
	long fd = syscall(SYS_openat2, AT_FDCWD, path.c_str(), &how, sizeof(how));
	if (fd < 0 && errno == ENOSYS) /* before Linux 5.6: the mount id check below still holds */
		fd = open(path.c_str(), O_PATH | O_CLOEXEC | O_NOFOLLOW);
	return UniqueFD(static_cast<int>(fd));
}

/*
 * After mount(2), find the new mount's root for a later detach. mount(2)
 * gives no handle, so the new mount is identified in mountinfo: a mount id
 * that did not exist before the call (before), of our type, mounted where the
 * pinned object is. Exactly one must match. It is then opened by that path,
 * with no symlinks allowed, and must be that very mount id: a user who
 * swaps a directory for a symlink meanwhile gets no handle at all (and so
 * never makes us detach a mount that is not ours). Nothing here may send a
 * request to the new filesystem: its server is waiting for us.
 */
UniqueFD find_new_root(const Mountpoint &mp, const Caller &caller, const std::string &type,
		       const std::vector<uint64_t> &before)
{
	auto where = pinned_path(mp.fd.get());
	if (!where)
		return {};
	std::optional<uint64_t> found;
	for (const MountInfoEntry &e : read_mountinfo()) {
		if (e.fstype != type || e.mountpoint != *where ||
		    std::find(before.begin(), before.end(), e.id) != before.end())
			continue;
		if (found) /* two new mounts of our type right there: not ours to guess */
			return {};
		found = e.id;
	}
	if (!found)
		return {};
	UniqueFD root = open_literal_path(*where, caller);
	if (!root.isValid())
		return {};
	auto top = mount_id(root.get());
	if (!top || *top != *found)
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
	/*
	 * mount(2) copies one page of data and silently drops the rest: long
	 * server options would cut off our own user_id/group_id.
	 */
	const long page = sysconf(_SC_PAGESIZE);
	if (page <= 0 || data.size() >= static_cast<size_t>(page)) {
		say("mount options too long for mount(2): %zu bytes, the limit is %ld", data.size(),
		    page - 1);
		return Error{-EINVAL};
	}
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
	const std::vector<uint64_t> before = all_mount_ids();
	int r;
	int err = 0;
	{
		AsRoot root("mount(2)");
		r = mount(req.source.c_str(), target.c_str(), type.c_str(), req.ms_flags,
			  data.c_str());
		if (r < 0)
			err = errno;
	}
	if (mp.is_dir && chdir("/") < 0) {
		/* harmless: we only leave the mountpoint so it is not kept busy */
	}
	if (r < 0) {
		say("mount: %s", errstr(err));
		return Error{-err};
	}
	Mounted m;
	m.how = MountPath::Legacy;
	m.root = find_new_root(mp, caller, type, before);
	return m;
}

} // namespace

std::string fs_type_name(bool fuseblk, const std::string &subtype)
{
	return std::string(fuseblk ? "fuseblk." : "fuse.") + subtype;
}

UniqueFD try_fsopen(bool fuseblk)
{
	AsRoot root("fsopen");
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
	const std::string path = fd_path(m.root.get());
	int err = 0;
	{
		AsRoot root("detach");
		if (umount2(path.c_str(), MNT_DETACH) < 0)
			err = errno;
	}
	if (err)
		say("removing the mount again: %s", errstr(err));
}

} // namespace fsvc::helper
