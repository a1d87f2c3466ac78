/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A small FUSE service for the helper's tests, written only against the
 * public API (<fuse_lowlevel.h>, <fuse_service.h>), as a third-party server
 * would be.
 *
 * The filesystem: a root directory holding one read/write file "data", or,
 * with --file-root, a root that is itself that regular file. The initial
 * content is "hello\n", or the content of the file named by `-o
 * backing=PATH`, which the server asks the helper to open (OPEN) since it
 * cannot open anything itself. `-o create=PATH` asks the helper to create
 * PATH (O_CREAT, mode 0666) before the mount.
 *
 * More files, named by the user: `-o file=PATH` (repeatable) and `-o
 * opath=PATH` are requested with OPEN (O_RDONLY, O_PATH), `-o bdev=PATH` with
 * BDEV (block size `-o blocksize=N`, default none). Their fds are closed at
 * once; a refusal is not fatal, the test reads it from the report.
 *
 * Usage (by the socket activator, one process per connection):
 *   fsvc-test-server [--file-root] [--fail-before-mount=N] [--no-goodbye]
 *                    [--delay=MS] [--report=FILE]
 * and, from the user via the helper: SOURCE MOUNTPOINT [-o backing=PATH,...]
 *
 * --delay waits that long before reading the command line (a slow server);
 * --report appends what the server saw to FILE, one line each:
 *   HELLO allow_other=0|1 fuseblk=0|1   (what the helper offered)
 *   ARGV a|b|...                         (the command line it received)
 *   OPEN PATH -> ERRNO                   (0, or the errno of the refusal;
 *   BDEV PATH -> ERRNO                    every file request, backing too)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* O_PATH: it is also built alone, by the pkg-config line */
#endif
#define FUSE_USE_VERSION 319

#include <fuse_lowlevel.h>
#include <fuse_service.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DATA_INO 2
#define DATA_NAME "data"
#define MAX_DATA (1024 * 1024)

static struct {
	char *buf;
	size_t size;
	int file_root;
	struct timespec mtime;
} fs;

#define MAX_EXTRA 16

/* A file the user named for the server to request. */
struct extra_file {
	char *path;
	int open_flags;
	int blockdev;
};

struct cli {
	char *backing;
	char *create;
	char *source;
	unsigned int blocksize;
	int nonopts;
	struct extra_file extra[MAX_EXTRA];
	int nextra;
};

enum { KEY_FILE, KEY_OPATH, KEY_BDEV };

static const struct fuse_opt cli_opts[] = {
    {"backing=%s", offsetof(struct cli, backing), 0},
    {"create=%s", offsetof(struct cli, create), 0},
    {"blocksize=%u", offsetof(struct cli, blocksize), 0},
    FUSE_OPT_KEY("file=", KEY_FILE),
    FUSE_OPT_KEY("opath=", KEY_OPATH),
    FUSE_OPT_KEY("bdev=", KEY_BDEV),
    FUSE_OPT_END,
};

static FILE *report;

static void report_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void report_line(const char *fmt, ...)
{
	va_list ap;
	if (!report)
		return;
	va_start(ap, fmt);
	vfprintf(report, fmt, ap);
	va_end(ap);
	fputc('\n', report);
	fflush(report);
}

/* The first positional argument is the source; the second stays for the mountpoint. */
static int cli_proc(void *data, const char *arg, int key, struct fuse_args *outargs)
{
	struct cli *c = data;
	(void)outargs;
	if (key == KEY_FILE || key == KEY_OPATH || key == KEY_BDEV) {
		if (c->nextra == MAX_EXTRA)
			return -1;
		struct extra_file *f = &c->extra[c->nextra++];
		f->path = strdup(strchr(arg, '=') + 1);
		if (!f->path)
			return -1;
		f->open_flags = key == KEY_OPATH ? O_PATH : O_RDONLY;
		f->blockdev = key == KEY_BDEV;
		return 0;
	}
	if (key != FUSE_OPT_KEY_NONOPT)
		return 1;
	if (c->nonopts++ == 0) {
		c->source = strdup(arg);
		return 0;
	}
	return 1;
}

static fuse_ino_t file_ino(void)
{
	return fs.file_root ? FUSE_ROOT_ID : DATA_INO;
}

