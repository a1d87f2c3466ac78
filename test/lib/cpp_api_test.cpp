/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The C++ API (fuse_service.hpp) against the fake helper of
 * service_fixture.h: every wrapper, the three outcomes of accept(), the
 * error kinds of a file request (a refusal, an invalid request, a broken
 * conversation, including the hostile replies), the phases, and the
 * goodbye the destructors send. The fixture's census checks after each
 * test that no descriptor leaked.
 */
#include "service_fixture.h"

#include <fuse_service.hpp>

#include <sys/mount.h>
#include <sys/stat.h>

using namespace fsvc;
using namespace fsvc::proto;
using namespace fsvc::test;
using fsvc::Accepted;
using fsvc::FileError;

namespace
{

class CppApi : public ServiceTest
{
protected:
	/* The whole accept conversation, answered correctly, through fsvc::accept(). */
	fsvc::Service accept_service(std::vector<std::string_view> helper_args, uint32_t flags = 0)
	{
		activate();
		hello(flags);
		argv_file(std::move(helper_args));
		fusedev();
		Accepted accepted = fsvc::accept();
		EXPECT_EQ(accepted.outcome(), Accepted::Outcome::service);
		EXPECT_EQ(accepted.error(), 0);
		EXPECT_EQ(next_packet(), encode(HelloReply{}));
		return std::move(accepted).service();
	}

	/* A main()-style argv that outlives the call. */
	char **argv_of(std::vector<std::string> args)
	{
		own_ = std::move(args);
		own_ptrs_.clear();
		for (auto &a : own_)
			own_ptrs_.push_back(a.data());
		own_ptrs_.push_back(nullptr);
		return own_ptrs_.data();
	}
	int argc() const { return static_cast<int>(own_.size()); }

	static std::vector<std::string> strings(const fsvc::Args &args)
	{
		return {args.begin(), args.end()};
	}
	static std::vector<std::string> strings(std::span<const std::string_view> v)
	{
		return {v.begin(), v.end()};
	}

	static bool same_file(int fd, const char *path)
	{
		struct stat a, b;
		return ::fstat(fd, &a) == 0 && ::stat(path, &b) == 0 && a.st_dev == b.st_dev &&
		       a.st_ino == b.st_ino;
	}
	static fsvc::UniqueFD null_fd()
	{
		return fsvc::UniqueFD(::open("/dev/null", O_RDONLY | O_CLOEXEC));
	}

	/* A session over the accepted service's args, ready for ReadyService::mount. */
	void new_session(fsvc::Args &args)
	{
		static const fuse_lowlevel_ops ops{};
		se_ = fuse_session_new(args.get(), &ops, sizeof(ops), nullptr);
		ASSERT_NE(se_, nullptr) << (captured_log().empty() ? "" : captured_log().back());
	}

	/* The mount commands the library sent, up to MOUNT. */
	std::vector<Command> mount_commands()
	{
		std::vector<Command> out;
		while (auto c = next_command()) {
			out.push_back(*c);
			if (std::holds_alternative<MountCommand>(*c))
				break;
		}
		return out;
	}

private:
	std::vector<std::string> own_;
	std::vector<char *> own_ptrs_;
};

template <typename T>
const T *find(const std::vector<Command> &cmds)
{
	for (const auto &c : cmds)
		if (auto *p = std::get_if<T>(&c))
			return p;
	return nullptr;
}

} // namespace

/* ---- accept: three outcomes ---- */

TEST_F(CppApi, NotActivated)
{
	Accepted accepted = fsvc::accept();
	EXPECT_EQ(accepted.outcome(), Accepted::Outcome::not_activated);
	EXPECT_EQ(accepted.error(), 0);
	EXPECT_TRUE(captured_log().empty());

	/* Taking a service out of it gives an empty one: every call is -EBADF. */
	fsvc::Service s = std::move(accepted).service();
	EXPECT_FALSE(s.valid());
	EXPECT_EQ(s.c_handle(), nullptr);
	EXPECT_FALSE(s.can_allow_other());
	EXPECT_FALSE(s.can_fuseblk());
	EXPECT_EQ(s.args(argc(), argv_of({"x"})).error(), -EBADF);
	auto fd = s.request_file("/x", O_RDONLY);
	EXPECT_EQ(fd.error(), -EBADF);
	EXPECT_EQ(fd.error_detail().kind, FileError::Kind::broken);
	EXPECT_EQ(s.request_blockdev("/x", O_RDONLY, 512).error(), -EBADF);
	fsvc::Service other;
	EXPECT_EQ(std::move(other).goodbye(0).error(), -EBADF);
	auto ready = std::move(s).finish_file_requests();
	EXPECT_EQ(ready.error(), -EBADF);
}

