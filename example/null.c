/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * null: the smallest contained FUSE server. It is mounted over a regular
 * file, reads as 4 GiB of zeros and swallows every write:
 *
 *     touch /tmp/zeros
 *     mount -t fuse.null none /tmp/zeros
 *     head -c 16 /tmp/zeros | od -An -tx1
 *
 * All a server needs for the service mode is the handful of fuse_service_*
 * calls in main(); without socket activation it runs through fuse_main().
 */
#define FUSE_USE_VERSION 319

#include <fuse.h>
#include <fuse_service.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define NULL_SIZE (UINT64_C(1) << 32)

static int null_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	(void)fi;
	if (strcmp(path, "/") != 0)
		return -ENOENT;
	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFREG | 0644;
	st->st_nlink = 1;
	st->st_uid = fuse_get_context()->uid;
	st->st_gid = fuse_get_context()->gid;
	st->st_size = (off_t)NULL_SIZE;
	return 0;
}

static int null_open(const char *path, struct fuse_file_info *fi)
{
	(void)fi;
	return strcmp(path, "/") == 0 ? 0 : -ENOENT;
}

static int null_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	(void)path;
	(void)size;
	(void)fi;
	return 0;
}

static int null_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
	(void)path;
	(void)fi;
	if (off < 0 || (uint64_t)off >= NULL_SIZE)
		return 0;
	if (size > NULL_SIZE - (uint64_t)off)
		size = (size_t)(NULL_SIZE - (uint64_t)off);
	memset(buf, 0, size);
	return (int)size;
}

static int null_write(const char *path, const char *buf, size_t size, off_t off,
		      struct fuse_file_info *fi)
{
	(void)path;
	(void)buf;
	(void)off;
	(void)fi;
	return (int)size;
}

static const struct fuse_operations ops = {
    .getattr = null_getattr,
    .open = null_open,
    .truncate = null_truncate,
    .read = null_read,
    .write = null_write,
};

/* mount(8) always passes a source; null has no use for it. */
static int drop_source(void *data, const char *arg, int key, struct fuse_args *outargs)
{
	int *seen = data;
	(void)arg;
	(void)outargs;
	if (key != FUSE_OPT_KEY_NONOPT || *seen)
		return 1;
	*seen = 1;
	return 0;
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fuse_service *sf = NULL;
	int seen = 0;
	int ret = 1;

	if (fuse_service_accept(&sf) < 0)
		return fuse_service_exit(1);
	if (!fuse_service_accepted(sf)) {
		fprintf(stderr, "null: not started by socket activation: running as a classic "
				"FUSE server (usage: null [options] <regular file>)\n");
		return fuse_main(argc, argv, &ops, NULL);
	}

	if (fuse_service_append_args(sf, &args) == 0 &&
	    fuse_opt_parse(&args, &seen, NULL, drop_source) == 0) {
		fuse_service_expect_mount_format(sf, S_IFREG);
		ret = fuse_service_main(sf, &args, &ops, NULL);
	}
	fuse_service_send_goodbye(sf, ret);
	fuse_service_destroy(&sf);
	fuse_opt_free_args(&args);
	return fuse_service_exit(ret);
}
