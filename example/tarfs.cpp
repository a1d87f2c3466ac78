/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tarfs: a read-only view of a tar archive, written with the C++ API
 * (fuse_service.hpp).
 *
 *     mount -t fuse.tarfs /srv/backup.tar /mnt
 *     ls -l /mnt
 *
 * Files, directories, symbolic links and hard links are served as the
 * archive holds them (ustar, pax and GNU formats; see tar_archive.h). The
 * archive is untrusted input: the server reads it inside the sandbox of its
 * unit, through a descriptor the mount helper opened with the privileges of
 * the user who mounts, and refuses a corrupt archive with one line naming
 * the offset, before anything is mounted.
 *
 * Started by hand it runs as a classic FUSE server, for debugging:
 *
 *     tarfs [-f] [-o options] ARCHIVE MOUNTPOINT
 */
#define FUSE_USE_VERSION 319

#include <fuse_lowlevel.h>
#include <fuse_service.hpp>

#include "tar_archive.h"
extern "C" {
#include "sandbox_probe.h"
}

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <string>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <utility>
#include <vector>

namespace
{

constexpr const char *kProg = "tarfs";
/* The archive never changes under the mount: let the kernel cache. */
constexpr double kTimeout = 3600.0;

struct Filesystem {
	tarfs::Archive archive;
	fsvc::UniqueFD fd;
};

Filesystem &fs_of(fuse_req_t req)
{
	return *static_cast<Filesystem *>(fuse_req_userdata(req));
}

void fill_stat(const tarfs::Node &n, tarfs::Ino ino, struct stat *st)
{
	*st = {};
	st->st_ino = ino;
	st->st_mode = n.mode;
	st->st_nlink = n.nlink;
	st->st_uid = n.uid;
	st->st_gid = n.gid;
	st->st_size = static_cast<off_t>(n.size);
	st->st_blksize = 4096;
	st->st_blocks = static_cast<blkcnt_t>((n.size + 511) / 512);
	st->st_mtim.tv_sec = n.mtime;
	st->st_ctim.tv_sec = n.mtime;
	st->st_atim.tv_sec = n.mtime;
}

void tar_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	const auto &a = fs_of(req).archive;
	const tarfs::Node *dir = a.node(parent);
	if (!dir || !S_ISDIR(dir->mode)) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	tarfs::Ino ino = a.lookup(parent, name);
	if (!ino) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	fuse_entry_param e{};
	e.ino = ino;
	e.attr_timeout = kTimeout;
	e.entry_timeout = kTimeout;
	fill_stat(*a.node(ino), ino, &e.attr);
	fuse_reply_entry(req, &e);
}

void tar_getattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info *)
{
	const tarfs::Node *n = fs_of(req).archive.node(ino);
	if (!n) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	struct stat st;
	fill_stat(*n, ino, &st);
	fuse_reply_attr(req, &st, kTimeout);
}

void tar_readlink(fuse_req_t req, fuse_ino_t ino)
{
	const tarfs::Node *n = fs_of(req).archive.node(ino);
	if (!n || !S_ISLNK(n->mode))
		fuse_reply_err(req, EINVAL);
	else
		fuse_reply_readlink(req, n->target.c_str());
}

void tar_opendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info *fi)
{
	const tarfs::Node *n = fs_of(req).archive.node(ino);
	if (!n)
		fuse_reply_err(req, ENOENT);
	else if (!S_ISDIR(n->mode))
		fuse_reply_err(req, ENOTDIR);
	else
		fuse_reply_open(req, fi);
}

