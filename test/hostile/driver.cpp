/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "driver.h"

#include "../common/spawn.h"
#include "../common/wait_listening.h"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <grp.h>
#include <sstream>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace fsvc::hostile
{

namespace
{

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

using test::kNobody;
using test::kNogroup;
using test::spawn;

struct Checks {
	int failures = 0;
	void fail(const std::string &what)
	{
		std::printf("FAIL: %s\n", what.c_str());
		failures++;
	}
};

std::string read_file(const std::string &path)
{
	std::ifstream in(path);
	std::stringstream ss;
	ss << in.rdbuf();
	return ss.str();
}

void write_file(const std::string &path, const std::string &text, mode_t mode, uid_t uid, gid_t gid)
{
	std::ofstream(path) << text;
	(void)::chmod(path.c_str(), mode);
	if (::chown(path.c_str(), uid, gid) < 0)
		std::perror(path.c_str());
}

void make_dir(const std::string &path, mode_t mode, uid_t uid, gid_t gid)
{
	(void)::mkdir(path.c_str(), mode);
	(void)::chmod(path.c_str(), mode);
	if (::chown(path.c_str(), uid, gid) < 0)
		std::perror(path.c_str());
}

/* Children of pid, as the kernel lists them. */
std::vector<pid_t> children_of(pid_t pid)
{
	std::vector<pid_t> out;
	const std::string dir = "/proc/" + std::to_string(pid) + "/task";
	std::error_code ec;
	for (const auto &task : fs::directory_iterator(dir, ec)) {
		std::ifstream in(task.path() / "children");
		pid_t child;
		while (in >> child)
			out.push_back(child);
	}
	return out;
}

std::string cmdline_of(pid_t pid)
{
	std::string s = read_file("/proc/" + std::to_string(pid) + "/cmdline");
	for (char &c : s)
		if (c == '\0')
			c = ' ';
	return s;
}

/* Wait for pid until the deadline; kill it when time is up. */
bool wait_for(pid_t pid, int seconds, int *status)
{
	const auto end = Clock::now() + std::chrono::seconds(seconds);
	for (;;) {
		pid_t r = ::waitpid(pid, status, WNOHANG);
		if (r == pid)
			return true;
		if (r < 0)
			return false;
		if (Clock::now() > end) {
			::kill(pid, SIGKILL);
			::waitpid(pid, status, 0);
			return false;
		}
		std::this_thread::sleep_for(std::chrono::milliseconds(5));
	}
}

/* Detach whatever is still mounted under dir; returns what was found. */
std::vector<std::string> sweep_mounts(const std::string &dir)
{
	std::vector<std::string> found = HostilePeer::mounts_at(dir);
	for (auto it = found.rbegin(); it != found.rend(); ++it)
		(void)::umount2(it->c_str(), MNT_DETACH);
	return found;
}

std::string expand(const std::string &arg, const std::string &dir)
{
	std::string out;
	for (char c : arg) {
		if (c == '@')
			out += dir;
		else
			out.push_back(c);
	}
	return out;
}

} // namespace

int run_scenario(const Scenario &s, const DriverConfig &cfg)
{
	if (::geteuid() != 0) {
		std::printf("SKIP: the hostile suite needs root (setuid helper, mounts)\n");
		return 77;
	}
	if (::access(cfg.helper.c_str(), X_OK) != 0) {
		std::printf("SKIP: helper %s not built\n", cfg.helper.c_str());
		return 77;
	}
	/* Anything our children leave behind is reparented to us: counted below. */
	(void)::prctl(PR_SET_CHILD_SUBREAPER, 1);

	Checks checks;
	char tmpl[] = "/tmp/fsvc-hostile-XXXXXX";
	if (!::mkdtemp(tmpl)) {
		std::printf("FAIL: mkdtemp: %s\n", std::strerror(errno));
		return 1;
	}
	const Paths p{tmpl};
	const bool nobody = s.as == RunAs::Nobody;
	const uid_t owner = nobody ? kNobody : 0;
	const gid_t group = nobody ? kNogroup : 0;
	(void)::chmod(p.dir.c_str(), 0755);
	write_file(p.src(), "hostile source\n", 0644, 0, 0);
	write_file(p.secret(), "root only\n", 0600, 0, 0);
	make_dir(p.mnt(), 0755, owner, group);
	make_dir(p.rootonly(), 0755, 0, 0);
	write_file(p.file(), "", 0644, owner, group);
	write_file(p.at("file.other"), "", 0644, owner, group);
	make_dir(p.at("private"), 0700, 0, 0);
	make_dir(p.private_mnt(), 0755, owner, group);

	const std::string subtype = "hx" + std::to_string(::getpid());
	const std::string sock = cfg.socket_dir + "/" + subtype;
	std::error_code ec;
	fs::create_directories(cfg.socket_dir, ec);
	(void)::chmod(cfg.socket_dir.c_str(), 0755);
	(void)::unlink(sock.c_str());

	const pid_t activator = spawn({"systemd-socket-activate", "--seqpacket", "--accept", "-l",
				       sock, cfg.self, "--serve", s.name, p.dir},
				      p.at("server.log"), p.at("server.log"), false);
	if (!test::wait_listening(sock, std::chrono::seconds(5)))
		checks.fail("the socket activator did not listen on " + sock);
	if (nobody)
		(void)::chmod(sock.c_str(), 0666);

	/* The helper: as root, or a setuid-root copy run by nobody. */
	std::string helper = cfg.helper;
	std::vector<std::string> argv;
	if (nobody) {
		make_dir(p.at("bin"), 0755, 0, 0);
		helper = p.at("bin/fuservicemount3");
		fs::copy_file(cfg.helper, helper, ec);
		if (::chown(helper.c_str(), 0, 0) < 0)
			std::perror(helper.c_str());
		(void)::chmod(helper.c_str(), 04755);
		struct stat st;
		if (::stat("/dev/fuse", &st) == 0 && (st.st_mode & 0666) != 0666)
			(void)::chmod("/dev/fuse", 0666);
	} else if (!cfg.wrapper.empty()) {
		std::istringstream words(cfg.wrapper);
		std::string w;
		while (words >> w)
			argv.push_back(w);
	}
	argv.push_back(helper);
	if (s.source)
		argv.push_back(p.at(s.source));
	argv.push_back(p.at(s.mountpoint));
	argv.push_back("-t");
	argv.push_back("fuse." + subtype);
	for (const auto &a : s.extra_args)
		argv.push_back(expand(a, p.dir));
	if (!nobody)
		argv.push_back("--timeout=" + std::to_string(s.timeout_s));

	std::printf("scenario %s: helper as %s:", s.name, nobody ? "nobody (setuid copy)" : "root");
	for (const auto &a : argv)
		std::printf(" %s", a.c_str());
	std::printf("\n");

	int status = 0;
	const pid_t helper_pid = spawn(argv, p.at("helper.out"), p.at("helper.err"), nobody);
	if (!wait_for(helper_pid, 120, &status))
		checks.fail("the helper did not exit within 120 s (killed)");

	/* The fake server notices the hang-up and writes its verdict. */
	for (int i = 0; i < 3000 && !children_of(activator).empty(); i++)
		std::this_thread::sleep_for(std::chrono::milliseconds(10));
	for (pid_t child : children_of(activator)) {
		checks.fail("fake server " + std::to_string(child) +
			    " still running: " + cmdline_of(child));
		::kill(child, SIGKILL);
	}
	::kill(activator, SIGTERM);
	int astatus;
	if (!wait_for(activator, 10, &astatus))
		checks.fail("socket activator did not stop on SIGTERM");

	/* No stray process: we are the subreaper of everything started above. */
	for (int round = 0; round < 50; round++) {
		while (::waitpid(-1, nullptr, WNOHANG) > 0) {
		}
		if (children_of(::getpid()).empty())
			break;
		std::this_thread::sleep_for(std::chrono::milliseconds(10));
	}
	for (pid_t stray : children_of(::getpid())) {
		checks.fail("stray process " + std::to_string(stray) + ": " + cmdline_of(stray));
		::kill(stray, SIGKILL);
		::waitpid(stray, nullptr, 0);
	}

	/* No mount left anywhere under the work directory. */
	for (const auto &m : sweep_mounts(p.dir))
		checks.fail("mount left on " + m);

	/* The fake server's verdict on the conversation. */
	const std::string report = read_file(p.report());
	std::printf("--- fake server report ---\n%s", report.empty() ? "(none)\n" : report.c_str());
	if (report.rfind("PASS\n", 0) != 0)
		checks.fail("the fake server's checks failed (report above)");
	const std::string server_log = read_file(p.at("server.log"));
	if (!server_log.empty() && (report.rfind("PASS\n", 0) != 0 || checks.failures))
		std::printf("--- activator/server log ---\n%s", server_log.c_str());

	/* A nonzero exit (or 0 where the case says so), not a crash. */
	if (WIFSIGNALED(status))
		checks.fail("helper killed by signal " + std::to_string(WTERMSIG(status)));
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && !s.succeeds)
		checks.fail("helper exited 0");
	else if (WIFEXITED(status) && WEXITSTATUS(status) != 0 && s.succeeds)
		checks.fail("helper exited " + std::to_string(WEXITSTATUS(status)) + ", not 0");
	else if (WIFEXITED(status) && !cfg.wrapper.empty() && !nobody && WEXITSTATUS(status) == 99)
		checks.fail("the wrapper (" + cfg.wrapper + ") reported errors (exit 99)");

	/* One-line messages with the fixed prefix, and the expected one. */
	const std::string err = read_file(p.at("helper.err"));
	std::printf("--- helper stderr (exit %d) ---\n%s",
		    WIFEXITED(status) ? WEXITSTATUS(status) : -1, err.c_str());
	std::istringstream lines(err);
	std::string line;
	int nlines = 0;
	while (std::getline(lines, line)) {
		/* valgrind's own lines ("==pid== ...", "--pid-- ...") are not the helper's */
		if (!cfg.wrapper.empty() && (line.rfind("==", 0) == 0 || line.rfind("--", 0) == 0))
			continue;
		nlines++;
		if (line.rfind("fuservicemount3: ", 0) != 0)
			checks.fail("stderr line without the program prefix: " + line);
	}
	if (nlines == 0 && !s.succeeds)
		checks.fail("the helper failed silently");
	if (err.find(s.stderr_has) == std::string::npos)
		checks.fail(std::string("stderr lacks '") + s.stderr_has + "'");
	if (s.stderr_lacks && err.find(s.stderr_lacks) != std::string::npos)
		checks.fail(std::string("stderr has '") + s.stderr_lacks + "'");
	if (!read_file(p.at("helper.out")).empty())
		checks.fail("the helper wrote to stdout: " + read_file(p.at("helper.out")));

	(void)::unlink(sock.c_str());
	if (checks.failures == 0 || !std::getenv("FSVC_KEEP")) {
		/* Only after the mount sweep: never descend into a live mount. */
		fs::remove_all(p.dir, ec);
	} else {
		std::printf("work directory kept: %s\n", p.dir.c_str());
	}
	std::printf("%s: %s\n", s.name, checks.failures ? "FAILED" : "ok");
	return checks.failures ? 1 : 0;
}

} // namespace fsvc::hostile
