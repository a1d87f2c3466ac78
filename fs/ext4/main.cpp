/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ext4-service: a contained ext2/ext3/ext4 FUSE server (read-write, or read-only).
 *
 *     mount -t fuse.ext4 [-o ro,allow_other,norecovery] IMAGE_OR_DEVICE MOUNTPOINT
 *
 * Socket-activated (one instance per mount) it never opens the image,
 * /dev/fuse or the mountpoint: fuservicemount3 opens them as the user who
 * mounts. Written on the C++ API (fuse_service.hpp). Started by hand it is a
 * classic FUSE server, for debugging:
 *
 *     ext4-service IMAGE MOUNTPOINT [-f] [-o options]
 */
#include <fuse_lowlevel.h>
#include <fuse_service.hpp>

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "fs/ext4/fuse_ops.h"

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
	int no_readdirplus = 0;
	int use_open = 0;
	int show_help = 0;
	bool ro = false;  /* the last of ro/rw on the command line */
	bool dev = false; /* the last of dev/nodev */
};

enum { kKeyRo = 100, kKeyRw, kKeyDev, kKeyNodev };

#define EXT4_OPT(t, p, v)                                                                          \
	{                                                                                          \
		t, offsetof(Config, p), v                                                          \
	}
const fuse_opt kOpts[] = {
    EXT4_OPT("norecovery", norecovery, 1),
    EXT4_OPT("noload", norecovery, 1),
    EXT4_OPT("watchdog=%u", watchdog, 0),
    EXT4_OPT("blocksize=%u", blocksize, 0),
    EXT4_OPT("no_readdirplus", no_readdirplus, 1),
    EXT4_OPT("use_open", use_open, 1),
    EXT4_OPT("-h", show_help, 1),
    EXT4_OPT("--help", show_help, 1),
    FUSE_OPT_KEY("-h", FUSE_OPT_KEY_KEEP),
    FUSE_OPT_KEY("--help", FUSE_OPT_KEY_KEEP),
    /* Seen and kept: the mount gets them too. */
    FUSE_OPT_KEY("ro", kKeyRo),
    FUSE_OPT_KEY("rw", kKeyRw),
    FUSE_OPT_KEY("dev", kKeyDev),
    FUSE_OPT_KEY("nodev", kKeyNodev),
    FUSE_OPT_END,
};

int optProc(void *data, const char *arg, int key, fuse_args *)
{
	auto *cfg = static_cast<Config *>(data);
	if (key == FUSE_OPT_KEY_NONOPT && !cfg->source) {
		cfg->source = strdup(arg);
		return cfg->source ? 0 : -1;
	}
	if (key == kKeyRo || key == kKeyRw)
		cfg->ro = key == kKeyRo;
	if (key == kKeyDev || key == kKeyNodev)
		cfg->dev = key == kKeyDev;
	return 1;
}

void usage()
{
	std::printf("usage: %s IMAGE_OR_DEVICE MOUNTPOINT [options]\n\n"
		    "%s options:\n"
		    "    -o norecovery          do not replay a dirty journal (also noload)\n"
		    "    -o watchdog=SECONDS    end the server when a request runs longer\n"
		    "                           (default 60; 0 disables)\n"
		    "    -o blocksize=N         block size to set on a block device source\n"
		    "    -o no_readdirplus      plain readdir only (for tests and debugging)\n"
		    "    -o use_open            have the kernel send open/release (for tests)\n\n",
		    kProg, kProg);
	fuse_cmdline_help();
	fuse_lowlevel_help();
}

/* "-ofsname=SOURCE": the mount's source as mount(8) shows it (commas and
 * backslashes escaped for libfuse's option parser). */
std::string fsnameOption(const char *source)
{
	std::string o = "-ofsname=";
	for (const char *p = source; *p; p++) {
		if (*p == ',' || *p == '\\')
			o += '\\';
		o += *p;
	}
	return o;
}

