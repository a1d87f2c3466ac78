/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ext4-service: a contained, read-only ext2/ext3/ext4 FUSE server.
 *
 *     mount -t fuse.ext4 [-o allow_other,norecovery] IMAGE_OR_DEVICE MOUNTPOINT
 *
 * Socket-activated (one instance per mount) it never opens the image,
 * /dev/fuse or the mountpoint: fuservicemount3 opens them as the user who
 * mounts. Started by hand it is a classic FUSE server, for debugging:
 *
 *     ext4-service IMAGE MOUNTPOINT [-f] [-o options]
 */
#include <fuse_lowlevel.h>
#include <fuse_service.h>

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "fuse_ops.h"

namespace
{

using fsvc::UniqueFD;
using fsvc::ext4::Filesystem;
using fsvc::ext4::Server;
using fsvc::ext4::Watchdog;

constexpr const char *kProg = "ext4-service";

/* Our own options; everything else goes to libfuse and the helper. */
struct Config {
	char *source = nullptr;
	int norecovery = 0;
	unsigned watchdog = 60;
	unsigned blocksize = 0;
	int show_help = 0;
};

#define EXT4_OPT(t, p, v)                                                                          \
	{                                                                                          \
		t, offsetof(Config, p), v                                                          \
	}
const fuse_opt kOpts[] = {
    EXT4_OPT("norecovery", norecovery, 1),
    EXT4_OPT("noload", norecovery, 1),
    EXT4_OPT("watchdog=%u", watchdog, 0),
    EXT4_OPT("blocksize=%u", blocksize, 0),
    EXT4_OPT("-h", show_help, 1),
    EXT4_OPT("--help", show_help, 1),
    FUSE_OPT_KEY("-h", FUSE_OPT_KEY_KEEP),
    FUSE_OPT_KEY("--help", FUSE_OPT_KEY_KEEP),
    /* Read-only in this version, whatever was asked. */
    FUSE_OPT_KEY("rw", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_END,
};

int optProc(void *data, const char *arg, int key, fuse_args *)
{
	auto *cfg = static_cast<Config *>(data);
	if (key == FUSE_OPT_KEY_NONOPT && !cfg->source) {
		cfg->source = strdup(arg);
		return cfg->source ? 0 : -1;
	}
	return 1;
}

void usage()
{
	std::printf("usage: %s IMAGE_OR_DEVICE MOUNTPOINT [options]\n\n"
		    "%s options:\n"
		    "    -o norecovery          do not replay a dirty journal (also noload)\n"
		    "    -o watchdog=SECONDS    end the server when a request runs longer\n"
		    "                           (default 60; 0 disables)\n"
		    "    -o blocksize=N         block size to set on a block device source\n\n",
		    kProg, kProg);
	fuse_cmdline_help();
	fuse_lowlevel_help();
}

/* Mounts are always read-only and the kernel checks the on-disk modes. */
int addFixedOptions(fuse_args *args)
{
	return fuse_opt_add_arg(args, "-oro,default_permissions");
}

int serve(fuse_session *se, const fuse_cmdline_opts &opts)
{
	if (opts.singlethread)
		return fuse_session_loop(se);
	fuse_loop_config *config = fuse_loop_cfg_create();
	if (!config)
		return -ENOMEM;
	fuse_loop_cfg_set_clone_fd(config, unsigned(opts.clone_fd));
	fuse_loop_cfg_set_max_threads(config, opts.max_threads);
	int ret = fuse_session_loop_mt(se, config);
	fuse_loop_cfg_destroy(config);
	return ret;
}

/* Open the engine on @p fd; the one place an image is opened. */
bool openServer(Server &srv, UniqueFD fd, const Config &cfg)
{
	fsvc::ext4::OpenOptions o;
	o.norecovery = cfg.norecovery != 0;
	auto fs = Filesystem::open(std::move(fd), o);
	if (!fs)
		return false;
	srv.fs = std::move(*fs);
	srv.watchdog = std::make_unique<Watchdog>(cfg.watchdog);
	return true;
}

/*
 * Ask the helper for the source: a block device (opened exclusively), or
 * else a regular file. We cannot look at the image before every request is
 * done, so the device's block size is the -o blocksize= value (0 leaves it).
 */
int requestSource(fuse_service *sf, const Config &cfg, UniqueFD &out)
{
	int fd = -1;
	int ret = fuse_service_request_blockdev(sf, cfg.source, O_RDONLY | O_EXCL, 0,
						FUSE_SERVICE_REQUEST_FILE_QUIET, cfg.blocksize);
	if (ret == 0)
		ret = fuse_service_receive_file(sf, cfg.source, &fd);
	if (ret < 0)
		return ret;
	if (fd == -ENOTBLK) {
		ret = fuse_service_request_file(sf, cfg.source, O_RDONLY, 0, 0);
		if (ret == 0)
			ret = fuse_service_receive_file(sf, cfg.source, &fd);
		if (ret < 0)
			return ret;
	}
	if (fd < 0) {
		std::fprintf(stderr, "%s: cannot open %s: %s\n", kProg, cfg.source,
			     std::strerror(-fd));
		return fd;
	}
	out.reset(fd);
	struct stat st {
	};
	if (fstat(fd, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))) {
		std::fprintf(stderr, "%s: %s is not a regular file or block device\n", kProg,
			     cfg.source);
		return -EINVAL;
	}
	return 0;
}

int runService(fuse_service *sf, fuse_args *args, Config &cfg, Server &srv)
{
	fuse_cmdline_opts opts{};
	fuse_session *se = nullptr;
	int ret = 1;
	UniqueFD fd;

	if (fuse_service_append_args(sf, args) < 0)
		goto out;
	if (fuse_opt_parse(args, &cfg, kOpts, optProc) == -1)
		goto out;
	if (!cfg.source) {
		std::fprintf(stderr, "%s: no source given (mount -t fuse.ext4 IMAGE MOUNTPOINT)\n",
			     kProg);
		goto out;
	}
	if (requestSource(sf, cfg, fd) < 0)
		goto out;
	/* No descriptor can be pushed into this process from now on; only
	 * then do we parse anything on the image. */
	if (fuse_service_finish_file_requests(sf) < 0)
		goto out;
	if (!openServer(srv, std::move(fd), cfg))
		goto out;
	if (addFixedOptions(args) < 0 || fuse_service_parse_cmdline_opts(args, &opts) != 0)
		goto out;
	if (!opts.mountpoint) {
		std::fprintf(stderr, "%s: no mountpoint given\n", kProg);
		goto out;
	}
	se = fuse_session_new(args, &fsvc::ext4::fuseOps(), sizeof(fuse_lowlevel_ops), &srv);
	if (!se)
		goto out;
	if (fuse_set_signal_handlers(se) != 0)
		goto out;
	if (fuse_service_session_mount(sf, se, S_IFDIR, &opts) < 0)
		goto out_signals;
	fuse_service_send_goodbye(sf, 0);
	fuse_service_release(sf);
	ret = serve(se, opts) != 0;
	fuse_session_unmount(se);
out_signals:
	fuse_remove_signal_handlers(se);
out:
	fuse_service_send_goodbye(sf, ret);
	if (se)
		fuse_session_destroy(se);
	free(opts.mountpoint);
	return ret;
}

int runClassic(fuse_args *args, Config &cfg, Server &srv)
{
	fuse_cmdline_opts opts{};
	fuse_session *se = nullptr;
	int ret = 1;
	std::string fsname;

	if (fuse_opt_parse(args, &cfg, kOpts, optProc) == -1)
		return 1;
	if (cfg.show_help) {
		usage();
		return 0;
	}
	if (addFixedOptions(args) < 0)
		return 1;
	if (cfg.source) {
		fsname = std::string("-ofsname=") + cfg.source + ",subtype=ext4";
		if (fuse_opt_add_arg(args, fsname.c_str()) < 0)
			return 1;
	}
	if (fuse_parse_cmdline(args, &opts) != 0)
		return 1;
	if (!cfg.source || !opts.mountpoint) {
		std::fprintf(stderr, "usage: %s IMAGE_OR_DEVICE MOUNTPOINT [options]\n", kProg);
		goto out;
	}
	{
		UniqueFD fd(::open(cfg.source, O_RDONLY | O_EXCL | O_CLOEXEC));
		if (!fd.isValid()) {
			std::fprintf(stderr, "%s: cannot open %s: %s\n", kProg, cfg.source,
				     std::strerror(errno));
			goto out;
		}
		if (!openServer(srv, std::move(fd), cfg))
			goto out;
	}
	se = fuse_session_new(args, &fsvc::ext4::fuseOps(), sizeof(fuse_lowlevel_ops), &srv);
	if (!se)
		goto out;
	if (fuse_set_signal_handlers(se) != 0)
		goto out;
	if (fuse_session_mount(se, opts.mountpoint) != 0)
		goto out_signals;
	fuse_daemonize(opts.foreground);
	ret = serve(se, opts) != 0;
	fuse_session_unmount(se);
out_signals:
	fuse_remove_signal_handlers(se);
out:
	if (se)
		fuse_session_destroy(se);
	free(opts.mountpoint);
	return ret;
}

} // namespace

int main(int argc, char *argv[])
{
	fuse_args args = FUSE_ARGS_INIT(argc, argv);
	fuse_service *sf = nullptr;
	Config cfg;
	Server srv;
	int ret;

	if (fuse_service_accept(&sf) < 0) {
		std::fprintf(stderr, "%s: cannot talk to the mount helper\n", kProg);
		return fuse_service_exit(1);
	}
	if (fuse_service_accepted(sf))
		ret = runService(sf, &args, cfg, srv);
	else
		ret = runClassic(&args, cfg, srv);

	free(cfg.source);
	fuse_opt_free_args(&args);
	fuse_service_destroy(&sf);
	/* The session is gone: no request can be running. */
	srv.watchdog.reset();
	srv.fs.reset();
	return fuse_service_exit(ret);
}