void tar_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info *)
{
	const auto &a = fs_of(req).archive;
	const tarfs::Node *n = a.node(ino);
	if (!n || !S_ISDIR(n->mode)) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	/* off is the index of the next entry: 0 ".", 1 "..", then the entries. */
	std::vector<char> buf(std::min<size_t>(size, 64 * 1024));
	size_t used = 0;
	size_t total = n->entries.size() + 2;
	for (size_t i = off < 0 ? total : static_cast<size_t>(off); i < total; i++) {
		const char *name;
		tarfs::Ino child;
		if (i == 0) {
			name = ".";
			child = ino;
		} else if (i == 1) {
			name = "..";
			child = n->parent;
		} else {
			name = n->entries[i - 2].first.c_str();
			child = n->entries[i - 2].second;
		}
		struct stat st {
		};
		st.st_ino = child;
		st.st_mode = a.node(child)->mode & S_IFMT;
		size_t len = fuse_add_direntry(req, buf.data() + used, buf.size() - used, name, &st,
					       static_cast<off_t>(i + 1));
		if (len > buf.size() - used)
			break;
		used += len;
	}
	fuse_reply_buf(req, buf.data(), used);
}

void tar_open(fuse_req_t req, fuse_ino_t ino, fuse_file_info *fi)
{
	const tarfs::Node *n = fs_of(req).archive.node(ino);
	if (!n)
		fuse_reply_err(req, ENOENT);
	else if (S_ISDIR(n->mode))
		fuse_reply_err(req, EISDIR);
	else if ((fi->flags & O_ACCMODE) != O_RDONLY)
		fuse_reply_err(req, EROFS);
	else {
		fi->keep_cache = 1;
		fuse_reply_open(req, fi);
	}
}

void tar_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info *)
{
	Filesystem &fs = fs_of(req);
	const tarfs::Node *n = fs.archive.node(ino);
	if (!n || !S_ISREG(n->mode)) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	if (off < 0 || static_cast<uint64_t>(off) >= n->size) {
		fuse_reply_buf(req, nullptr, 0);
		return;
	}
	size_t len = static_cast<size_t>(std::min<uint64_t>(size, n->size - off));
	/* Straight from the archive: the data is contiguous after the header. */
	fuse_bufvec bv{}; /* FUSE_BUFVEC_INIT is a C compound literal */
	bv.count = 1;
	bv.buf[0].size = len;
	bv.buf[0].flags = static_cast<fuse_buf_flags>(FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK);
	bv.buf[0].fd = fs.fd.get();
	bv.buf[0].pos = static_cast<off_t>(n->offset) + off;
	fuse_reply_data(req, &bv, FUSE_BUF_SPLICE_MOVE);
}

void tar_statfs(fuse_req_t req, fuse_ino_t)
{
	const auto &a = fs_of(req).archive;
	struct statvfs sv {
	};
	sv.f_bsize = 512;
	sv.f_frsize = 512;
	sv.f_blocks = (a.data_bytes() + 511) / 512;
	sv.f_files = a.inode_count();
	sv.f_namemax = 255;
	sv.f_flag = ST_RDONLY;
	fuse_reply_statfs(req, &sv);
}

const fuse_lowlevel_ops kOps = [] {
	fuse_lowlevel_ops ops{};
	ops.lookup = tar_lookup;
	ops.getattr = tar_getattr;
	ops.readlink = tar_readlink;
	ops.opendir = tar_opendir;
	ops.readdir = tar_readdir;
	ops.open = tar_open;
	ops.read = tar_read;
	ops.statfs = tar_statfs;
	return ops;
}();

/* Our command line: the first non-option argument is the archive. */
struct Cli {
	std::string source;
	int show_help = 0;
	int probe_sandbox = 0; /* -o probe_sandbox: log what the sandbox refuses */
};

const fuse_opt kCliOpts[] = {
    {"-h", offsetof(Cli, show_help), 1},
    {"--help", offsetof(Cli, show_help), 1},
    {"probe_sandbox", offsetof(Cli, probe_sandbox), 1},
    FUSE_OPT_END,
};

int cli_proc(void *data, const char *arg, int key, fuse_args *)
{
	auto *cli = static_cast<Cli *>(data);
	if (key == FUSE_OPT_KEY_NONOPT && cli->source.empty()) {
		cli->source = arg;
		return 0;
	}
	return 1;
}

