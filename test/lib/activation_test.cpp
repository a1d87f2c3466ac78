/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * listen_fds() against libsystemd's sd_listen_fds(): for each environment,
 * a fork+exec'd probe (so LISTEN_PID can be the probe's own pid) reports
 * the return value, fd 3's close-on-exec flag and the variables left; ours
 * must match libsystemd's exactly. The checks of the socket kind run here
 * on real sockets.
 */
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <fcntl.h>
#include <optional>
#include <string>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "lib/activation.h"

#ifndef PROBE_PATH
#error "PROBE_PATH must name activation_probe"
#endif

namespace
{

struct Env {
	std::optional<std::string> pid; /* "SELF": the probe's own pid */
	std::optional<std::string> fds;
	std::optional<std::string> names;
	bool fd3_open = true;
};

/* Run the probe in a child with env and a fresh fd 3 (no FD_CLOEXEC); its stdout line. */
std::string probe(const char *impl, const Env &env, bool unset)
{
	int out[2];
	if (pipe2(out, O_CLOEXEC) < 0)
		return "pipe failed";
	pid_t pid = fork();
	if (pid == 0) {
		int sv[2];
		if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0)
			_exit(3);
		/* fd 3 is either a socket without close-on-exec, or closed. */
		if (env.fd3_open) {
			if (sv[0] != 3 && dup2(sv[0], 3) < 0)
				_exit(3);
		} else {
			close(3);
		}
		dup2(out[1], 1);
		clearenv();
		if (env.pid)
			setenv("LISTEN_PID",
			       *env.pid == "SELF" ? std::to_string(getpid()).c_str()
						  : env.pid->c_str(),
			       1);
		if (env.fds)
			setenv("LISTEN_FDS", env.fds->c_str(), 1);
		if (env.names)
			setenv("LISTEN_FDNAMES", env.names->c_str(), 1);
		execl(PROBE_PATH, PROBE_PATH, impl, unset ? "unset" : "keep", nullptr);
		_exit(4);
	}
	close(out[1]);
	std::string s;
	char buf[256];
	ssize_t n;
	while ((n = read(out[0], buf, sizeof(buf))) > 0)
		s.append(buf, static_cast<size_t>(n));
	close(out[0]);
	int status = 0;
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return "probe failed " + std::to_string(status);
	return s;
}

std::vector<Env> environments()
{
	std::vector<Env> v;
	const std::array<std::optional<std::string>, 17> pids = {
	    std::nullopt, "SELF", "1",  "0",   "-1", "abc", "",    "-0",       "99999999999",
	    "0x1",        "0b1",  "01", "0o1", "+1", "0x",  "010", "012345670"};
	const std::array<std::optional<std::string>, 26> fds = {
	    std::nullopt, "1",   "2",   "0",  "-1",         "x",   "",     "1x",  " 1",
	    "0b1",        "0o1", "0x1", "01", "2147483647", "010", "0x10", "0X1", "08",
	    "0b",         "0x",  "+1",  "1 ", "1\n",        "\t1", "07",   "0b0"};
	for (const auto &p : pids)
		for (const auto &f : fds) {
			Env e;
			e.pid = p;
			e.fds = f;
			v.push_back(e);
		}
	v.push_back({"SELF", "1", "sock", true});
	v.push_back({"SELF", "1", std::nullopt, false});
	v.push_back({"0b1", "1", std::nullopt, true});
	v.push_back({"  1", "1", std::nullopt, true});
	return v;
}

std::string describe(const Env &e)
{
	auto s = [](const std::optional<std::string> &o) { return o ? "'" + *o + "'" : "unset"; };
	return "LISTEN_PID=" + s(e.pid) + " LISTEN_FDS=" + s(e.fds) +
	       " LISTEN_FDNAMES=" + s(e.names) + (e.fd3_open ? "" : " fd3 closed");
}

TEST(Activation, MatchesSdListenFds)
{
	for (const Env &e : environments())
		for (bool unset : {false, true})
			EXPECT_EQ(probe("ours", e, unset), probe("sd", e, unset))
			    << describe(e) << (unset ? " unset" : "");
}

TEST(Activation, PassedSocketBecomesCloseOnExec)
{
	Env e{"SELF", "1", std::nullopt, true};
	EXPECT_EQ(probe("ours", e, false), "r=1 cloexec=1 pid=1 fds=1 names=0\n");
	EXPECT_EQ(probe("ours", e, true), "r=1 cloexec=1 pid=0 fds=0 names=0\n");
}

TEST(Activation, NotForUs)
{
	Env e{"1", "1", "x", true};
	EXPECT_EQ(probe("ours", e, false), "r=0 cloexec=0 pid=1 fds=1 names=1\n");
	EXPECT_EQ(probe("ours", e, true), "r=0 cloexec=0 pid=0 fds=0 names=0\n");
}

TEST(Activation, MalformedIsAnError)
{
	Env e{"SELF", "x", std::nullopt, true};
	EXPECT_EQ(probe("ours", e, false), "r=-22 cloexec=0 pid=1 fds=1 names=0\n");
	Env closed{"SELF", "1", std::nullopt, false};
	EXPECT_EQ(probe("ours", closed, false), "r=-9 cloexec=-1 pid=1 fds=1 names=0\n");
}

TEST(Activation, SocketKind)
{
	int sv[2];
	ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	EXPECT_EQ(fsvc::socket_kind(sv[0]), fsvc::SocketKind::ConnectedPacket);
	close(sv[0]);
	close(sv[1]);
	ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	EXPECT_EQ(fsvc::socket_kind(sv[0]), fsvc::SocketKind::NotConnectedPacket);
	close(sv[0]);
	close(sv[1]);
	int l = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	ASSERT_GE(l, 0);
	sa_family_t autobind = AF_UNIX; /* an abstract name of the kernel's choosing */
	ASSERT_EQ(bind(l, reinterpret_cast<sockaddr *>(&autobind), sizeof(autobind)), 0);
	ASSERT_EQ(listen(l, 1), 0);
	EXPECT_EQ(fsvc::socket_kind(l), fsvc::SocketKind::NotConnectedPacket);
	close(l);
	int in = socket(AF_INET, SOCK_DGRAM, 0);
	ASSERT_GE(in, 0);
	EXPECT_EQ(fsvc::socket_kind(in), fsvc::SocketKind::NotUnix);
	close(in);
	int p[2];
	ASSERT_EQ(pipe(p), 0);
	EXPECT_EQ(fsvc::socket_kind(p[0]), fsvc::SocketKind::NotSocket);
	close(p[0]);
	close(p[1]);
	EXPECT_EQ(fsvc::socket_kind(-1), fsvc::SocketKind::NotSocket);
}

} // namespace
