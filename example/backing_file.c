/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define FUSE_USE_VERSION 319

#include "backing_file.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* How often, and how long apart, to ask again while the helper says EBUSY. */
#define BUSY_RETRIES 5
#define BUSY_DELAY_MS 200

static struct timespec start_time;

enum {
	KEY_RO,
	KEY_RW,
};

#define BF_OPT(t, field, v)                                                                        \
	{                                                                                          \
		t, offsetof(struct backing_file, field), v                                         \
	}

const struct fuse_opt backing_file_opts[] = {
    /* ro/rw are also mount flags: keep them so the mount matches. */
    FUSE_OPT_KEY("ro", KEY_RO),
    FUSE_OPT_KEY("rw", KEY_RW),
    BF_OPT("blockdev", blockdev, 1),
    BF_OPT("blocksize=%u", block_size, 0),
    BF_OPT("probe_sandbox", probe_sandbox, 1),
    BF_OPT("-h", show_help, 1),
    BF_OPT("--help", show_help, 1),
    FUSE_OPT_KEY("-h", FUSE_OPT_KEY_KEEP),
    FUSE_OPT_KEY("--help", FUSE_OPT_KEY_KEEP),
    FUSE_OPT_END,
};

int backing_file_opt_proc(void *data, const char *arg, int key, struct fuse_args *outargs)
{
	struct backing_file *bf = data;
	(void)outargs;

	switch (key) {
	case KEY_RO:
		bf->read_only = true;
		return 1;
	case KEY_RW:
		bf->read_only = false;
		return 1;
	case FUSE_OPT_KEY_NONOPT:
		if (bf->source)
			return 1; /* the mountpoint: libfuse's */
		bf->source = strdup(arg);
		return bf->source ? 0 : -1;
	default:
		return 1;
	}
}

void backing_file_help(void)
{
	printf("    -o ro                  serve the file read-only\n"
	       "    -o blockdev            the source must be a block device\n"
	       "    -o blocksize=N         block size (a power of two >= 512)\n"
	       "    -o probe_sandbox       log whether the sandbox lets the server open\n"
	       "                           /dev/fuse, the source or an AF_INET socket\n");
}

static int request_source(const struct backing_file *bf, struct fuse_service *sf, int flags)
{
	/* O_EXCL on a block device: refuse it while it is mounted elsewhere. */
	if (bf->blockdev)
		return fuse_service_request_blockdev(sf, bf->source, flags | O_EXCL, 0, 0,
						     bf->block_size);
	return fuse_service_request_file(sf, bf->source, flags, 0, 0);
}

static bool is_permission_error(int err)
{
	return err == EACCES || err == EPERM || err == EROFS;
}

int backing_file_open_service(struct backing_file *bf, struct fuse_service *sf, const char *prog)
{
	int flags = bf->read_only ? O_RDONLY : O_RDWR;
	int busy = 0;

	for (;;) {
		int fd = -1;
		int ret = request_source(bf, sf, flags);

		if (ret == 0)
			ret = fuse_service_receive_file(sf, bf->source, &fd);
		if (ret < 0) {
			fprintf(stderr, "%s: asking the mount helper for %s: %s\n", prog,
				bf->source, strerror(-ret));
			return -1;
		}
		if (fd >= 0) {
			bf->fd = fd;
			return 0;
		}

		/* The helper refused the open; fd holds its -errno. */
		if (fd == -EBUSY && busy++ < BUSY_RETRIES) {
			const struct timespec delay = {0, BUSY_DELAY_MS * 1000000L};
			fprintf(stderr, "%s: %s is busy, asking again (%d/%d)\n", prog, bf->source,
				busy, BUSY_RETRIES);
			nanosleep(&delay, NULL);
			continue;
		}
		if (flags == O_RDWR && is_permission_error(-fd)) {
			fprintf(stderr, "%s: %s: read-write refused (%s), serving it read-only\n",
				prog, bf->source, strerror(-fd));
			flags = O_RDONLY;
			bf->read_only = true;
			bf->downgraded = true;
			continue;
		}
		fprintf(stderr, "%s: %s: the mount helper could not open it: %s\n", prog,
			bf->source, strerror(-fd));
		return -1;
	}
}

