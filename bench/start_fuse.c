/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A server's start-up with libfuse alone: links it (uses a symbol) and returns. */
#define FUSE_USE_VERSION 35
#include <fuse_lowlevel.h>

int main(void)
{
	return fuse_version() > 0 ? 0 : 1;
}
