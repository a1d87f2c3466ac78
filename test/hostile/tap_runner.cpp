/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "tap_runner.h"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "core/unique_fd.h"

namespace fsvc::hostile
{

namespace
{

using Clock = std::chrono::steady_clock;

struct Running {
	pid_t pid;
	std::string name;
	UniqueFD out; /* an unlinked file holding the case's stdout and stderr */
	Clock::time_point start;
	bool killed = false;
};

/* The case in a process group of its own (so a timeout can take all of it
 * down), its output in an anonymous file. */
Running start_case(const TapRun &run, const std::string &name)
{
	UniqueFD out(::open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
	std::vector<std::string> argv{run.self};
	argv.insert(argv.end(), run.case_args.begin(), run.case_args.end());
	argv.push_back(name);
	std::vector<char *> args;
	for (auto &a : argv)
		args.push_back(a.data());
	args.push_back(nullptr);

	std::fflush(stdout);
	const pid_t pid = ::fork();
	if (pid == 0) {
		(void)::setpgid(0, 0);
		int null = ::open("/dev/null", O_RDONLY);
		if (null < 0 || !out.isValid() || ::dup2(null, 0) < 0 || ::dup2(out.get(), 1) < 0 ||
		    ::dup2(out.get(), 2) < 0)
			::_exit(126);
		::closefrom(3);
		::execv(args[0], args.data());
		::_exit(127);
	}
	return Running{pid, name, std::move(out), Clock::now()};
}

std::string output_of(const Running &r)
{
	std::string text;
	char buf[8192];
	ssize_t n;
	off_t off = 0;
	while ((n = ::pread(r.out.get(), buf, sizeof(buf), off)) > 0) {
		text.append(buf, static_cast<size_t>(n));
		off += n;
	}
	return text;
}

/* The reason a case gave for skipping ("SKIP: ..."), for the TAP directive. */
std::string skip_reason(const std::string &out)
{
	std::istringstream lines(out);
	std::string line;
	while (std::getline(lines, line))
		if (line.rfind("SKIP: ", 0) == 0)
			return line.substr(6);
	return "";
}

} // namespace

int run_tap(const TapRun &run)
{
	std::printf("1..%zu\n", run.names.size());
	std::fflush(stdout);
	size_t next = 0;
	unsigned number = 0;
	int failures = 0;
	std::vector<Running> running;
	while (next < run.names.size() || !running.empty()) {
		while (next < run.names.size() && running.size() < run.jobs)
			running.push_back(start_case(run, run.names[next++]));

		std::this_thread::sleep_for(std::chrono::milliseconds(20));
		for (auto it = running.begin(); it != running.end();) {
			int status = 0;
			const pid_t r = ::waitpid(it->pid, &status, WNOHANG);
			if (r == 0) {
				if (!it->killed && Clock::now() - it->start >
						       std::chrono::seconds(run.case_timeout_s)) {
					::kill(-it->pid, SIGKILL);
					it->killed = true;
				}
				++it;
				continue;
			}
			const double secs =
			    std::chrono::duration<double>(Clock::now() - it->start).count();
			const std::string out = output_of(*it);
			++number;
			if (r == it->pid && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
				std::printf("ok %u %s\n", number, it->name.c_str());
			} else if (r == it->pid && WIFEXITED(status) && WEXITSTATUS(status) == 77) {
				std::printf("ok %u %s # SKIP %s\n", number, it->name.c_str(),
					    skip_reason(out).c_str());
			} else {
				failures++;
				std::printf("not ok %u %s\n", number, it->name.c_str());
				std::istringstream lines(out);
				std::string line;
				while (std::getline(lines, line))
					std::printf("# %s\n", line.c_str());
				if (it->killed)
					std::printf("# killed after %d s\n", run.case_timeout_s);
				else if (r == it->pid && WIFSIGNALED(status))
					std::printf("# killed by signal %d\n", WTERMSIG(status));
				else if (r == it->pid)
					std::printf("# exit status %d\n", WEXITSTATUS(status));
				else
					std::printf("# waitpid: %s\n", std::strerror(errno));
			}
			std::printf("# %s: %.1f s\n", it->name.c_str(), secs);
			std::fflush(stdout);
			it = running.erase(it);
		}
	}
	return failures ? 1 : 0;
}

} // namespace fsvc::hostile
