/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Start a program for a test harness: stdin from /dev/null, stdout and
 * stderr appended to log files, no inherited fd above 2 (so fd counts of
 * helpers and activators are the program's own), optionally as nobody.
 */
#pragma once

#include <fcntl.h>
#include <grp.h>
#include <string>
#include <sys/types.h>
#include <unistd.h>
#include <vector>

namespace fsvc::test
{

inline constexpr uid_t kNobody = 65534;
inline constexpr gid_t kNogroup = 65534;

/* fork + execvp; returns the child's pid (or -1). The child exits 126 when it
 * cannot set up, 127 when the program cannot be run. */
inline pid_t spawn(const std::vector<std::string> &argv, const std::string &out,
		   const std::string &err, bool as_nobody = false)
{
	std::vector<char *> args;
	for (const auto &a : argv)
		args.push_back(const_cast<char *>(a.c_str()));
	args.push_back(nullptr);

	pid_t pid = ::fork();
	if (pid != 0)
		return pid;
	int null = ::open("/dev/null", O_RDONLY);
	int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
	int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (null < 0 || o < 0 || e < 0)
		::_exit(126);
	::dup2(null, 0);
	::dup2(o, 1);
	::dup2(e, 2);
	::closefrom(3);
	if (as_nobody &&
	    (::setgroups(0, nullptr) < 0 || ::setresgid(kNogroup, kNogroup, kNogroup) < 0 ||
	     ::setresuid(kNobody, kNobody, kNobody) < 0))
		::_exit(126);
	::execvp(args[0], args.data());
	::_exit(127);
}

} // namespace fsvc::test