/* The kernel checks the on-disk modes; a mount we do not write is "ro". */
const char *fixedOptions(const Server &srv)
{
	return srv.fs->writable() ? "-odefault_permissions" : "-oro,default_permissions";
}

/* One writer per image: a second read-write server on the same file
 * would corrupt it (O_EXCL only guards block devices). */
bool lockForWriting(int fd)
{
	for (int i = 0; i < 10; i++) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return true;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return false;
		usleep(100000);
	}
	return false;
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
	o.write = !cfg.ro;
	if (o.write && !lockForWriting(fd.get())) {
		std::fprintf(stderr,
			     "%s: %s is in use by another read-write mount; mounting read-only\n",
			     kProg, cfg.source);
		o.write = false;
	}
	auto fs = Filesystem::open(std::move(fd), o);
	if (!fs)
		return false;
	srv.fs = std::move(*fs);
	srv.watchdog = std::make_unique<Watchdog>(cfg.watchdog);
	srv.readdirplus = cfg.no_readdirplus == 0;
	srv.no_open = cfg.use_open == 0;
	srv.allow_dev = cfg.dev;
	return true;
}

/*
 * Ask the helper for the source: a block device (opened exclusively), or
 * else a regular file. We cannot look at the image before every request is
 * done, so the device's block size is the -o blocksize= value (0 leaves it).
 */
fsvc::FileResult requestOnce(const fsvc::Service &service, const Config &cfg, int flags)
{
	fsvc::FileResult fd = service.request_blockdev(cfg.source, flags | O_EXCL, cfg.blocksize, 0,
						       fsvc::request_quiet);
	if (!fd && fd.error_detail().refused() && fd.error() == -ENOTBLK)
		fd = service.request_file(cfg.source, flags, 0, fsvc::request_quiet);
	return fd;
}

/*
 * Read-write unless -o ro: O_RDWR, falling back to read-only (one line) when
 * the caller may not write the source; a device busy elsewhere (EBUSY from
 * O_EXCL) is retried for a few seconds.
 */
fsvc::FileResult requestSource(const fsvc::Service &service, Config &cfg)
{
	fsvc::FileResult fd = fsvc::FileError{-EINVAL, fsvc::FileError::Kind::invalid};
	for (int attempt = 0;; attempt++) {
		fd = requestOnce(service, cfg, cfg.ro ? O_RDONLY : O_RDWR);
		if (fd || !fd.error_detail().refused() || fd.error() != -EBUSY || attempt >= 9)
			break;
		usleep(300000);
	}
	if (!fd && !cfg.ro && fd.error_detail().refused() &&
	    (fd.error() == -EACCES || fd.error() == -EPERM || fd.error() == -EROFS)) {
		std::fprintf(stderr, "%s: %s: %s; mounting read-only\n", kProg, cfg.source,
			     std::strerror(-fd.error()));
		cfg.ro = true;
		fd = requestOnce(service, cfg, O_RDONLY);
	}
	if (!fd) {
		if (fd.error_detail().refused())
			std::fprintf(stderr, "%s: cannot open %s: %s\n", kProg, cfg.source,
				     std::strerror(-fd.error()));
		return fd;
	}
	struct stat st {
	};
	if (fstat(fd->get(), &st) < 0 || !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))) {
		std::fprintf(stderr, "%s: %s is not a regular file or block device\n", kProg,
			     cfg.source);
		return fsvc::FileError{-EINVAL, fsvc::FileError::Kind::invalid};
	}
	/* A read-only block device opens for writing; its writes fail. */
	int ro = 0;
	if (!cfg.ro && S_ISBLK(st.st_mode) && ioctl(fd->get(), BLKROGET, &ro) == 0 && ro) {
		std::fprintf(stderr, "%s: %s: %s; mounting read-only\n", kProg, cfg.source,
			     std::strerror(EROFS));
		cfg.ro = true;
	}
	return fd;
}

using SessionPtr = std::unique_ptr<fuse_session, decltype(&fuse_session_destroy)>;

/*
 * The contained path, on the C++ API: the types make us finish the file
 * requests before mounting; a failure anywhere before the goodbye makes the
 * service objects say goodbye with an error, so mount(8) fails at once.
 */
