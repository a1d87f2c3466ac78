/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Exec'd by activation_test with a prepared environment and fd 3: calls
 * either our listen_fds() ("ours") or libsystemd's sd_listen_fds() ("sd")
 * and prints the result, fd 3's close-on-exec flag and which LISTEN_*
 * variables are left, so the test can hold one against the other.
 */
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <systemd/sd-daemon.h>

#include "lib/activation.h"

int main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	const bool unset = std::strcmp(argv[2], "unset") == 0;
	const int r =
	    std::strcmp(argv[1], "sd") == 0 ? sd_listen_fds(unset) : fsvc::listen_fds(unset);
	const int flags = fcntl(3, F_GETFD);
	std::printf("r=%d cloexec=%d pid=%d fds=%d names=%d\n", r,
		    flags < 0              ? -1
		    : (flags & FD_CLOEXEC) ? 1
					   : 0,
		    std::getenv("LISTEN_PID") != nullptr, std::getenv("LISTEN_FDS") != nullptr,
		    std::getenv("LISTEN_FDNAMES") != nullptr);
	return 0;
}
