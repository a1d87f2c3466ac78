/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "lib/cmdline.h"

#include <climits>
#include <cstddef>
#include <cstdlib>
#include <cstring>

#include <fuse_lowlevel.h>

#include "lib/mount_options.h"
#include "lib/service_context.h"

namespace fsvc
{

namespace
{

#define HELPER_OPT(t, field)                                                                       \
	{                                                                                          \
		t, offsetof(struct fuse_cmdline_opts, field), 1                                    \
	}

/* The same generic options as libfuse's fuse_parse_cmdline(). */
const fuse_opt kHelperOpts[] = {
    HELPER_OPT("-h", show_help),
    HELPER_OPT("--help", show_help),
    HELPER_OPT("-V", show_version),
    HELPER_OPT("--version", show_version),
    HELPER_OPT("-d", debug),
    HELPER_OPT("debug", debug),
    HELPER_OPT("-d", foreground),
    HELPER_OPT("debug", foreground),
    FUSE_OPT_KEY("-d", FUSE_OPT_KEY_KEEP),
    FUSE_OPT_KEY("debug", FUSE_OPT_KEY_KEEP),
    HELPER_OPT("-f", foreground),
    HELPER_OPT("-s", singlethread),
    HELPER_OPT("fsname=", nodefault_subtype),
    FUSE_OPT_KEY("fsname=", FUSE_OPT_KEY_KEEP),
    HELPER_OPT("subtype=", nodefault_subtype),
    FUSE_OPT_KEY("subtype=", FUSE_OPT_KEY_KEEP),
    HELPER_OPT("clone_fd", clone_fd),
    HELPER_OPT("max_idle_threads=%u", max_idle_threads),
    HELPER_OPT("max_threads=%u", max_threads),
    FUSE_OPT_END,
};

int helper_proc(void *data, const char *arg, int key, fuse_args *)
{
	auto &opts = *static_cast<fuse_cmdline_opts *>(data);
	if (key == FUSE_OPT_KEY_NONOPT) {
		if (opts.mountpoint) {
			log_error("invalid argument '%s'", arg);
			return -1;
		}
		/* Kept verbatim: the helper checks it against its own argv. */
		return fuse_opt_add_opt(&opts.mountpoint, arg);
	}
	return 1;
}

/* Drop options the system libfuse would refuse; the mount request has them. */
int strip_proc(void *, const char *arg, int key, fuse_args *)
{
	if (key == FUSE_OPT_KEY_OPT && is_service_only_option(arg))
		return 0;
	return 1;
}

/* Nothing half-parsed survives a failure: the caller cannot know to free it. */
int fail(fuse_cmdline_opts &opts)
{
	std::free(opts.mountpoint);
	opts.mountpoint = nullptr;
	return -1;
}

} // namespace

int parse_service_cmdline(fuse_args &args, fuse_cmdline_opts &opts)
{
	std::memset(&opts, 0, sizeof(opts));
	opts.max_idle_threads = UINT_MAX;
	opts.max_threads = 10;

	if (fuse_opt_parse(&args, &opts, kHelperOpts, helper_proc) == -1)
		return fail(opts);

	if (!opts.nodefault_subtype && args.argc > 0 && args.argv[0]) {
		const char *prog = args.argv[0];
		const char *slash = std::strrchr(prog, '/');
		std::string opt = std::string("-osubtype=") + (slash ? slash + 1 : prog);
		if (fuse_opt_insert_arg(&args, 1, opt.c_str()) == -1)
			return fail(opts);
	}

	record_args_for(args);

	if (fuse_opt_parse(&args, nullptr, nullptr, strip_proc) == -1)
		return fail(opts);
	return 0;
}

std::string service_cmdline(const char *argv0, const fuse_args &args)
{
	std::string s = std::string(argv0) + " -t";
	for (int i = 0; i < args.argc; i++) {
		s += ' ';
		s += args.argv[i] ? args.argv[i] : "";
	}
	return s;
}

} // namespace fsvc