int runService(fsvc::Service service, int argc, char *argv[], Config &cfg, Server &srv)
{
	auto args = service.args(argc, argv);
	if (!args || fuse_opt_parse(args->get(), &cfg, kOpts, optProc) == -1)
		return 1;
	if (!cfg.source) {
		std::fprintf(stderr, "%s: no source given (mount -t fuse.ext4 IMAGE MOUNTPOINT)\n",
			     kProg);
		return 1;
	}
	auto fd = requestSource(service, cfg);
	if (!fd)
		return 1;
	/* No descriptor can be pushed into this process from now on; only
	 * then do we parse anything on the image. */
	auto ready = std::move(service).finish_file_requests();
	if (!ready || !openServer(srv, std::move(*fd), cfg))
		return 1;
	if (!args->add(fixedOptions(srv)) || !args->add(fsnameOption(cfg.source)))
		return 1;
	auto opts = fsvc::parse_cmdline_opts(*args);
	if (!opts)
		return 1;
	if (opts->mountpoint().empty()) {
		std::fprintf(stderr, "%s: no mountpoint given\n", kProg);
		return 1;
	}
	SessionPtr se(fuse_session_new(args->get(), &fsvc::ext4::fuseOps(srv.fs->writable()),
				       sizeof(fuse_lowlevel_ops), &srv),
		      fuse_session_destroy);
	if (!se || fuse_set_signal_handlers(se.get()) != 0)
		return 1;
	int ret = 1;
	if (ready->mount(se.get(), *opts)) {
		/* Mounted: mount(8) returns now, we serve until unmounted. */
		(void)std::move(*ready).goodbye(0);
		ret = serve(se.get(), *opts->get()) != 0;
		fuse_session_unmount(se.get());
	}
	fuse_remove_signal_handlers(se.get());
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
	if (cfg.source) {
		fsname = fsnameOption(cfg.source) + ",subtype=ext4";
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
		UniqueFD fd(::open(cfg.source, (cfg.ro ? O_RDONLY : O_RDWR) | O_EXCL | O_CLOEXEC));
		if (!fd.isValid() && !cfg.ro &&
		    (errno == EACCES || errno == EPERM || errno == EROFS)) {
			std::fprintf(stderr, "%s: %s: %s; mounting read-only\n", kProg, cfg.source,
				     std::strerror(errno));
			cfg.ro = true;
			fd = UniqueFD(::open(cfg.source, O_RDONLY | O_EXCL | O_CLOEXEC));
		}
		if (!fd.isValid()) {
			std::fprintf(stderr, "%s: cannot open %s: %s\n", kProg, cfg.source,
				     std::strerror(errno));
			goto out;
		}
		if (!openServer(srv, std::move(fd), cfg))
			goto out;
	}
	if (fuse_opt_add_arg(args, fixedOptions(srv)) < 0)
		goto out;
	se = fuse_session_new(args, &fsvc::ext4::fuseOps(srv.fs->writable()),
			      sizeof(fuse_lowlevel_ops), &srv);
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
	Config cfg;
	Server srv;
	int ret = 1;

	/* Socket-activated? Then fd 3 is the helper: hello, argv and /dev/fuse. */
	fsvc::Accepted accepted = fsvc::accept();
	switch (accepted.outcome()) {
	case fsvc::Accepted::Outcome::error:
		std::fprintf(stderr, "%s: cannot talk to the mount helper\n", kProg);
		break;
	case fsvc::Accepted::Outcome::service:
		ret = runService(std::move(accepted).service(), argc, argv, cfg, srv);
		break;
	case fsvc::Accepted::Outcome::not_activated: {
		fsvc::Args args(argc, argv);
		ret = runClassic(args.get(), cfg, srv);
		break;
	}
	}
	free(cfg.source);
	/* The session is gone: no request can be running. */
	srv.watchdog.reset();
	srv.fs.reset();
	return fsvc::exit_status(ret);
}
