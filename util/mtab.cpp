/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "util/mtab.h"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <dlfcn.h>
#include <grp.h>
#include <libmount.h>
#include <memory>
#include <poll.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "core/unique_fd.h"

#include "util/messages.h"

namespace fsvc::helper
{

namespace
{

/*
 * libmount, loaded only in the child that writes a record: it brings libblkid,
 * libselinux and libpcre2, which cost every other mount ~0.5 ms of start-up
 * and a MiB of RSS, and the helper's parent never maps them. Only the
 * system's copy by soname: the loader ignores LD_LIBRARY_PATH in a setuid
 * process, and the child runs with all ids 0 anyway.
 */
struct Libmount {
	decltype(&mnt_new_fs) new_fs;
	decltype(&mnt_unref_fs) unref_fs;
	decltype(&mnt_new_update) new_update;
	decltype(&mnt_free_update) free_update;
	decltype(&mnt_fs_set_source) fs_set_source;
	decltype(&mnt_fs_set_target) fs_set_target;
	decltype(&mnt_fs_set_fstype) fs_set_fstype;
	decltype(&mnt_fs_set_options) fs_set_options;
	decltype(&mnt_update_set_fs) update_set_fs;
	decltype(&mnt_update_table) update_table;
};

template <typename F>
bool bind(void *lib, const char *name, F *out)
{
	*out = reinterpret_cast<F>(dlsym(lib, name));
	return *out != nullptr;
}

/* 0, or a negative errno after saying why. The handle is never closed: the child exits. */
int load_libmount(Libmount *m)
{
	void *lib = dlopen("libmount.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		say("mtab: cannot load libmount: %s", dlerror());
		return -ENOENT;
	}
	if (!bind(lib, "mnt_new_fs", &m->new_fs) || !bind(lib, "mnt_unref_fs", &m->unref_fs) ||
	    !bind(lib, "mnt_new_update", &m->new_update) ||
	    !bind(lib, "mnt_free_update", &m->free_update) ||
	    !bind(lib, "mnt_fs_set_source", &m->fs_set_source) ||
	    !bind(lib, "mnt_fs_set_target", &m->fs_set_target) ||
	    !bind(lib, "mnt_fs_set_fstype", &m->fs_set_fstype) ||
	    !bind(lib, "mnt_fs_set_options", &m->fs_set_options) ||
	    !bind(lib, "mnt_update_set_fs", &m->update_set_fs) ||
	    !bind(lib, "mnt_update_table", &m->update_table)) {
		say("mtab: libmount lacks a function we need");
		return -ENOSYS;
	}
	return 0;
}

std::string caller_name(uid_t uid)
{
	std::vector<char> buf(16384);
	passwd pw, *res = nullptr;
	if (getpwuid_r(uid, &pw, buf.data(), buf.size(), &res) != 0 || !res)
		return std::to_string(uid);
	return pw.pw_name;
}

} // namespace

int filter_mtab_options(std::string_view opts, const Caller &caller, MtabOptions *out)
{
	size_t start = 0;
	for (size_t i = 0; i <= opts.size(); i++) {
		if (i < opts.size() && opts[i] != ',')
			continue;
		std::string_view tok = opts.substr(start, i - start);
		start = i + 1;
		if (tok.empty())
			continue;
		if (tok == "-n") {
			out->skip = true;
			continue;
		}
		bool keep = tok.substr(0, 2) == "x-";
		if (tok.substr(0, 5) == "user=") {
			if (!caller.is_root() && tok.substr(5) != caller_name(caller.uid())) {
				say("mtab option %s does not name the calling user",
				    printable(tok).c_str());
				return -EPERM;
			}
			keep = true;
		}
		if (keep) {
			if (!out->options.empty())
				out->options += ",";
			out->options += tok;
		}
	}
	/* Only root's mounts are recorded (see mtab.h): nothing else to keep. */
	if (!caller.is_root())
		out->options.clear();
	if (out->options.size() > kMaxMtabOptions) {
		say("mtab options longer than %zu bytes", kMaxMtabOptions);
		out->options.clear();
		return -EINVAL;
	}
	return 0;
}

namespace
{

/* In the child: libmount, its lock and the table write. 0 on success. */
int write_record(const std::string &source, const std::string &target, const std::string &type,
		 const MtabOptions &opts)
{
	Libmount m{};
	if (int r = load_libmount(&m); r < 0)
		return r;
	auto unref_fs = [&m](libmnt_fs *f) { m.unref_fs(f); };
	auto free_update = [&m](libmnt_update *u) { m.free_update(u); };
	std::unique_ptr<libmnt_fs, decltype(unref_fs)> fs(m.new_fs(), unref_fs);
	std::unique_ptr<libmnt_update, decltype(free_update)> upd(m.new_update(), free_update);
	if (!fs || !upd) {
		say("mtab: out of memory");
		return -ENOMEM;
	}
	if (m.fs_set_source(fs.get(), source.c_str()) ||
	    m.fs_set_target(fs.get(), target.c_str()) || m.fs_set_fstype(fs.get(), type.c_str()) ||
	    m.fs_set_options(fs.get(), opts.options.empty() ? nullptr : opts.options.c_str())) {
		say("mtab: out of memory");
		return -ENOMEM;
	}
	/* 1 means the system keeps no table that wants this entry (e.g. no user options). */
	int r = m.update_set_fs(upd.get(), 0, nullptr, fs.get());
	if (r == 1)
		return 0;
	if (r == 0)
		r = m.update_table(upd.get(), nullptr);
	if (r < 0)
		say("%s: failed to record the mount in the mount table: %s",
		    printable(target).c_str(), errstr(r));
	return r;
}

/* Wait for the child at most wait_ms; false (child killed and reaped) on timeout. */
bool wait_bounded(pid_t pid, int wait_ms)
{
	UniqueFD pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
	if (pidfd.isValid()) {
		pollfd p{pidfd.get(), POLLIN, 0};
		int r;
		do {
			r = poll(&p, 1, wait_ms);
		} while (r < 0 && errno == EINTR);
		if (r == 0)
			kill(pid, SIGKILL);
	}
	/* Without pidfd_open (Linux < 5.3) the wait is not bounded. */
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
	}
	return !(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

/*
 * Whether libmount would write anything. Our filtered options hold only
 * userspace ones (user=, x-*): without them libmount's utab wants no
 * record (mnt_update_set_fs() returns 1), and only a classic /etc/mtab, a
 * regular file, wants every mount. The common mount then skips the child
 * and the load of libmount (~1 ms) altogether.
 */
bool table_wants_record(const MtabOptions &opts)
{
	if (!opts.options.empty())
		return true;
	struct stat st;
	return ::lstat("/etc/mtab", &st) == 0 && S_ISREG(st.st_mode);
}

} // namespace

void record_mount(const std::string &source, const std::string &target, const std::string &type,
		  const MtabOptions &opts, const Caller &caller, int wait_ms)
{
	if (opts.skip || !caller.is_root() || !table_wants_record(opts))
		return;
	const pid_t pid = fork();
	if (pid < 0) {
		say("%s: cannot record the mount: %s", printable(target).c_str(), errstr(errno));
		return;
	}
	if (pid == 0) {
		/* All ids 0: nobody but root may signal or ptrace the lock holder. */
		if (setgroups(0, nullptr) < 0 || setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
			_exit(EXIT_FAILURE);
		/* Nor does it need the server's socket or /dev/fuse. */
		(void)close_range(3, ~0U, 0);
		_exit(write_record(source, target, type, opts) < 0 ? EXIT_FAILURE : EXIT_SUCCESS);
	}
	if (!wait_bounded(pid, wait_ms))
		say("%s: the mount table stayed locked; the mount was not recorded",
		    printable(target).c_str());
}

} // namespace fsvc::helper
