/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A server's start-up with our library: links libfuse_service, asks whether
 * it was socket-activated (it was not: returns at once) and returns.
 */
#include <fuse_service.h>
#include <stddef.h>

int main(void)
{
	struct fuse_service *sf = NULL;
	return fuse_service_accept(&sf) == 0 && sf == NULL ? 0 : 1;
}
