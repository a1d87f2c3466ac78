/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Load: many mount/unmount cycles through ONE socket-activated (Accept=yes)
 * socket, with the real helper and a real server built on libfuse_service.
 *
 *   load-test --helper PATH --server PATH --socket-dir DIR [SEQUENTIAL [CONCURRENT]]
 *
 * Every cycle: the helper mounts (exit 0), the file "data" of the mount reads
 * back as the server serves it, umount; the server process then exits. At the
 * end the number of mounts, the activator's open fds and our descendant
 * processes must be back at their starting values, with zero failed cycles.
 * Timings are printed, never asserted.
 *
 * The test runs in a private mount namespace, so mounts made by other suites
 * running at the same time cannot disturb the count.
 */
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sched.h>
#include <signal.h>
#include <sstream>
#include <string>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "../common/spawn.h"
#include "../common/wait_listening.h"

namespace
{

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Config {
	std::string helper, server, socket_dir;
	int sequential = 500;
	int concurrent = 64;
};

std::string g_dir, g_subtype;
std::mutex g_print;
/*
 * Held around every fork and around every read through a mount: a child
 * forked by one thread must not inherit a file another thread has open on
 * its mount, or that umount would fail with EBUSY (a race of this test, not
 * of the code under test).
 */
std::mutex g_fork;

std::string read_file(const std::string &path)
{
	std::ifstream in(path);
	std::stringstream ss;
	ss << in.rdbuf();
	return ss.str();
}

/*
 * Mounts under our work directory. Not all mounts: even in a private
 * namespace, our copies of other suites' mounts vanish when those suites
 * remove their mountpoints (the kernel detaches mounts on a deleted
 * dentry in every namespace), which made the count flaky on a busy machine.
 */
size_t count_mounts()
{
	std::ifstream in("/proc/self/mountinfo");
	std::string line;
	const std::string under = g_dir + "/";
	size_t n = 0;
	while (std::getline(in, line)) {
		std::istringstream fields(line);
		std::string id, parent, devno, root, mountpoint;
		fields >> id >> parent >> devno >> root >> mountpoint;
		if (mountpoint.compare(0, under.size(), under) == 0)
			n++;
	}
	return n;
}

size_t count_fds(pid_t pid)
{
	size_t n = 0;
	std::error_code ec;
	for (auto it = fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
	     !ec && it != fs::directory_iterator(); it.increment(ec))
		n++;
	return n;
}

/* All processes descending from pid (not counting pid). */
size_t count_descendants(pid_t pid)
{
	std::vector<std::pair<pid_t, pid_t>> procs; /* pid, ppid */
	DIR *d = ::opendir("/proc");
	while (dirent *e = d ? ::readdir(d) : nullptr) {
		pid_t p = std::atoi(e->d_name);
		if (p <= 0)
			continue;
		std::string stat = read_file("/proc/" + std::to_string(p) + "/stat");
		size_t close = stat.rfind(')');
		if (close == std::string::npos)
			continue;
		std::istringstream rest(stat.substr(close + 2));
		char state;
		pid_t ppid;
		rest >> state >> ppid;
		procs.emplace_back(p, ppid);
	}
	if (d)
		::closedir(d);
	std::vector<pid_t> frontier{pid};
	size_t n = 0;
	while (!frontier.empty()) {
		pid_t parent = frontier.back();
		frontier.pop_back();
		for (auto [p, pp] : procs)
			if (pp == parent) {
				n++;
				frontier.push_back(p);
			}
	}
	return n;
}

pid_t spawn(const std::vector<std::string> &argv, const std::string &log)
{
	return fsvc::test::spawn(argv, log, log);
}

bool mounted_fuse(const std::string &mnt)
{
	std::ifstream in("/proc/self/mountinfo");
	std::string line;
	while (std::getline(in, line)) {
		std::istringstream f(line);
		std::string id, parent, dev, root, mp;
		f >> id >> parent >> dev >> root >> mp;
		if (mp == mnt && line.find(" - fuse." + g_subtype + " ") != std::string::npos)
			return true;
	}
	return false;
}

/* One mount/unmount cycle; returns the helper's run time, or < 0 on failure. */
double cycle(const Config &cfg, const std::string &mnt, int id)
{
	auto fail = [&](const std::string &why) {
		std::lock_guard lock(g_print);
		std::printf("cycle %d on %s: FAIL: %s\n", id, mnt.c_str(), why.c_str());
		return -1.0;
	};
	const std::string log = g_dir + "/helper-" + std::to_string(id) + ".log";
	const auto t0 = Clock::now();
	pid_t pid;
	{
		std::lock_guard lock(g_fork);
		pid = spawn({cfg.helper, g_dir + "/src", mnt, "-t", "fuse." + g_subtype}, log);
	}
	int status = 0;
	if (::waitpid(pid, &status, 0) != pid)
		return fail("waitpid");
	const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return fail("helper status " + std::to_string(status) + ": " + read_file(log));
	double result = ms;
	if (!mounted_fuse(mnt))
		result = fail("helper exited 0 but nothing is mounted");
	else {
		std::unique_lock lock(g_fork);
		const std::string data = read_file(mnt + "/data");
		lock.unlock();
		if (data != "hello\n")
			result = fail("data does not read back through the mount");
	}
	if (::umount2(mnt.c_str(), 0) < 0 && mounted_fuse(mnt)) {
		fail(std::string("umount: ") + std::strerror(errno));
		(void)::umount2(mnt.c_str(), MNT_DETACH);
		return -1;
	}
	(void)::unlink(log.c_str());
	return result;
}

double median(std::vector<double> v)
{
	if (v.empty())
		return 0;
	std::sort(v.begin(), v.end());
	return v[v.size() / 2];
}

/* Wait (bounded) until the servers of unmounted filesystems have exited. */
void settle(pid_t activator, size_t want_descendants)
{
	for (int i = 0; i < 3000; i++) {
		while (::waitpid(-1, nullptr, WNOHANG) > 0) {
		}
		if (count_descendants(::getpid()) <= want_descendants &&
		    count_descendants(activator) == 0)
			return;
		std::this_thread::sleep_for(std::chrono::milliseconds(10));
	}
}

int run(const Config &cfg)
{
	/* A private mount namespace: our counts, nobody else's. */
	if (::unshare(CLONE_NEWNS) < 0 ||
	    ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0) {
		std::printf("FAIL: private mount namespace: %s\n", std::strerror(errno));
		return 1;
	}
	(void)::prctl(PR_SET_CHILD_SUBREAPER, 1);
	char tmpl[] = "/tmp/fsvc-load-XXXXXX";
	if (!::mkdtemp(tmpl))
		return 1;
	g_dir = tmpl;
	g_subtype = "load" + std::to_string(::getpid());
	std::ofstream(g_dir + "/src") << "load\n";
	const int nmnt = std::max(1, cfg.concurrent);
	for (int i = 0; i < nmnt; i++)
		fs::create_directory(g_dir + "/mnt" + std::to_string(i));

	std::error_code ec;
	fs::create_directories(cfg.socket_dir, ec);
	const std::string sock = cfg.socket_dir + "/" + g_subtype;
	(void)::unlink(sock.c_str());
	const pid_t activator = spawn(
	    {"/usr/bin/systemd-socket-activate", "--seqpacket", "--accept", "-l", sock, cfg.server},
	    g_dir + "/activator.log");
	if (!fsvc::test::wait_listening(sock, std::chrono::seconds(5))) {
		std::fprintf(stderr, "the socket activator did not listen on %s\n", sock.c_str());
		::kill(activator, SIGTERM);
		::waitpid(activator, nullptr, 0);
		return 1;
	}

	const size_t mounts0 = count_mounts();
	const size_t fds0 = count_fds(activator);
	const size_t procs0 = count_descendants(::getpid());
	std::printf("start: %zu mounts, activator %d has %zu fds, %zu descendant processes\n",
		    mounts0, activator, fds0, procs0);

	int failures = 0;
	std::vector<double> seq_ms;
	const auto s0 = Clock::now();
	for (int i = 0; i < cfg.sequential; i++) {
		double ms = cycle(cfg, g_dir + "/mnt0", i);
		if (ms < 0)
			failures++;
		else
			seq_ms.push_back(ms);
	}
	const double seq_s = std::chrono::duration<double>(Clock::now() - s0).count();
	settle(activator, procs0);
	std::printf("sequential: %d cycles, %d failed, %.1f s, helper median %.1f ms\n",
		    cfg.sequential, failures, seq_s, median(seq_ms));

	std::vector<double> con_ms(cfg.concurrent, -1);
	std::atomic<int> con_failures{0};
	const auto c0 = Clock::now();
	{
		std::vector<std::thread> threads;
		for (int i = 0; i < cfg.concurrent; i++)
			threads.emplace_back([&, i] {
				con_ms[i] = cycle(cfg, g_dir + "/mnt" + std::to_string(i),
						  cfg.sequential + i);
				if (con_ms[i] < 0)
					con_failures++;
			});
		for (auto &t : threads)
			t.join();
	}
	const double con_s = std::chrono::duration<double>(Clock::now() - c0).count();
	settle(activator, procs0);
	failures += con_failures;
	std::vector<double> ok_ms;
	for (double ms : con_ms)
		if (ms >= 0)
			ok_ms.push_back(ms);
	std::printf("concurrent: %d cycles, %d failed, %.1f s, helper median %.1f ms\n",
		    cfg.concurrent, con_failures.load(), con_s, median(ok_ms));

	const size_t mounts1 = count_mounts();
	const size_t fds1 = count_fds(activator);
	const size_t procs1 = count_descendants(::getpid());
	std::printf("end:   %zu mounts, activator %d has %zu fds, %zu descendant processes\n",
		    mounts1, activator, fds1, procs1);

	int rc = 0;
	if (failures) {
		std::printf("FAIL: %d cycles failed\n", failures);
		rc = 1;
	}
	if (mounts1 != mounts0 || fds1 != fds0 || procs1 != procs0) {
		std::printf(
		    "FAIL: mounts, fds or processes did not return to their start values\n");
		std::printf("%s", read_file(g_dir + "/activator.log").c_str());
		rc = 1;
	}

	::kill(activator, SIGTERM);
	::waitpid(activator, nullptr, 0);
	(void)::unlink(sock.c_str());
	for (int i = 0; i < nmnt; i++)
		(void)::umount2((g_dir + "/mnt" + std::to_string(i)).c_str(), MNT_DETACH);
	fs::remove_all(g_dir, ec);
	std::printf("%s\n", rc ? "FAILED" : "ok");
	return rc;
}

} // namespace

int main(int argc, char **argv)
{
	std::setvbuf(stdout, nullptr, _IOLBF, 0);
	if (argc < 7 || std::strcmp(argv[1], "--helper") || std::strcmp(argv[3], "--server") ||
	    std::strcmp(argv[5], "--socket-dir")) {
		std::fprintf(stderr,
			     "usage: load-test --helper PATH --server PATH --socket-dir DIR "
			     "[SEQUENTIAL [CONCURRENT]]\n");
		return 2;
	}
	if (::geteuid() != 0) {
		std::printf("SKIP: the load test needs root (mounts)\n");
		return 77;
	}
	Config cfg{argv[2], argv[4], argv[6]};
	if (argc > 7)
		cfg.sequential = std::atoi(argv[7]);
	if (argc > 8)
		cfg.concurrent = std::atoi(argv[8]);
	return run(cfg);
}
