/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Adversarial servers against the real helper.
 *
 *   hostile-test --tap [-jN] --helper PATH --socket-dir DIR [SCENARIO...]
 *                     every case (or those named), each in its own process, N
 *                     at a time (default 2): one TAP line per case (the meson test)
 *   hostile-test --helper PATH --socket-dir DIR SCENARIO   run one case
 *   hostile-test --list                                    the case names
 *   hostile-test --serve SCENARIO WORKDIR                  the fake server, as started
 *                                                          by systemd-socket-activate
 */
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unistd.h>

#include "driver.h"
#include "scenarios.h"
#include "tap_runner.h"

using namespace fsvc::hostile;

namespace
{

int serve(const char *name, const char *workdir)
{
	const Scenario *s = find_scenario(name);
	const char *pid = std::getenv("LISTEN_PID");
	const char *nfds = std::getenv("LISTEN_FDS");
	if (!s || !pid || !nfds || std::atoi(pid) != ::getpid() || std::atoi(nfds) != 1) {
		std::fprintf(stderr, "hostile server: not socket-activated for a known case\n");
		return 2;
	}
	HostilePeer c(3, Paths{workdir});
	s->serve(c);
	c.write_report();
	return 0;
}

std::string self_path()
{
	char self[PATH_MAX] = {};
	if (::readlink("/proc/self/exe", self, sizeof(self) - 1) < 0)
		return "";
	return self;
}

int usage();

/* The meson test: every case (or the ones named) as TAP subtests. */
int tap(int argc, char **argv)
{
	TapRun run;
	run.self = self_path();
	int i = 2;
	if (i < argc && std::strncmp(argv[i], "-j", 2) == 0) {
		const int n = std::atoi(argv[i] + 2);
		if (n < 1)
			return usage();
		run.jobs = static_cast<unsigned>(n);
		i++;
	}
	if (argc - i < 4 || std::strcmp(argv[i], "--helper") != 0 ||
	    std::strcmp(argv[i + 2], "--socket-dir") != 0 || run.self.empty())
		return usage();
	run.case_args.assign(argv + i, argv + i + 4);
	for (i += 4; i < argc; i++) {
		if (!find_scenario(argv[i])) {
			std::fprintf(stderr, "hostile-test: no case named '%s'\n", argv[i]);
			return 2;
		}
		run.names.push_back(argv[i]);
	}
	if (run.names.empty())
		for (const Scenario &s : all_scenarios())
			run.names.push_back(s.name);
	return run_tap(run);
}

int usage()
{
	std::fprintf(
	    stderr, "usage: hostile-test --tap [-jN] --helper PATH --socket-dir DIR [SCENARIO...]\n"
		    "       hostile-test --helper PATH --socket-dir DIR SCENARIO\n"
		    "       hostile-test --list\n");
	return 2;
}

} // namespace

int main(int argc, char **argv)
{
	if (argc >= 2 && std::strcmp(argv[1], "--tap") == 0)
		return tap(argc, argv);
	if (argc == 4 && std::strcmp(argv[1], "--serve") == 0)
		return serve(argv[2], argv[3]);
	if (argc == 2 && std::strcmp(argv[1], "--list") == 0) {
		for (const Scenario &s : all_scenarios())
			std::printf("%s\n", s.name);
		return 0;
	}
	if (argc != 6 || std::strcmp(argv[1], "--helper") != 0 ||
	    std::strcmp(argv[3], "--socket-dir") != 0)
		return usage();
	const Scenario *s = find_scenario(argv[5]);
	if (!s) {
		std::fprintf(stderr, "hostile-test: no case named '%s'\n", argv[5]);
		return 2;
	}
	const std::string self = self_path();
	if (self.empty())
		return 1;
	DriverConfig cfg{argv[2], argv[4], self, ""};
	if (const char *w = std::getenv("FSVC_HELPER_WRAPPER"))
		cfg.wrapper = w;
	std::setvbuf(stdout, nullptr, _IOLBF, 0);
	return run_scenario(*s, cfg);
}
