/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The floor of a FUSE mount: no library, no helper, no socket. Opens
 * /dev/fuse, mounts it with fsopen/fsconfig/fsmount/move_mount, answers
 * FUSE_INIT and GETATTR of the root itself, and exits when the mount goes
 * away (read fails with ENODEV). Needs root. Usage: fuse_floor MOUNTPOINT
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <linux/mount.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int reply(int fd, uint64_t unique, int error, const void *body, size_t len)
{
	struct fuse_out_header h = {
	    .len = (uint32_t)(sizeof(h) + len), .error = error, .unique = unique};
	char buf[sizeof(h) + 256];
	memcpy(buf, &h, sizeof(h));
	if (len)
		memcpy(buf + sizeof(h), body, len);
	return write(fd, buf, h.len) == (ssize_t)h.len ? 0 : -1;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: fuse_floor MOUNTPOINT\n");
		return 2;
	}
	int dev = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	int fs = (int)syscall(SYS_fsopen, "fuse", FSOPEN_CLOEXEC);
	char fdstr[16];
	snprintf(fdstr, sizeof(fdstr), "%d", dev);
	if (dev < 0 || fs < 0 ||
	    syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "source", "floor", 0) < 0 ||
	    syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "fd", fdstr, 0) < 0 ||
	    syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "rootmode", "40000", 0) < 0 ||
	    syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "user_id", "0", 0) < 0 ||
	    syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "group_id", "0", 0) < 0 ||
	    syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
		fprintf(stderr, "fuse_floor: cannot set up the mount: %s\n", strerror(errno));
		return 1;
	}
	int mnt = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, 0);
	if (mnt < 0 ||
	    syscall(SYS_move_mount, mnt, "", AT_FDCWD, argv[1], MOVE_MOUNT_F_EMPTY_PATH) < 0) {
		fprintf(stderr, "fuse_floor: cannot mount: %s\n", strerror(errno));
		return 1;
	}
	close(mnt);
	close(fs);
	static char buf[FUSE_MIN_READ_BUFFER + 4096];
	for (;;) {
		ssize_t n = read(dev, buf, sizeof(buf));
		if (n < 0 && (errno == EINTR || errno == ENOENT))
			continue;
		if (n < (ssize_t)sizeof(struct fuse_in_header))
			return n < 0 && errno == ENODEV ? 0 : 1;
		struct fuse_in_header in;
		memcpy(&in, buf, sizeof(in));
		if (in.opcode == FUSE_INIT) {
			struct fuse_init_in ii;
			memcpy(&ii, buf + sizeof(in), sizeof(ii));
			struct fuse_init_out o = {.major = FUSE_KERNEL_VERSION,
						  .minor = ii.minor < FUSE_KERNEL_MINOR_VERSION
							       ? ii.minor
							       : FUSE_KERNEL_MINOR_VERSION,
						  .max_readahead = ii.max_readahead,
						  .max_write = 4096,
						  .max_background = 12,
						  .congestion_threshold = 9,
						  .time_gran = 1};
			reply(dev, in.unique, 0, &o, sizeof(o));
		} else if (in.opcode == FUSE_GETATTR) {
			struct fuse_attr_out a = {.attr_valid = 1};
			a.attr.ino = 1;
			a.attr.mode = S_IFDIR | 0755;
			a.attr.nlink = 2;
			a.attr.blksize = 4096;
			reply(dev, in.unique, 0, &a, sizeof(a));
		} else if (in.opcode != FUSE_FORGET && in.opcode != FUSE_BATCH_FORGET) {
			reply(dev, in.unique, -ENOSYS, NULL, 0);
		}
	}
}