/* Read the table of contents; one line on stderr when it cannot be. */
std::unique_ptr<Filesystem> load(fsvc::UniqueFD fd, const std::string &source)
{
	struct stat st;
	if (::fstat(fd.get(), &st) < 0) {
		std::fprintf(stderr, "%s: %s: %s\n", kProg, source.c_str(), std::strerror(errno));
		return nullptr;
	}
	if (!S_ISREG(st.st_mode)) {
		std::fprintf(stderr, "%s: %s: not a regular file\n", kProg, source.c_str());
		return nullptr;
	}
	auto archive = tarfs::Archive::read(fd.get(), static_cast<uint64_t>(st.st_size));
	if (!archive) {
		std::fprintf(stderr, "%s: %s: not a valid tar archive: %s\n", kProg, source.c_str(),
			     archive.error_detail().message.c_str());
		return nullptr;
	}
	auto fs =
	    std::make_unique<Filesystem>(Filesystem{std::move(archive).value(), std::move(fd)});
	if (fs->archive.skipped())
		std::fprintf(stderr, "%s: %s: %llu device or special entries not shown\n", kProg,
			     source.c_str(),
			     static_cast<unsigned long long>(fs->archive.skipped()));
	return fs;
}

struct SessionDeleter {
	void operator()(fuse_session *se) const { fuse_session_destroy(se); }
};
using Session = std::unique_ptr<fuse_session, SessionDeleter>;

/* Serve until unmounted. */
int serve(fuse_session *se, const fuse_cmdline_opts &opts)
{
	if (opts.singlethread)
		return fuse_session_loop(se);
	fuse_loop_config *config = fuse_loop_cfg_create();
	if (!config)
		return -ENOMEM;
	fuse_loop_cfg_set_clone_fd(config, static_cast<unsigned int>(opts.clone_fd));
	fuse_loop_cfg_set_max_threads(config, opts.max_threads);
	int ret = fuse_session_loop_mt(se, config);
	fuse_loop_cfg_destroy(config);
	return ret;
}

/*
 * The contained path: every step's failure ends the function, and the
 * service object's destructor then tells the helper (and mount(8)) that we
 * gave up.
 */
int run_service(fsvc::Service service, int argc, char *argv[])
{
	auto args = service.args(argc, argv);
	if (!args) {
		std::fprintf(stderr, "%s: cannot read the mount arguments: %s\n", kProg,
			     std::strerror(-args.error()));
		return 1;
	}
	Cli cli;
	if (fuse_opt_parse(args->get(), &cli, kCliOpts, cli_proc) == -1)
		return 1;
	if (cli.source.empty()) {
		std::fprintf(stderr, "%s: no archive given (mount -t fuse.%s ARCHIVE MOUNTPOINT)\n",
			     kProg, kProg);
		return 1;
	}

	/* The helper opens the archive for us, as the user who mounts. */
	auto fd = service.request_file(cli.source, O_RDONLY);
	if (!fd) {
		if (fd.error_detail().refused())
			std::fprintf(stderr, "%s: cannot open %s: %s\n", kProg, cli.source.c_str(),
				     std::strerror(-fd.error()));
		else
			std::fprintf(stderr, "%s: lost the mount helper: %s\n", kProg,
				     std::strerror(-fd.error()));
		return 1;
	}
	/* No descriptor can be pushed into this process from now on. */
	auto ready = std::move(service).finish_file_requests();
	if (!ready) {
		std::fprintf(stderr, "%s: cannot end file requests: %s\n", kProg,
			     std::strerror(-ready.error()));
		return 1;
	}

	std::unique_ptr<Filesystem> fs = load(std::move(*fd), cli.source);
	if (!fs)
		return 1;
	if (cli.probe_sandbox)
		sandbox_probe(kProg, cli.source.c_str());
	if (!args->add("-oro"))
		return 1;
	auto opts = fsvc::parse_cmdline_opts(*args);
	if (!opts)
		return 1;
	if (opts->mountpoint().empty()) {
		std::fprintf(stderr, "%s: no mountpoint given\n", kProg);
		return 1;
	}

	Session se(fuse_session_new(args->get(), &kOps, sizeof(kOps), fs.get()));
	if (!se || fuse_set_signal_handlers(se.get()) != 0)
		return 1;
	if (auto st = ready->mount(se.get(), *opts); !st) {
		std::fprintf(stderr, "%s: mount refused: %s\n", kProg, std::strerror(-st.error()));
		fuse_remove_signal_handlers(se.get());
		return 1;
	}
	/* Mounted: mount(8) returns now, we serve until unmounted. */
	if (auto bye = std::move(*ready).goodbye(0); !bye)
		std::fprintf(stderr, "%s: goodbye: %s\n", kProg, std::strerror(-bye.error()));
	int ret = serve(se.get(), *opts->get()) != 0;
	fuse_session_unmount(se.get());
	fuse_remove_signal_handlers(se.get());
	return ret;
}

