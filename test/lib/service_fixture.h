/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A test-side mount helper for libfuse_service, in-process and without
 * threads: the library is socket-activated on fd 3 (LISTEN_FDS=1,
 * LISTEN_PID=us) and talks over a real socketpair(AF_UNIX, SOCK_SEQPACKET)
 * to the peer end the test holds. SEQPACKET queues whole packets, so the
 * fake helper queues its answers before the library asks, and reads the
 * library's commands afterwards, decoded with the protocol core. No fork,
 * no threads: deterministic and sanitizer-friendly.
 *
 * Every test ends with an fd census against the state before it started
 * (fd 3 and the harness's own fds set aside), and the log is captured
 * through fuse_set_log_func().
 */
#pragma once

#define FUSE_USE_VERSION 319
#include <fuse.h>
#include <fuse_lowlevel.h>
#include <fuse_service.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <optional>
#include <string>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

#include "core/argv_memfd.h"
#include "core/packet_io.h"
#include "core/protocol.h"
#include "test/core/test_util.h"

namespace fsvc::test
{

inline std::vector<std::string> &captured_log()
{
	static std::vector<std::string> lines;
	return lines;
}

inline void capture_log(enum fuse_log_level, const char *fmt, va_list ap)
{
	char line[2048];
	std::vsnprintf(line, sizeof(line), fmt, ap);
	captured_log().emplace_back(line);
}

class ServiceTest : public ::testing::Test
{
protected:
	static constexpr const char *kEnv[] = {"LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES",
					       "JOURNAL_STREAM", "INVOCATION_ID"};

	void SetUp() override
	{
		for (const char *name : kEnv) {
			const char *v = std::getenv(name);
			saved_env_.push_back(v ? std::optional<std::string>(v) : std::nullopt);
			::unsetenv(name);
		}
		cwd_.reset(::open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
		/* fd 3 is the activation fd: move whatever the harness has there. */
		if (fd_is_open(3)) {
			saved3_.reset(::fcntl(3, F_DUPFD_CLOEXEC, 100));
			::close(3);
		}
		captured_log().clear();
		fuse_set_log_func(capture_log);
		baseline_ = open_fds();
	}

	void TearDown() override
	{
		if (se_)
			fuse_session_destroy(se_);
		se_ = nullptr;
		fuse_service_destroy(&sf_);
		fuse_opt_free_args(&args_);
		std::free(opts_.mountpoint);
		opts_.mountpoint = nullptr;
		peer_.reset();
		if (fd_is_open(3)) {
			/* Only a socket that failed the activation checks is not ours to close. */
			EXPECT_FALSE(library_owns_fd3_) << "the library left fd 3 open";
			::close(3);
		}
		EXPECT_EQ(open_fds(), baseline_) << "fd leaked";

		fuse_set_log_func(nullptr);
		if (saved3_.isValid())
			::dup2(saved3_.get(), 3);
		saved3_.reset();
		if (cwd_.isValid() && ::fchdir(cwd_.get()) != 0)
			ADD_FAILURE() << "cannot restore cwd";
		cwd_.reset();
		for (size_t i = 0; i < saved_env_.size(); i++) {
			if (saved_env_[i])
				::setenv(kEnv[i], saved_env_[i]->c_str(), 1);
			else
				::unsetenv(kEnv[i]);
		}
	}

	/* Put the server end of a fresh pair on fd 3 and announce it. */
	void activate()
	{
		auto pair = seqpacket_pair();
		ASSERT_TRUE(pair.a.isValid());
		place_on_fd3(std::move(pair.a));
		peer_ = std::move(pair.b);
		set_listen_env(1);
	}
	/* Move fd to 3 without FD_CLOEXEC, as systemd passes it. */
	static void place_on_fd3(UniqueFD fd)
	{
		if (fd.get() != 3) {
			ASSERT_EQ(::dup2(fd.get(), 3), 3);
			fd.reset();
		} else {
			(void)fd.release();
		}
		ASSERT_EQ(::fcntl(3, F_SETFD, 0), 0);
	}
	static void set_listen_env(int nfds)
	{
		::setenv("LISTEN_FDS", std::to_string(nfds).c_str(), 1);
		::setenv("LISTEN_PID", std::to_string(::getpid()).c_str(), 1);
	}

	/* ---- what the fake helper sends ---- */

	void send_bytes(const Bytes &b, std::vector<int> fds = {})
	{
		ASSERT_EQ(send_raw(peer_.get(), b, fds), static_cast<ssize_t>(b.size()));
	}
	void hello(uint32_t flags = 0) { send_bytes(proto::encode(proto::Hello{1, 1, flags})); }
	void file_reply(const std::string &path, int fd, uint32_t error = 0)
	{
		send_bytes(proto::encode(proto::OpenReply{error, path}),
			   fd >= 0 ? std::vector<int>{fd} : std::vector<int>{});
	}
	void argv_file(std::vector<std::string_view> args)
	{
		auto fd = write_argv_memfd(args);
		ASSERT_TRUE(fd.ok()) << fd.error();
		file_reply("argv", fd->get());
	}
	/* A memfd with arbitrary content, as a hostile helper would write it. */
	void raw_argv_file(const Bytes &content)
	{
		UniqueFD fd(::memfd_create("hostile argv", MFD_CLOEXEC));
		ASSERT_TRUE(fd.isValid());
		if (!content.empty()) {
			ASSERT_EQ(::pwrite(fd.get(), content.data(), content.size(), 0),
				  static_cast<ssize_t>(content.size()));
		}
		file_reply("argv", fd.get());
	}
	void fusedev()
	{
		/* A real /dev/fuse fd: the session adopts it at mount time. */
		UniqueFD fd(::open("/dev/fuse", O_RDWR | O_CLOEXEC));
		if (!fd.isValid())
			fd.reset(::open("/dev/null", O_RDWR | O_CLOEXEC));
		ASSERT_TRUE(fd.isValid());
		file_reply("fusedev", fd.get());
	}
	void reply(uint32_t error = 0) { send_bytes(proto::encode(proto::SimpleReply{error})); }
	void hang_up() { peer_.reset(); }

	/* The whole accept conversation, answered correctly. */
	void accept_ok(std::vector<std::string_view> helper_args, uint32_t flags = 0)
	{
		activate();
		hello(flags);
		argv_file(helper_args);
		fusedev();
		ASSERT_EQ(fuse_service_accept(&sf_), 0);
		ASSERT_NE(sf_, nullptr);
		ASSERT_EQ(next_packet(), proto::encode(proto::HelloReply{}));
	}

	/* accept, append_args, parse, fuse_session_new: ready for session_mount. */
	void prepare_mount(std::vector<std::string_view> helper_args,
			   std::vector<std::string> server_argv = {"/usr/libexec/myfs"})
	{
		accept_ok(helper_args);
		set_args(server_argv);
		ASSERT_EQ(fuse_service_append_args(sf_, &args_), 0);
		ASSERT_EQ(fuse_service_parse_cmdline_opts(&args_, &opts_), 0);
		static const fuse_lowlevel_ops ops{};
		se_ = fuse_session_new(&args_, &ops, sizeof(ops), nullptr);
		ASSERT_NE(se_, nullptr) << (captured_log().empty() ? "" : captured_log().back());
	}

	void set_args(const std::vector<std::string> &argv)
	{
		fuse_opt_free_args(&args_);
		for (const auto &a : argv)
			ASSERT_EQ(fuse_opt_add_arg(&args_, a.c_str()), 0);
	}

	/* ---- what the fake helper receives ---- */

	Bytes next_packet()
	{
		auto p = recv_packet(peer_.get(), FdPolicy::Refuse, 0);
		if (!p)
			return {};
		return std::move(p->data);
	}
	/* The next command the library sent, or nullopt when there is none. */
	std::optional<proto::Command> next_command()
	{
		auto p = recv_packet(peer_.get(), FdPolicy::Refuse, 0);
		if (!p)
			return std::nullopt;
		auto c = proto::decode_command(p->data);
		if (!c) {
			ADD_FAILURE() << "undecodable command " << c.error();
			return std::nullopt;
		}
		return c.value();
	}
	/* The peer has nothing left to read (but is still connected). */
	bool nothing_sent()
	{
		return recv_packet(peer_.get(), FdPolicy::Refuse, 0).error() == -ETIMEDOUT;
	}

	bool log_mentions(const std::string &needle)
	{
		for (const auto &l : captured_log())
			if (l.find(needle) != std::string::npos)
				return true;
		return false;
	}

	fuse_service *sf_ = nullptr;
	fuse_session *se_ = nullptr;
	fuse_args args_ = FUSE_ARGS_INIT(0, nullptr);
	fuse_cmdline_opts opts_{};
	UniqueFD peer_;
	std::set<int> baseline_;
	bool library_owns_fd3_ = true;

private:
	std::vector<std::optional<std::string>> saved_env_;
	UniqueFD saved3_;
	UniqueFD cwd_;
};

template <typename T>
const T *as(const std::optional<proto::Command> &c)
{
	return c ? std::get_if<T>(&*c) : nullptr;
}

} // namespace fsvc::test
