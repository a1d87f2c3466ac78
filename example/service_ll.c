/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * service_ll: a contained FUSE server written with the low-level API.
 *
 * It serves a single file, "image", whose bytes are those of the file or
 * block device named as the mount source:
 *
 *     mount -t fuse.service_ll [-o ro,blocksize=4096] /srv/disk.img /mnt
 *     cat /mnt/image
 *
 * Started by systemd from service_ll.socket (one instance per mount), it
 * never opens /srv/disk.img, /dev/fuse or the mountpoint, and never calls
 * mount(2): the setuid helper fuservicemount3 does all of that with the
 * privileges of the user who ran mount(8) and passes the descriptors over
 * the socket. The unit can therefore take everything else away (see
 * service_ll@.service).
 *
 * Started by hand it runs as an ordinary FUSE server, for debugging:
 *
 *     service_ll [-f] [-o options] /srv/disk.img /mnt
 */
#define FUSE_USE_VERSION 319

#include <fuse_lowlevel.h>
#include <fuse_service.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "backing_file.h"
#include "sandbox_probe.h"

#define PROG "service_ll"
#define IMAGE_INO 2

static struct backing_file bf = BACKING_FILE_INIT;

static void reply_attr(fuse_req_t req, fuse_ino_t ino)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct stat st;

	if (ino == FUSE_ROOT_ID) {
		memset(&st, 0, sizeof(st));
		st.st_mode = S_IFDIR | 0755;
		st.st_nlink = 2;
		st.st_uid = ctx->uid;
		st.st_gid = ctx->gid;
	} else if (ino == IMAGE_INO) {
		backing_file_stat(&bf, &st, ctx->uid, ctx->gid);
	} else {
		fuse_reply_err(req, ENOENT);
		return;
	}
	st.st_ino = ino;
	fuse_reply_attr(req, &st, 1.0);
}

static void sll_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct fuse_entry_param e;

	if (parent != FUSE_ROOT_ID || strcmp(name, BACKING_FILE_NAME) != 0) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	memset(&e, 0, sizeof(e));
	e.ino = IMAGE_INO;
	e.attr_timeout = 1.0;
	e.entry_timeout = 1.0;
	backing_file_stat(&bf, &e.attr, ctx->uid, ctx->gid);
	e.attr.st_ino = IMAGE_INO;
	fuse_reply_entry(req, &e);
}

static void sll_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)fi;
	reply_attr(req, ino);
}

static void sll_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
			struct fuse_file_info *fi)
{
	(void)fi;
	/* The size is that of the source; only "truncate to the same size" is fine. */
	if (ino != IMAGE_INO || (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) ||
	    ((to_set & FUSE_SET_ATTR_SIZE) && attr->st_size != bf.size)) {
		fuse_reply_err(req, EPERM);
		return;
	}
	reply_attr(req, ino);
}

static void sll_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			struct fuse_file_info *fi)
{
	static const struct {
		const char *name;
		fuse_ino_t ino;
		mode_t type;
	} entries[] = {
	    {".", FUSE_ROOT_ID, S_IFDIR},
	    {"..", FUSE_ROOT_ID, S_IFDIR},
	    {BACKING_FILE_NAME, IMAGE_INO, S_IFREG},
	};
	char buf[512];
	size_t used = 0;
	(void)fi;

	if (ino != FUSE_ROOT_ID) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	if (size > sizeof(buf))
		size = sizeof(buf);
	/* off is the index of the next entry to return. */
	for (size_t i = (size_t)off; i < sizeof(entries) / sizeof(entries[0]); i++) {
		struct stat st = {.st_ino = entries[i].ino, .st_mode = entries[i].type};
		size_t len = fuse_add_direntry(req, buf + used, size - used, entries[i].name, &st,
					       (off_t)(i + 1));
		if (len > size - used)
			break;
		used += len;
	}
	fuse_reply_buf(req, buf, used);
}

