/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mtab.h"

#include <cerrno>
#include <libmount.h>
#include <memory>
#include <pwd.h>
#include <vector>

#include "messages.h"

namespace fsvc::helper
{

namespace
{

struct FsDeleter {
	void operator()(libmnt_fs *fs) const { mnt_unref_fs(fs); }
};
struct UpdateDeleter {
	void operator()(libmnt_update *u) const { mnt_free_update(u); }
};

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
	return 0;
}

void record_mount(const std::string &source, const std::string &target, const std::string &type,
		  const MtabOptions &opts)
{
	if (opts.skip)
		return;
	std::unique_ptr<libmnt_fs, FsDeleter> fs(mnt_new_fs());
	std::unique_ptr<libmnt_update, UpdateDeleter> upd(mnt_new_update());
	if (!fs || !upd) {
		say("mtab: out of memory");
		return;
	}
	if (mnt_fs_set_source(fs.get(), source.c_str()) ||
	    mnt_fs_set_target(fs.get(), target.c_str()) ||
	    mnt_fs_set_fstype(fs.get(), type.c_str()) ||
	    mnt_fs_set_options(fs.get(), opts.options.empty() ? nullptr : opts.options.c_str())) {
		say("mtab: out of memory");
		return;
	}
	/* 1 means the system keeps no table that wants this entry (e.g. no user options). */
	int r = mnt_update_set_fs(upd.get(), 0, nullptr, fs.get());
	if (r == 1)
		return;
	if (r == 0)
		r = mnt_update_table(upd.get(), nullptr);
	if (r < 0)
		say("%s: failed to record the mount in the mount table: %s",
		    printable(target).c_str(), errstr(r));
}

} // namespace fsvc::helper