TEST_F(CppApi, AcceptErrorHelperHungUp)
{
	activate();
	hang_up();
	Accepted accepted = fsvc::accept();
	EXPECT_EQ(accepted.outcome(), Accepted::Outcome::error);
	EXPECT_EQ(accepted.error(), -ECONNRESET);
	EXPECT_FALSE(std::move(accepted).service().valid());
	EXPECT_FALSE(fd_is_open(3));
}

TEST_F(CppApi, AcceptErrorBadHello)
{
	activate();
	send_bytes(S("LAST", false) + be16(1) + be16(1) + be32(0));
	Accepted accepted = fsvc::accept();
	EXPECT_EQ(accepted.outcome(), Accepted::Outcome::error);
	EXPECT_EQ(accepted.error(), -EBADMSG);
	EXPECT_FALSE(fd_is_open(3));
}

TEST_F(CppApi, AcceptServiceAndCapabilities)
{
	{
		fsvc::Service s = accept_service({"myfs"}, kHelloAllowOther | kHelloFuseblk);
		EXPECT_TRUE(s.valid());
		EXPECT_NE(s.c_handle(), nullptr);
		EXPECT_TRUE(s.can_allow_other());
		EXPECT_TRUE(s.can_fuseblk());
		auto ready = std::move(s).finish_file_requests();
		ASSERT_TRUE(ready);
		EXPECT_TRUE(ready->can_allow_other());
		EXPECT_TRUE(ready->can_fuseblk());
	}
	/* One service at a time: the next one gets fd 3 again. */
	fsvc::Service plain = accept_service({"myfs"});
	EXPECT_FALSE(plain.can_allow_other());
	EXPECT_FALSE(plain.can_fuseblk());
}

/* ---- arguments ---- */

TEST_F(CppApi, ArgsLayoutAndUserView)
{
	fsvc::Service s = accept_service({"myfs", "/dev/src", "/mnt", "-o", "ro,myopt"});
	auto args = s.args(argc(), argv_of({"/usr/libexec/myfs", "--own"}));
	ASSERT_TRUE(args) << args.error();
	EXPECT_EQ(strings(*args), (std::vector<std::string>{"myfs", "--own", "/dev/src", "/mnt",
							    "-o", "ro,myopt"}));
	EXPECT_EQ(args->size(), 6u);
	EXPECT_EQ((*args)[2], "/dev/src");
	EXPECT_EQ(strings(args->user()),
		  (std::vector<std::string>{"/dev/src", "/mnt", "-o", "ro,myopt"}));

	/* user() is a copy: parsing the list does not change it. */
	struct Own {
		int myopt = 0;
	} own;
	static const fuse_opt opts[] = {{"myopt", offsetof(Own, myopt), 1}, FUSE_OPT_END};
	ASSERT_EQ(fuse_opt_parse(args->get(), &own, opts, nullptr), 0);
	EXPECT_EQ(own.myopt, 1);
	EXPECT_EQ(strings(*args),
		  (std::vector<std::string>{"myfs", "-o", "ro", "--own", "/dev/src", "/mnt"}));
	EXPECT_EQ(strings(args->user()).back(), "ro,myopt");

	/* Moving keeps the fuse_args where it is (the library knows it by address). */
	fuse_args *where = args->get();
	fsvc::Args moved = std::move(*args);
	EXPECT_EQ(moved.get(), where);
	EXPECT_EQ(args->get(), nullptr);
	EXPECT_TRUE(args->empty());
	EXPECT_EQ(args->add("x").error(), -EBADF);

	/* The argument file was consumed. */
	EXPECT_EQ(s.args(argc(), argv_of({"myfs"})).error(), -EBADF);
}

TEST_F(CppApi, ArgsMalformedArgumentFile)
{
	activate();
	hello();
	raw_argv_file(S("NOPE", false) + be32(0));
	fusedev();
	fsvc::Service s = std::move(fsvc::accept()).service();
	ASSERT_TRUE(s.valid());
	EXPECT_EQ(next_packet(), encode(HelloReply{}));
	char **argv = argv_of({"/usr/libexec/myfs"});
	auto args = s.args(argc(), argv);
	EXPECT_EQ(args.error(), -EBADMSG);
	EXPECT_STREQ(argv[0], "/usr/libexec/myfs"); /* the caller's argv untouched */
}