static void sll_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if (ino != IMAGE_INO)
		fuse_reply_err(req, EISDIR);
	else if (bf.read_only && (fi->flags & O_ACCMODE) != O_RDONLY)
		fuse_reply_err(req, EROFS);
	else
		fuse_reply_open(req, fi);
}

static void sll_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	char *buf;
	ssize_t n;
	(void)fi;

	if (ino != IMAGE_INO) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	buf = malloc(size ? size : 1);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	n = backing_file_read(&bf, buf, size, off);
	if (n < 0)
		fuse_reply_err(req, (int)-n);
	else
		fuse_reply_buf(req, buf, (size_t)n);
	free(buf);
}

static void sll_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
		      struct fuse_file_info *fi)
{
	ssize_t n;
	(void)fi;

	if (ino != IMAGE_INO) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	n = backing_file_write(&bf, buf, size, off);
	if (n < 0)
		fuse_reply_err(req, (int)-n);
	else
		fuse_reply_write(req, (size_t)n);
}

static void sll_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	fuse_reply_err(req, (datasync ? fdatasync(bf.fd) : fsync(bf.fd)) < 0 ? errno : 0);
}

static void sll_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs sv;
	(void)ino;

	memset(&sv, 0, sizeof(sv));
	sv.f_bsize = bf.block_size;
	sv.f_frsize = bf.block_size;
	sv.f_blocks = (fsblkcnt_t)((bf.size + bf.block_size - 1) / bf.block_size);
	sv.f_files = 1;
	sv.f_namemax = 255;
	if (bf.read_only)
		sv.f_flag |= ST_RDONLY;
	fuse_reply_statfs(req, &sv);
}

static const struct fuse_lowlevel_ops ops = {
    .lookup = sll_lookup,
    .getattr = sll_getattr,
    .setattr = sll_setattr,
    .readdir = sll_readdir,
    .open = sll_open,
    .read = sll_read,
    .write = sll_write,
    .fsync = sll_fsync,
    .statfs = sll_statfs,
};

static void usage(void)
{
	printf("usage: %s [options] <file or block device> <mountpoint>\n\n", PROG);
	printf("%s options:\n", PROG);
	backing_file_help();
	printf("\n");
	fuse_cmdline_help();
	fuse_lowlevel_help();
}

/* Serve until unmounted; the session is already mounted. */
static int serve(struct fuse_session *se, const struct fuse_cmdline_opts *opts)
{
	struct fuse_loop_config *config;
	int ret;

	if (opts->singlethread)
		return fuse_session_loop(se);
	config = fuse_loop_cfg_create();
	if (!config)
		return -ENOMEM;
	fuse_loop_cfg_set_clone_fd(config, (unsigned int)opts->clone_fd);
	fuse_loop_cfg_set_max_threads(config, opts->max_threads);
	ret = fuse_session_loop_mt(se, config);
	fuse_loop_cfg_destroy(config);
	return ret;
}

/*
 * The contained path. The order matters: the file requests must all be made
 * before fuse_service_finish_file_requests(), and the mount options are
 * computed from the arguments fuse_service_parse_cmdline_opts() sees.
 */
