/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * service_hl: service_ll written with the high-level (path based) API.
 *
 *     mount -t fuse.service_hl [-o ro,blocksize=4096] /srv/disk.img /mnt
 *     cat /mnt/image
 *
 * The service part is short: accept the helper's connection, have it open
 * the source, then fuse_service_main() does what fuse_main() does for a
 * classic server (parse the options, create the filesystem, mount -- here
 * through the helper -- and run the loop). Started by hand, it runs
 * classically through fuse_main(), for debugging.
 */
#define FUSE_USE_VERSION 319

#include <fuse.h>
#include <fuse_service.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "backing_file.h"
#include "sandbox_probe.h"

#define PROG "service_hl"

static struct backing_file bf = BACKING_FILE_INIT;

static bool is_image(const char *path)
{
	return path[0] == '/' && strcmp(path + 1, BACKING_FILE_NAME) == 0;
}

static int shl_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	const struct fuse_context *ctx = fuse_get_context();
	(void)fi;

	if (strcmp(path, "/") == 0) {
		memset(st, 0, sizeof(*st));
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
		st->st_uid = ctx->uid;
		st->st_gid = ctx->gid;
		return 0;
	}
	if (!is_image(path))
		return -ENOENT;
	backing_file_stat(&bf, st, ctx->uid, ctx->gid);
	return 0;
}

static int shl_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off,
		       struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	(void)off;
	(void)fi;
	(void)flags;

	if (strcmp(path, "/") != 0)
		return is_image(path) ? -ENOTDIR : -ENOENT;
	fill(buf, ".", NULL, 0, 0);
	fill(buf, "..", NULL, 0, 0);
	fill(buf, BACKING_FILE_NAME, NULL, 0, 0);
	return 0;
}

static int shl_open(const char *path, struct fuse_file_info *fi)
{
	if (!is_image(path))
		return strcmp(path, "/") == 0 ? -EISDIR : -ENOENT;
	if (bf.read_only && (fi->flags & O_ACCMODE) != O_RDONLY)
		return -EROFS;
	return 0;
}

static int shl_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
	(void)path;
	(void)fi;
	return (int)backing_file_read(&bf, buf, size, off);
}

static int shl_write(const char *path, const char *buf, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	(void)path;
	(void)fi;
	return (int)backing_file_write(&bf, buf, size, off);
}

static int shl_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	(void)fi;
	if (!is_image(path))
		return -EISDIR;
	/* The size is that of the source. */
	return size == bf.size ? 0 : -EPERM;
}

static int shl_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
	(void)path;
	(void)fi;
	return (datasync ? fdatasync(bf.fd) : fsync(bf.fd)) < 0 ? -errno : 0;
}

static int shl_statfs(const char *path, struct statvfs *sv)
{
	(void)path;
	memset(sv, 0, sizeof(*sv));
	sv->f_bsize = bf.block_size;
	sv->f_frsize = bf.block_size;
	sv->f_blocks = (fsblkcnt_t)((bf.size + bf.block_size - 1) / bf.block_size);
	sv->f_files = 1;
	sv->f_namemax = 255;
	if (bf.read_only)
		sv->f_flag |= ST_RDONLY;
	return 0;
}

static const struct fuse_operations ops = {
    .getattr = shl_getattr,
    .readdir = shl_readdir,
    .open = shl_open,
    .read = shl_read,
    .write = shl_write,
    .truncate = shl_truncate,
    .fsync = shl_fsync,
    .statfs = shl_statfs,
};

static int run_service(struct fuse_service *sf, struct fuse_args *args)
{
	int ret = 1;

	if (fuse_service_append_args(sf, args) < 0)
		goto out;
	if (fuse_opt_parse(args, &bf, backing_file_opts, backing_file_opt_proc) == -1)
		goto out;
	if (!bf.source) {
		fprintf(stderr, "%s: no source given (mount -t fuse.%s SOURCE MOUNTPOINT)\n", PROG,
			PROG);
		goto out;
	}
	if (backing_file_open_service(&bf, sf, PROG) < 0)
		goto out;
	if (fuse_service_finish_file_requests(sf) < 0)
		goto out;
	if (bf.downgraded && fuse_opt_add_arg(args, "-oro") < 0)
		goto out;
	if (backing_file_configure(&bf, PROG) < 0)
		goto out;
	if (bf.probe_sandbox)
		sandbox_probe(PROG, bf.source);

	/* Parse, create, mount through the helper, say goodbye, serve. */
	fuse_service_expect_mount_format(sf, S_IFDIR);
	ret = fuse_service_main(sf, args, &ops, NULL);
out:
	fuse_service_send_goodbye(sf, ret); /* no-op when the mount worked */
	return ret;
}

static int run_classic(struct fuse_args *args)
{
	fprintf(stderr,
		"%s: not started by socket activation: running as a classic FUSE server "
		"(for debugging; the contained way is mount -t fuse.%s)\n",
		PROG, PROG);
	if (fuse_opt_parse(args, &bf, backing_file_opts, backing_file_opt_proc) == -1)
		return 1;
	if (bf.show_help) {
		printf("usage: %s [options] <file or block device> <mountpoint>\n\n", PROG);
		printf("%s options:\n", PROG);
		backing_file_help();
		printf("\n");
		/* fuse_main() prints the generic options and returns. */
		return fuse_main(args->argc, args->argv, &ops, NULL);
	}
	if (!bf.source) {
		fprintf(stderr, "usage: %s [options] <file or block device> <mountpoint>\n", PROG);
		return 1;
	}
	if (backing_file_open_direct(&bf, PROG) < 0 || backing_file_configure(&bf, PROG) < 0)
		return 1;
	if (bf.downgraded && fuse_opt_add_arg(args, "-oro") < 0)
		return 1;
	if (bf.probe_sandbox)
		sandbox_probe(PROG, bf.source);
	return fuse_main(args->argc, args->argv, &ops, NULL);
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fuse_service *sf = NULL;
	int ret;

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