int backing_file_open_direct(struct backing_file *bf, const char *prog)
{
	int flags = (bf->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	int fd;

	if (bf->blockdev)
		flags |= O_EXCL;
	fd = open(bf->source, flags);
	if (fd < 0 && !bf->read_only && is_permission_error(errno)) {
		fprintf(stderr, "%s: %s: read-write refused (%s), serving it read-only\n", prog,
			bf->source, strerror(errno));
		bf->read_only = true;
		bf->downgraded = true;
		fd = open(bf->source, (flags & ~O_ACCMODE) | O_RDONLY);
	}
	if (fd < 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, bf->source, strerror(errno));
		return -1;
	}
	bf->fd = fd;
	return 0;
}

static bool is_power_of_two(unsigned int n)
{
	return n != 0 && (n & (n - 1)) == 0;
}

int backing_file_configure(struct backing_file *bf, const char *prog)
{
	struct stat st;
	unsigned int min_block = 512;
	unsigned long long size;

	if (fstat(bf->fd, &st) < 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, bf->source, strerror(errno));
		return -1;
	}
	if (S_ISBLK(st.st_mode)) {
		int sector = 0;
		if (ioctl(bf->fd, BLKGETSIZE64, &size) < 0 ||
		    ioctl(bf->fd, BLKSSZGET, &sector) < 0) {
			fprintf(stderr, "%s: %s: %s\n", prog, bf->source, strerror(errno));
			return -1;
		}
		min_block = (unsigned int)sector;
	} else if (S_ISREG(st.st_mode) && !bf->blockdev) {
		size = (unsigned long long)st.st_size;
	} else {
		fprintf(stderr, "%s: %s: not a %s\n", prog, bf->source,
			bf->blockdev ? "block device" : "regular file or block device");
		return -1;
	}

	if (bf->block_size == 0)
		bf->block_size = (unsigned int)sysconf(_SC_PAGESIZE);
	if (!is_power_of_two(bf->block_size) || bf->block_size < min_block) {
		fprintf(stderr, "%s: blocksize=%u: must be a power of two of at least %u\n", prog,
			bf->block_size, min_block);
		return -1;
	}
	bf->size = (off_t)size;
	clock_gettime(CLOCK_REALTIME, &start_time);
	return 0;
}

/* Clamp [pos, pos + count) to the served size. */
static size_t clamp(const struct backing_file *bf, size_t count, off_t pos)
{
	if (pos < 0 || pos >= bf->size)
		return 0;
	if ((off_t)count > bf->size - pos)
		return (size_t)(bf->size - pos);
	return count;
}

ssize_t backing_file_read(const struct backing_file *bf, char *buf, size_t count, off_t pos)
{
	size_t want = clamp(bf, count, pos);
	size_t done = 0;

	while (done < want) {
		ssize_t n = pread(bf->fd, buf + done, want - done, pos + (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return done ? (ssize_t)done : -errno;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

ssize_t backing_file_write(const struct backing_file *bf, const char *buf, size_t count, off_t pos)
{
	size_t want;
	size_t done = 0;

	if (bf->read_only)
		return -EROFS;
	if (count > 0 && pos >= bf->size)
		return -EFBIG; /* the file cannot grow past its source */
	want = clamp(bf, count, pos);
	while (done < want) {
		ssize_t n = pwrite(bf->fd, buf + done, want - done, pos + (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return done ? (ssize_t)done : -errno;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

void backing_file_stat(const struct backing_file *bf, struct stat *st, uid_t uid, gid_t gid)
{
	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFREG | (bf->read_only ? 0444 : 0644);
	st->st_nlink = 1;
	st->st_uid = uid;
	st->st_gid = gid;
	st->st_size = bf->size;
	st->st_blksize = (blksize_t)bf->block_size;
	st->st_blocks = (bf->size + 511) / 512;
	st->st_atim = start_time;
	st->st_mtim = start_time;
	st->st_ctim = start_time;
}

void backing_file_close(struct backing_file *bf)
{
	if (bf->fd >= 0)
		close(bf->fd);
	bf->fd = -1;
	free(bf->source);
	bf->source = NULL;
}