static int run_service(struct fuse_service *sf, struct fuse_args *args)
{
	struct fuse_cmdline_opts opts = {0};
	struct fuse_session *se = NULL;
	int ret = 1;

	/* [service_ll, <our argv>, <source> <mountpoint> -o <options>] */
	if (fuse_service_append_args(sf, args) < 0)
		goto out;
	if (fuse_opt_parse(args, &bf, backing_file_opts, backing_file_opt_proc) == -1)
		goto out;
	if (!bf.source) {
		fprintf(stderr, "%s: no source given (mount -t fuse.%s SOURCE MOUNTPOINT)\n", PROG,
			PROG);
		goto out;
	}

	/* The helper opens the source for us, as the user who mounts. */
	if (backing_file_open_service(&bf, sf, PROG) < 0)
		goto out;
	/* No descriptor can be pushed into this process from now on. */
	if (fuse_service_finish_file_requests(sf) < 0)
		goto out;
	/* Read-write was refused: make the mount itself read-only too. */
	if (bf.downgraded && fuse_opt_add_arg(args, "-oro") < 0)
		goto out;

	if (fuse_service_parse_cmdline_opts(args, &opts) != 0)
		goto out;
	if (!opts.mountpoint) {
		fprintf(stderr, "%s: no mountpoint given\n", PROG);
		goto out;
	}
	if (backing_file_configure(&bf, PROG) < 0)
		goto out;
	if (bf.probe_sandbox)
		sandbox_probe(PROG, bf.source);

	se = fuse_session_new(args, &ops, sizeof(ops), NULL);
	if (!se)
		goto out;
	if (fuse_set_signal_handlers(se) != 0)
		goto out;
	if (fuse_service_session_mount(sf, se, S_IFDIR, &opts) < 0)
		goto out_signals;

	/* Mounted: mount(8) returns now, we serve until unmounted. */
	fuse_service_send_goodbye(sf, 0);
	fuse_service_release(sf);
	ret = serve(se, &opts) != 0;
	fuse_session_unmount(se);

out_signals:
	fuse_remove_signal_handlers(se);
out:
	/* Tell the helper why, if we gave up before the mount (no-op after). */
	fuse_service_send_goodbye(sf, ret);
	if (se)
		fuse_session_destroy(se);
	free(opts.mountpoint);
	return ret;
}

/* Not socket-activated: an ordinary FUSE server that opens and mounts itself. */
static int run_classic(struct fuse_args *args)
{
	struct fuse_cmdline_opts opts = {0};
	struct fuse_session *se = NULL;
	int ret = 1;

	fprintf(stderr,
		"%s: not started by socket activation: running as a classic FUSE server "
		"(for debugging; the contained way is mount -t fuse.%s)\n",
		PROG, PROG);
	if (fuse_opt_parse(args, &bf, backing_file_opts, backing_file_opt_proc) == -1)
		return 1;
	if (fuse_parse_cmdline(args, &opts) != 0)
		return 1;
	if (opts.show_help) {
		usage();
		ret = 0;
		goto out;
	}
	if (opts.show_version) {
		printf("FUSE library version %s\n", fuse_pkgversion());
		fuse_lowlevel_version();
		ret = 0;
		goto out;
	}
	if (!bf.source || !opts.mountpoint) {
		fprintf(stderr, "usage: %s [options] <file or block device> <mountpoint>\n", PROG);
		goto out;
	}
	if (backing_file_open_direct(&bf, PROG) < 0 || backing_file_configure(&bf, PROG) < 0)
		goto out;
	if (bf.downgraded && fuse_opt_add_arg(args, "-oro") < 0)
		goto out;
	if (bf.probe_sandbox)
		sandbox_probe(PROG, bf.source);

	se = fuse_session_new(args, &ops, sizeof(ops), NULL);
	if (!se)
		goto out;
	if (fuse_set_signal_handlers(se) != 0)
		goto out;
	if (fuse_session_mount(se, opts.mountpoint) != 0)
		goto out_signals;
	fuse_daemonize(opts.foreground);
	ret = serve(se, &opts) != 0;
	fuse_session_unmount(se);
out_signals:
	fuse_remove_signal_handlers(se);
out:
	if (se)
		fuse_session_destroy(se);
	free(opts.mountpoint);
	return ret;
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fuse_service *sf = NULL;
	int ret;

	/* Socket-activated? Then fd 3 is the helper: say hello, get argv and /dev/fuse. */
	if (fuse_service_accept(&sf) < 0) {
		fprintf(stderr, "%s: cannot talk to the mount helper\n", PROG);
		return fuse_service_exit(1);
	}
	if (fuse_service_accepted(sf))
		ret = run_service(sf, &args);
	else
		ret = run_classic(&args);

	backing_file_close(&bf);
	fuse_opt_free_args(&args);
	fuse_service_destroy(&sf);
	return fuse_service_exit(ret);
}