static void fill_stat(fuse_ino_t ino, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_uid = getuid();
	st->st_gid = getgid();
	st->st_mtim = fs.mtime;
	st->st_ctim = fs.mtime;
	st->st_atim = fs.mtime;
	if (ino == file_ino()) {
		st->st_mode = S_IFREG | 0644;
		st->st_nlink = 1;
		st->st_size = (off_t)fs.size;
	} else {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
	}
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;
	if (fs.file_root || parent != FUSE_ROOT_ID || strcmp(name, DATA_NAME) != 0) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	memset(&e, 0, sizeof(e));
	e.ino = DATA_INO;
	fill_stat(DATA_INO, &e.attr);
	fuse_reply_entry(req, &e);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct stat st;
	(void)fi;
	if (ino != FUSE_ROOT_ID && ino != DATA_INO) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	fill_stat(ino, &st);
	fuse_reply_attr(req, &st, 0);
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		       struct fuse_file_info *fi)
{
	struct stat st;
	(void)fi;
	if (ino == file_ino() && (to_set & FUSE_SET_ATTR_SIZE)) {
		size_t n = (size_t)attr->st_size;
		if (n > MAX_DATA) {
			fuse_reply_err(req, EFBIG);
			return;
		}
		char *nb = realloc(fs.buf, n ? n : 1);
		if (!nb) {
			fuse_reply_err(req, ENOMEM);
			return;
		}
		if (n > fs.size)
			memset(nb + fs.size, 0, n - fs.size);
		fs.buf = nb;
		fs.size = n;
	}
	fill_stat(ino, &st);
	fuse_reply_attr(req, &st, 0);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	char buf[512];
	size_t used = 0;
	struct stat st;
	const char *names[] = {".", "..", DATA_NAME};
	const fuse_ino_t inos[] = {FUSE_ROOT_ID, FUSE_ROOT_ID, DATA_INO};
	(void)fi;
	if (ino != FUSE_ROOT_ID || fs.file_root) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	for (off_t i = off; i < 3; i++) {
		fill_stat(inos[i], &st);
		size_t n =
		    fuse_add_direntry(req, buf + used, sizeof(buf) - used, names[i], &st, i + 1);
		if (n > sizeof(buf) - used || used + n > size)
			break;
		used += n;
	}
	fuse_reply_buf(req, buf, used);
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if (ino != file_ino()) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	if (fi->flags & O_TRUNC)
		fs.size = 0;
	fi->direct_io = 1;
	fuse_reply_open(req, fi);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	if ((size_t)off >= fs.size) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	if (size > fs.size - (size_t)off)
		size = fs.size - (size_t)off;
	fuse_reply_buf(req, fs.buf + off, size);
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	if ((size_t)off + size > MAX_DATA) {
		fuse_reply_err(req, EFBIG);
		return;
	}
	if ((size_t)off + size > fs.size) {
		char *nb = realloc(fs.buf, (size_t)off + size);
		if (!nb) {
			fuse_reply_err(req, ENOMEM);
			return;
		}
		if ((size_t)off > fs.size)
			memset(nb + fs.size, 0, (size_t)off - fs.size);
		fs.buf = nb;
		fs.size = (size_t)off + size;
	}
	memcpy(fs.buf + off, buf, size);
	fuse_reply_write(req, size);
}

static const struct fuse_lowlevel_ops ops = {
    .lookup = op_lookup,
    .getattr = op_getattr,
    .setattr = op_setattr,
    .readdir = op_readdir,
    .open = op_open,
    .read = op_read,
    .write = op_write,
};

/* Load the initial content from the fd the helper opened for us. */
static int load_backing(int fd)
{
	char chunk[4096];
	ssize_t n;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		if (fs.size + (size_t)n > MAX_DATA)
			return -EFBIG;
		char *nb = realloc(fs.buf, fs.size + (size_t)n);
		if (!nb)
			return -ENOMEM;
		memcpy(nb + fs.size, chunk, (size_t)n);
		fs.buf = nb;
		fs.size += (size_t)n;
	}
	return n < 0 ? -errno : 0;
}