TEST_F(CppApi, ClassicArgsAndAdd)
{
	fsvc::Args args(argc(), argv_of({"prog", "-f", "/mnt"}));
	EXPECT_EQ(strings(args), (std::vector<std::string>{"prog", "-f", "/mnt"}));
	EXPECT_TRUE(args.user().empty());
	EXPECT_TRUE(args.add("-oro").ok());
	EXPECT_EQ(args[3], "-oro");
	EXPECT_EQ(args.add(std::string_view("a\0b", 3)).error(), -EINVAL);
	EXPECT_EQ(args.size(), 4u);
	fsvc::Args empty;
	EXPECT_TRUE(empty.empty());
	EXPECT_EQ(empty.begin(), empty.end());
}

TEST_F(CppApi, ParseCmdlineOptsAndCommandLine)
{
	fsvc::Service s = accept_service({"myfs", "src", "./mnt/../x", "-o", "x-gvfs-hide"});
	auto args = s.args(argc(), argv_of({"/usr/libexec/myfs", "-s"}));
	ASSERT_TRUE(args);
	EXPECT_EQ(fsvc::command_line(argc(), argv_of({"/usr/libexec/myfs"}), *args),
		  "/usr/libexec/myfs -t myfs -s src ./mnt/../x -o x-gvfs-hide");
	ASSERT_EQ(fuse_opt_parse(args->get(), nullptr, nullptr,
				 [](void *, const char *arg, int key, fuse_args *) {
					 /* drop the source, as a server's own parser does */
					 return key == FUSE_OPT_KEY_NONOPT &&
							std::string_view(arg) == "src"
						    ? 0
						    : 1;
				 }),
		  0);
	auto opts = fsvc::parse_cmdline_opts(*args);
	ASSERT_TRUE(opts) << opts.error();
	EXPECT_EQ(opts->mountpoint(), "./mnt/../x"); /* verbatim */
	EXPECT_EQ((*opts)->singlethread, 1);
	/* Moving the options moves the mountpoint string, no double free. */
	fsvc::CmdlineOpts moved = std::move(*opts);
	EXPECT_EQ(moved.mountpoint(), "./mnt/../x");
	EXPECT_TRUE(opts->mountpoint().empty());

	fsvc::Args bad(argc(), argv_of({"myfs", "/m1", "/m2"}));
	EXPECT_EQ(fsvc::parse_cmdline_opts(bad).error(), -EINVAL);
	fsvc::Args none;
	EXPECT_EQ(fsvc::command_line(0, nullptr, none), "");
}

/* ---- file requests ---- */

