/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * LD_PRELOAD shim for one helper test: fstat() of the file named by
 * FSVC_SHIM_FSTAT_FAIL fails with EIO, leaving a struct that does not
 * describe a block device (as an unset one may). Only for the test twin run
 * by root: a setuid program ignores LD_PRELOAD. The variable is read at load
 * time because the helper clears its environment first thing.
 */
/* Both fstat and fstat64 are defined here: no redirection of one to the other. */
#undef _FILE_OFFSET_BITS
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char victim[PATH_MAX];

__attribute__((constructor)) static void shim_init(void)
{
	const char *v = getenv("FSVC_SHIM_FSTAT_FAIL");
	if (v)
		snprintf(victim, sizeof(victim), "%s", v);
}

static int is_victim(int fd)
{
	char link[64], target[PATH_MAX];
	if (!victim[0])
		return 0;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	if (n <= 0)
		return 0;
	target[n] = '\0';
	return strcmp(target, victim) == 0;
}

/* dlsym() returns an object pointer; ISO C has no cast to a function pointer. */
static void lookup(const char *name, void *fnp, size_t size)
{
	void *sym = dlsym(RTLD_NEXT, name);
	memcpy(fnp, &sym, size);
}

static int fail(struct stat *st)
{
	memset(st, 0, sizeof(*st));
	errno = EIO;
	return -1;
}

int fstat(int fd, struct stat *st)
{
	static int (*real)(int, struct stat *);
	if (is_victim(fd))
		return fail(st);
	if (!real)
		lookup("fstat", &real, sizeof(real));
	return real(fd, st);
}

int fstat64(int fd, struct stat64 *st)
{
	static int (*real)(int, struct stat64 *);
	if (is_victim(fd))
		return fail((struct stat *)st);
	if (!real)
		lookup("fstat64", &real, sizeof(real));
	return real(fd, st);
}