/* Request one file; the fd (or the negative errno of the refusal) in *fdp. */
static int request(struct fuse_service *sf, const struct extra_file *f, unsigned int blocksize,
		   int *fdp)
{
	int r = f->blockdev
		    ? fuse_service_request_blockdev(sf, f->path, f->open_flags, 0, 0, blocksize)
		    : fuse_service_request_file(sf, f->path, f->open_flags, 0, 0);
	if (r < 0 || (r = fuse_service_receive_file(sf, f->path, fdp)) < 0)
		return r;
	report_line("%s %s -> %d", f->blockdev ? "BDEV" : "OPEN", f->path, *fdp < 0 ? -*fdp : 0);
	return 0;
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct fuse_cmdline_opts opts;
	struct fuse_service *sf = NULL;
	struct fuse_session *se = NULL;
	struct cli cli = {0};
	int fail_before_mount = 0;
	int no_goodbye = 0;
	int delay_ms = 0;
	int ret = 1;

	/* The server's own knobs, set by the test on the activator's command line. */
	fuse_opt_add_arg(&args, argv[0]);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--file-root") == 0)
			fs.file_root = 1;
		else if (strncmp(argv[i], "--fail-before-mount=", 20) == 0)
			fail_before_mount = atoi(argv[i] + 20);
		else if (strcmp(argv[i], "--no-goodbye") == 0)
			no_goodbye = 1;
		else if (strncmp(argv[i], "--delay=", 8) == 0)
			delay_ms = atoi(argv[i] + 8);
		else if (strncmp(argv[i], "--report=", 9) == 0)
			report = fopen(argv[i] + 9, "ae");
		else
			fuse_opt_add_arg(&args, argv[i]);
	}
	clock_gettime(CLOCK_REALTIME, &fs.mtime);

	if (fuse_service_accept(&sf) < 0)
		goto out;
	if (!fuse_service_accepted(sf)) {
		fprintf(stderr, "fsvc-test-server: must be started by a socket activator\n");
		goto out;
	}
	report_line("HELLO allow_other=%d fuseblk=%d", fuse_service_can_allow_other(sf),
		    fuse_service_can_fuseblk(sf));
	if (delay_ms)
		nanosleep(&(struct timespec){delay_ms / 1000, (delay_ms % 1000) * 1000000L}, NULL);
	if (fuse_service_append_args(sf, &args) < 0)
		goto out_bye;
	if (report) {
		fputs("ARGV ", report);
		for (int i = 0; i < args.argc; i++)
			fprintf(report, "%s%s", i ? "|" : "", args.argv[i]);
		report_line("%s", "");
	}
	if (fuse_opt_parse(&args, &cli, cli_opts, cli_proc) < 0)
		goto out_bye;
	if (fuse_service_parse_cmdline_opts(&args, &opts) != 0)
		goto out_bye;

	for (int i = 0; i < cli.nextra; i++) {
		int fd = -1;
		if (request(sf, &cli.extra[i], cli.blocksize, &fd) < 0)
			goto out_opts;
		if (fd >= 0)
			close(fd);
	}
	if (cli.backing) {
		int fd = -1;
		const struct extra_file f = {cli.backing, O_RDONLY, 0};
		if (request(sf, &f, 0, &fd) < 0)
			goto out_opts;
		if (fd < 0) {
			fprintf(stderr, "fsvc-test-server: %s: %s\n", cli.backing, strerror(-fd));
			goto out_opts;
		}
		int r = load_backing(fd);
		close(fd);
		if (r < 0)
			goto out_opts;
	} else {
		fs.buf = strdup("hello\n");
		fs.size = fs.buf ? 6 : 0;
	}
	if (cli.create) {
		int fd = -1;
		if (fuse_service_request_file(sf, cli.create, O_RDWR | O_CREAT, 0666, 0) < 0 ||
		    fuse_service_receive_file(sf, cli.create, &fd) < 0)
			goto out_opts;
		if (fd < 0) {
			fprintf(stderr, "fsvc-test-server: %s: %s\n", cli.create, strerror(-fd));
			goto out_opts;
		}
		close(fd);
	}
	if (fuse_service_finish_file_requests(sf) < 0)
		goto out_opts;
	if (fail_before_mount) {
		ret = fail_before_mount;
		goto out_opts;
	}

	se = fuse_session_new(&args, &ops, sizeof(ops), NULL);
	if (!se)
		goto out_opts;
	if (fuse_service_session_mount(sf, se, fs.file_root ? S_IFREG : S_IFDIR, &opts) < 0)
		goto out_session;
	if (no_goodbye) {
		/* Misbehave: vanish right after the mount, without BYEE. */
		_exit(0);
	}
	if (fuse_service_send_goodbye(sf, 0) < 0)
		goto out_unmount;
	ret = fuse_session_loop(se) < 0 ? 1 : 0;
out_unmount:
	fuse_session_unmount(se);
out_session:
	fuse_session_destroy(se);
out_opts:
	free(opts.mountpoint);
out_bye:
	fuse_service_send_goodbye(sf, ret ? ret : 0);
out:
	fuse_service_destroy(&sf);
	fuse_opt_free_args(&args);
	free(cli.backing);
	free(cli.create);
	free(cli.source);
	for (int i = 0; i < cli.nextra; i++)
		free(cli.extra[i].path);
	if (report)
		fclose(report);
	free(fs.buf);
	return ret;
}