TEST_F(CppApi, RequestFileOneCall)
{
	fsvc::Service s = accept_service({"myfs", "/dev/sdz", "/m"});
	UniqueFD file(::open("/dev/null", O_RDONLY | O_CLOEXEC));
	file_reply("/dev/sdz", file.get()); /* queued before the request: SEQPACKET keeps it */
	file.reset();
	auto fd = s.request_file("/dev/sdz", O_RDWR | O_EXCL, 0640, fsvc::request_quiet);
	ASSERT_TRUE(fd) << fd.error();
	EXPECT_TRUE(same_file(fd->get(), "/dev/null"));
	EXPECT_TRUE(::fcntl(fd->get(), F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(next_packet(), S("OPEN", false) + be32(O_RDWR | O_EXCL) + be32(0640) + be32(1) +
				     be32(0) + S("/dev/sdz"));
}

TEST_F(CppApi, RequestBlockdevAndRefusals)
{
	fsvc::Service s = accept_service({"myfs", "/dev/sdz", "/m"});
	file_reply("/dev/sdz", -1, ENOTBLK);
	auto dev = s.request_blockdev("/dev/sdz", O_RDONLY, 4096);
	EXPECT_EQ(next_packet(), S("BDEV", false) + be32(O_RDONLY) + be32(0) + be32(0) +
				     be32(4096) + S("/dev/sdz"));
	ASSERT_FALSE(dev);
	EXPECT_EQ(dev.error(), -ENOTBLK);
	EXPECT_TRUE(dev.error_detail().refused());

	/* A refusal leaves the conversation intact: ask again, get EBUSY, then the file. */
	file_reply("/img", -1, EBUSY);
	auto busy = s.request_file("/img", O_RDWR);
	EXPECT_EQ(busy.error(), -EBUSY);
	EXPECT_EQ(busy.error_detail().kind, FileError::Kind::refused);
	UniqueFD file = null_fd();
	file_reply("/img", file.get());
	file.reset();
	auto img = s.request_file("/img", O_RDWR);
	ASSERT_TRUE(img);
	EXPECT_TRUE(same_file(img->get(), "/dev/null"));
}

TEST_F(CppApi, RequestInvalidSendsNothing)
{
	fsvc::Service s = accept_service({"myfs"});
	auto expect_invalid = [](const fsvc::FileResult &r, int code) {
		EXPECT_EQ(r.error(), code);
		EXPECT_EQ(r.error_detail().kind, FileError::Kind::invalid);
		EXPECT_FALSE(r.error_detail().refused());
	};
	expect_invalid(s.request_file("", O_RDONLY), -EINVAL);
	expect_invalid(s.request_file(std::string_view("/a\0b", 4), O_RDONLY), -EINVAL);
	expect_invalid(s.request_file("/x", O_RDONLY, 0, 2), -EINVAL);
	expect_invalid(s.request_blockdev("/x", O_RDONLY, 0, 0, 0x80), -EINVAL);
	expect_invalid(s.request_file(std::string(PATH_MAX, 'p'), O_RDONLY), -ENAMETOOLONG);
	EXPECT_TRUE(nothing_sent());
}

/* ---- a hostile helper: each answer breaks the conversation, no fd leaks ---- */

TEST_F(CppApi, HostileHangUpBeforeTheReply)
{
	fsvc::Service s = accept_service({"myfs", "/img"});
	ASSERT_EQ(::shutdown(peer_.get(), SHUT_WR), 0);
	auto fd = s.request_file("/img", O_RDONLY);
	EXPECT_EQ(fd.error(), -ECONNRESET);
	EXPECT_EQ(fd.error_detail().kind, FileError::Kind::broken);
}

TEST_F(CppApi, HostileHangUpBeforeTheRequest)
{
	fsvc::Service s = accept_service({"myfs", "/img"});
	hang_up();
	auto fd = s.request_file("/img", O_RDONLY);
	EXPECT_EQ(fd.error(), -ECONNRESET);
	EXPECT_EQ(fd.error_detail().kind, FileError::Kind::broken);
	/* The failure goodbye of the destructor finds no helper: still no crash, no leak. */
}

TEST_F(CppApi, HostileTwoFds)
{
	fsvc::Service s = accept_service({"myfs", "/img"});
	UniqueFD a = null_fd(), b = null_fd();
	send_bytes(encode(OpenReply{0, "/img"}), {a.get(), b.get()});
	a.reset();
	b.reset();
	auto fd = s.request_file("/img", O_RDONLY);
	EXPECT_EQ(fd.error(), -EBADMSG);
	EXPECT_EQ(fd.error_detail().kind, FileError::Kind::broken);
}

TEST_F(CppApi, HostileWrongPathInTheReply)
{
	fsvc::Service s = accept_service({"myfs", "/img"});
	UniqueFD other = null_fd();
	file_reply("/etc/shadow", other.get());
	other.reset();
	auto fd = s.request_file("/img", O_RDONLY);
	EXPECT_EQ(fd.error(), -EBADMSG);
	EXPECT_EQ(fd.error_detail().kind, FileError::Kind::broken);
}

TEST_F(CppApi, HostileRefusalWithAnFd)
{
	fsvc::Service s = accept_service({"myfs", "/img"});
	UniqueFD f = null_fd();
	file_reply("/img", f.get(), EACCES);
	f.reset();
	auto fd = s.request_file("/img", O_RDONLY);
	EXPECT_EQ(fd.error(), -EBADMSG);
	EXPECT_FALSE(fd.error_detail().refused());
}

TEST_F(CppApi, HostileSuccessWithoutAnFd)
{
	fsvc::Service s = accept_service({"myfs", "/img"});
	file_reply("/img", -1, 0);
	auto fd = s.request_file("/img", O_RDONLY);
	EXPECT_EQ(fd.error(), -EBADMSG);
	EXPECT_EQ(fd.error_detail().kind, FileError::Kind::broken);
}

TEST_F(CppApi, HostileRefusalErrnoOutOfRange)
{
	fsvc::Service s = accept_service({"myfs", "/img"});
	file_reply("/img", -1, 100000);
	auto fd = s.request_file("/img", O_RDONLY);
	EXPECT_EQ(fd.error(), -EBADMSG);
	EXPECT_EQ(fd.error_detail().kind, FileError::Kind::broken);
}

TEST_F(CppApi, HostileOversizeReply)
{
	fsvc::Service s = accept_service({"myfs", "/img"});
	send_bytes(encode(OpenReply{0, "/img"}) + Bytes(70000));
	auto fd = s.request_file("/img", O_RDONLY);
	EXPECT_EQ(fd.error(), -EMSGSIZE);
	EXPECT_EQ(fd.error_detail().kind, FileError::Kind::broken);
}

/* ---- phases and goodbyes ---- */

TEST_F(CppApi, DestroyedServiceSaysGoodbyeWithAFailure)
{
	{
		fsvc::Service s = accept_service({"myfs"});
	}
	auto c = next_command();
	ASSERT_TRUE(as<ByeCommand>(c));
	EXPECT_EQ(as<ByeCommand>(c)->exitcode, static_cast<uint32_t>(EXIT_FAILURE));
	/* ...once, then the socket is closed. */
	EXPECT_EQ(recv_packet(peer_.get(), FdPolicy::Refuse, 0).error(), -ECONNRESET);
}

TEST_F(CppApi, MovedFromServiceSaysNothing)
{
	fsvc::Service a = accept_service({"myfs"});
	fsvc::Service b = std::move(a);
	EXPECT_FALSE(a.valid());
	EXPECT_TRUE(b.valid());
	{
		fsvc::Service gone = std::move(a);
	}
	EXPECT_TRUE(nothing_sent());
	/* Move assignment over a live service: the overwritten one says goodbye. */
	fsvc::Service c = std::move(b);
	c = fsvc::Service();
	EXPECT_FALSE(c.valid());
	EXPECT_EQ(next_packet(), encode(ByeCommand{EXIT_FAILURE}));
}

TEST_F(CppApi, ExplicitGoodbyeOnce)
{
	fsvc::Service s = accept_service({"myfs"});
	EXPECT_TRUE(std::move(s).goodbye(7).ok());
	EXPECT_EQ(next_packet(), S("BYEE", false) + be32(7));
	EXPECT_FALSE(s.valid());
	/* A second goodbye is an error value; nothing more is sent. */
	EXPECT_EQ(std::move(s).goodbye(0).error(), -EBADF);
	EXPECT_EQ(recv_packet(peer_.get(), FdPolicy::Refuse, 0).error(), -ECONNRESET);
}

TEST_F(CppApi, FinishConsumesTheServiceAndStopsFdPassing)
{
	fsvc::Service s = accept_service({"myfs"});
	auto ready = std::move(s).finish_file_requests();
	ASSERT_TRUE(ready) << ready.error();
	EXPECT_FALSE(s.valid());
	EXPECT_TRUE(ready->valid());
	EXPECT_EQ(s.request_file("/x", O_RDONLY).error(), -EBADF);
	int v = -1;
	socklen_t len = sizeof(v);
	ASSERT_EQ(::getsockopt(3, SOL_SOCKET, SO_PASSRIGHTS, &v, &len), 0);
	EXPECT_EQ(v, 0);
	/* Destroyed without a goodbye: a failure goodbye. */
	{
		fsvc::ReadyService r = std::move(*ready);
	}
	EXPECT_EQ(next_packet(), encode(ByeCommand{EXIT_FAILURE}));
}

TEST_F(CppApi, MountThroughTheHelper)
{
	fsvc::Service s = accept_service({"myfs", "/mnt/x", "-o", "noexec,fsname=src"});
	auto args = s.args(argc(), argv_of({"/usr/libexec/myfs"}));
	ASSERT_TRUE(args);
	auto ready = std::move(s).finish_file_requests();
	ASSERT_TRUE(ready);
	/* Added after args(), in a moved Args: must still reach the mount. */
	fsvc::Args moved = std::move(*args);
	ASSERT_TRUE(moved.add("-oro"));
	auto opts = fsvc::parse_cmdline_opts(moved);
	ASSERT_TRUE(opts);
	new_session(moved);
	/* FSOPEN, SOURCE, MNTPT, MOUNT (no kernel or mtab options): one reply each, none left over
	 * (unread data at close would turn the goodbye into ECONNRESET). */
	for (int i = 0; i < 4; i++)
		reply(0);
	auto st = ready->mount(se_, *opts);
	ASSERT_TRUE(st) << st.error();
	EXPECT_EQ((*opts)->foreground, 1);
	auto cmds = mount_commands();
	EXPECT_EQ(cmds.size(), 4u);
	ASSERT_TRUE(find<MountpointCommand>(cmds));
	EXPECT_EQ(find<MountpointCommand>(cmds)->path, "/mnt/x");
	EXPECT_EQ(find<MountpointCommand>(cmds)->expected_fmt, kFmtDir);
	ASSERT_TRUE(find<SourceCommand>(cmds));
	EXPECT_EQ(find<SourceCommand>(cmds)->value, "src");
	ASSERT_TRUE(find<MountCommand>(cmds));
	EXPECT_EQ(find<MountCommand>(cmds)->ms_flags,
		  static_cast<uint32_t>(MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC));

	EXPECT_TRUE(std::move(*ready).goodbye(0).ok());
	EXPECT_EQ(next_packet(), encode(ByeCommand{0}));
	EXPECT_FALSE(ready->valid());
	EXPECT_EQ(ready->mount(se_, *opts).error(), -EBADF);
}

TEST_F(CppApi, MountRefusedAndArgumentErrors)
{
	fsvc::Service s = accept_service({"myfs", "/mnt/z"});
	auto args = s.args(argc(), argv_of({"/usr/libexec/myfs"}));
	ASSERT_TRUE(args);
	auto ready = std::move(s).finish_file_requests();
	ASSERT_TRUE(ready);
	auto opts = fsvc::parse_cmdline_opts(*args);
	ASSERT_TRUE(opts);
	new_session(*args);

	fsvc::CmdlineOpts no_mountpoint;
	EXPECT_EQ(ready->mount(se_, no_mountpoint).error(), -EINVAL);
	EXPECT_EQ(ready->mount(nullptr, *opts).error(), -EINVAL);
	EXPECT_EQ(ready->mount(se_, *opts, S_IFBLK).error(), -EINVAL);
	EXPECT_TRUE(nothing_sent());

	reply(EPERM);
	EXPECT_EQ(ready->mount(se_, *opts).error(), -EPERM);
	/* The session took the device on the first try. */
	EXPECT_EQ(ready->mount(se_, *opts).error(), -EBADF);
	while (next_command()) {
	}
	/* Gave up: the destructor's goodbye says so. */
	{
		fsvc::ReadyService r = std::move(*ready);
	}
	auto bye = next_command();
	ASSERT_TRUE(as<ByeCommand>(bye));
	EXPECT_EQ(as<ByeCommand>(bye)->exitcode, static_cast<uint32_t>(EXIT_FAILURE));
}

/* ---- the vocabulary types ---- */

TEST(CppTypes, ResultAndStatus)
{
	fsvc::Result<int> good(5);
	EXPECT_TRUE(good.ok());
	EXPECT_EQ(*good, 5);
	EXPECT_EQ(good.error(), 0);
	fsvc::Result<int> bad(fsvc::Error{-ENOENT});
	EXPECT_FALSE(bad);
	EXPECT_EQ(bad.error(), -ENOENT);
	EXPECT_EQ(bad.error_detail().code, -ENOENT);

	fsvc::Status ok;
	EXPECT_TRUE(ok);
	EXPECT_EQ(ok.error(), 0);
	EXPECT_EQ(fsvc::status_from(0).error(), 0);
	EXPECT_EQ(fsvc::status_from(3).error(), 0);
	EXPECT_EQ(fsvc::status_from(-EIO).error(), -EIO);

	fsvc::FileResult refused(FileError{-EACCES, FileError::Kind::refused});
	EXPECT_EQ(refused.error(), -EACCES);
	EXPECT_TRUE(refused.error_detail().refused());
}

TEST(CppTypes, ExitStatus)
{
	EXPECT_EQ(fsvc::exit_status(0), EXIT_SUCCESS);
	EXPECT_EQ(fsvc::exit_status(-EIO), EXIT_FAILURE);
}