/* Not socket-activated: an ordinary FUSE server that opens and mounts itself. */
int run_classic(int argc, char *argv[])
{
	std::fprintf(stderr,
		     "%s: not started by socket activation: running as a classic FUSE server "
		     "(for debugging; the contained way is mount -t fuse.%s)\n",
		     kProg, kProg);
	fsvc::Args args(argc, argv);
	Cli cli;
	if (fuse_opt_parse(args.get(), &cli, kCliOpts, cli_proc) == -1)
		return 1;
	if (cli.show_help) {
		std::printf("usage: %s [options] ARCHIVE MOUNTPOINT\n\n", kProg);
		std::printf(
		    "%s options:\n"
		    "    -o probe_sandbox       log whether the sandbox lets the server open\n"
		    "                           /dev/fuse, the archive or a network socket\n\n",
		    kProg);
		fuse_cmdline_help();
		fuse_lowlevel_help();
		return 0;
	}
	fsvc::CmdlineOpts opts;
	if (fuse_parse_cmdline(args.get(), opts.get()) != 0)
		return 1;
	if (cli.source.empty() || opts.mountpoint().empty()) {
		std::fprintf(stderr, "usage: %s [options] ARCHIVE MOUNTPOINT\n", kProg);
		return 1;
	}
	fsvc::UniqueFD fd(::open(cli.source.c_str(), O_RDONLY | O_CLOEXEC));
	if (!fd.isValid()) {
		std::fprintf(stderr, "%s: cannot open %s: %s\n", kProg, cli.source.c_str(),
			     std::strerror(errno));
		return 1;
	}
	std::unique_ptr<Filesystem> fs = load(std::move(fd), cli.source);
	if (!fs || !args.add("-oro"))
		return 1;
	Session se(fuse_session_new(args.get(), &kOps, sizeof(kOps), fs.get()));
	if (!se || fuse_set_signal_handlers(se.get()) != 0)
		return 1;
	int ret = 1;
	if (fuse_session_mount(se.get(), opts->mountpoint) == 0) {
		fuse_daemonize(opts->foreground);
		ret = serve(se.get(), *opts.get()) != 0;
		fuse_session_unmount(se.get());
	}
	fuse_remove_signal_handlers(se.get());
	return ret;
}

} // namespace

int main(int argc, char *argv[])
{
	fsvc::Accepted accepted = fsvc::accept();
	switch (accepted.outcome()) {
	case fsvc::Accepted::Outcome::not_activated:
		return run_classic(argc, argv);
	case fsvc::Accepted::Outcome::error:
		std::fprintf(stderr, "%s: cannot talk to the mount helper: %s\n", kProg,
			     std::strerror(-accepted.error()));
		return fsvc::exit_status(1);
	case fsvc::Accepted::Outcome::service:
		break;
	}
	return fsvc::exit_status(run_service(std::move(accepted).service(), argc, argv));
}
