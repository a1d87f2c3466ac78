/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuse_service_main(): fuse_main() for high-level filesystems run as a
 * service. The mount goes through the helper instead of fusermount3, and the
 * goodbye is sent as soon as the mount exists so mount(8) can return.
 */
#include <fuse.h>
#include <fuse_service.h>

#include <cstdio>

#include "lib/service_context.h"

extern "C" FUSE_SERVICE_EXPORT int fuse_service_main_real(struct fuse_service *sf,
							  struct fuse_args *args,
							  const struct fuse_operations *op,
							  size_t op_size, void *user_data) noexcept
{
	/* Exit codes follow fuse_main(). */
	if (!sf || !args || !op)
		return 1;

	fuse_cmdline_opts opts;
	if (fuse_service_parse_cmdline_opts(args, &opts) != 0)
		return 1;

	int ret = 0;
	struct fuse *fuse = nullptr;
	struct fuse_session *se = nullptr;
	if (opts.show_version) {
		std::printf("FUSE library version %s\n", fuse_pkgversion());
		fuse_lowlevel_version();
		goto out_opts;
	}
	if (opts.show_help) {
		std::printf("usage: %s [options] <mountpoint>\n\n",
			    args->argc > 0 ? args->argv[0] : "service");
		fuse_cmdline_help();
		fuse_lib_help(args);
		goto out_opts;
	}
	if (!opts.mountpoint) {
		fsvc::log_error("no mountpoint specified");
		ret = 2;
		goto out_opts;
	}

	fuse = fuse_new(args, op, op_size, user_data);
	if (!fuse) {
		ret = 3;
		goto out_opts;
	}
	se = fuse_get_session(fuse);

	if (fuse_service_session_mount(sf, se, 0, &opts) != 0) {
		ret = 4;
		goto out_fuse;
	}
	/* The mount exists: let the helper (and mount(8)) return. */
	fuse_service_send_goodbye(sf, 0);

	if (fuse_set_signal_handlers(se) != 0) {
		ret = 6;
		goto out_unmount;
	}

	if (opts.singlethread) {
		ret = fuse_loop(fuse);
	} else {
		struct fuse_loop_config *config = fuse_loop_cfg_create();
		if (!config) {
			ret = 7;
			goto out_signals;
		}
		fuse_loop_cfg_set_clone_fd(config, static_cast<unsigned int>(opts.clone_fd));
		fuse_loop_cfg_set_idle_threads(config, opts.max_idle_threads);
		fuse_loop_cfg_set_max_threads(config, opts.max_threads);
		ret = fuse_loop_mt(fuse, config);
		fuse_loop_cfg_destroy(config);
	}
	if (ret)
		ret = 7;

out_signals:
	fuse_remove_signal_handlers(se);
out_unmount:
	fuse_unmount(fuse);
out_fuse:
	fuse_destroy(fuse);
out_opts:
	free(opts.mountpoint);
	return ret;
}
