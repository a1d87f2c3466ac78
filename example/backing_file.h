/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The one file that service_ll and service_hl serve: a regular file or a
 * block device named on the mount command line, e.g.
 *
 *     mount -t fuse.service_ll /srv/disk.img /mnt    ->   /mnt/image
 *
 * As a service the server never opens it: it asks the mount helper, which
 * opens it with the privileges of the user who ran mount(8) and passes the
 * descriptor over the service socket. Outside systemd (debugging) the
 * server opens it itself.
 */
#ifndef BACKING_FILE_H_
#define BACKING_FILE_H_

#include <fuse_lowlevel.h>
#include <fuse_service.h>

#include <stdbool.h>
#include <sys/types.h>

/* The name of the served file in the root directory of the mount. */
#define BACKING_FILE_NAME "image"

struct backing_file {
	char *source;    /* the path as the user typed it */
	int fd;          /* -1 until opened */
	bool read_only;  /* -o ro, or read-write was refused */
	bool downgraded; /* read-write was refused: we fell back to read-only */
	/* fuse_opt stores an int for each flag option. */
	int blockdev;            /* -o blockdev: require a block device */
	unsigned int block_size; /* -o blocksize=N; 0: the page size */
	int probe_sandbox;       /* -o probe_sandbox: log what the sandbox refuses */
	int show_help;           /* -h/--help (kept for libfuse too) */
	off_t size;              /* bytes served */
};

#define BACKING_FILE_INIT                                                                          \
	{                                                                                          \
		.source = NULL, .fd = -1                                                           \
	}

/* Our own -o options, for fuse_opt_parse() with backing_file_opt_proc(). */
extern const struct fuse_opt backing_file_opts[];

/*
 * fuse_opt_parse() callback: takes the first non-option argument as the
 * source and leaves the rest (the mountpoint) to libfuse.
 */
int backing_file_opt_proc(void *data, const char *arg, int key, struct fuse_args *outargs);

/* Print the help for our own options. */
void backing_file_help(void);

/*
 * Have the mount helper open the source: read-write unless -o ro, retrying a
 * few times while it is busy (EBUSY: e.g. a device still being released),
 * and falling back to read-only when read-write is refused.
 */
int backing_file_open_service(struct backing_file *bf, struct fuse_service *sf, const char *prog);

/* The same, opening the source ourselves (classic, non-service mode). */
int backing_file_open_direct(struct backing_file *bf, const char *prog);

/* Size and block size from the opened descriptor. */
int backing_file_configure(struct backing_file *bf, const char *prog);

/* pread/pwrite clamped to the served size; return bytes or -errno. */
ssize_t backing_file_read(const struct backing_file *bf, char *buf, size_t count, off_t pos);
ssize_t backing_file_write(const struct backing_file *bf, const char *buf, size_t count, off_t pos);

/* The attributes of the served file (uid/gid are the caller's). */
void backing_file_stat(const struct backing_file *bf, struct stat *st, uid_t uid, gid_t gid);

void backing_file_close(struct backing_file *bf);

#endif /* BACKING_FILE_H_ */
