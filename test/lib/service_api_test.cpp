/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Every public function of fuse_service.h against a fake helper on a real
 * SEQPACKET socketpair, with the exact commands the library sends checked
 * in order (decoded by the protocol core).
 */
#include "service_fixture.h"

#include <climits>
#include <sys/mount.h>
#include <sys/stat.h>

using namespace fsvc;
using namespace fsvc::proto;
using namespace fsvc::test;

namespace
{

std::vector<std::string> argv_of(const fuse_args &a)
{
	std::vector<std::string> v;
	for (int i = 0; i < a.argc; i++)
		v.emplace_back(a.argv[i]);
	return v;
}

using Strings = std::vector<std::string>;

} // namespace

/* ---- fuse_service_accept ---- */

TEST_F(ServiceTest, NotAServiceIsSilentSuccess)
{
	library_owns_fd3_ = false;
	fuse_service *sf = reinterpret_cast<fuse_service *>(0x1);
	EXPECT_EQ(fuse_service_accept(&sf), 0);
	EXPECT_EQ(sf, nullptr);
	EXPECT_FALSE(fuse_service_accepted(sf));

	/* Activation meant for another process. */
	::setenv("LISTEN_FDS", "1", 1);
	::setenv("LISTEN_PID", std::to_string(::getpid() + 1).c_str(), 1);
	sf = reinterpret_cast<fuse_service *>(0x1);
	EXPECT_EQ(fuse_service_accept(&sf), 0);
	EXPECT_EQ(sf, nullptr);

	/* LISTEN_FDS without LISTEN_PID */
	::unsetenv("LISTEN_PID");
	EXPECT_EQ(fuse_service_accept(&sf), 0);
	EXPECT_EQ(sf, nullptr);
	EXPECT_TRUE(captured_log().empty()) << captured_log().front();
}

TEST_F(ServiceTest, AcceptNullPointer)
{
	library_owns_fd3_ = false;
	EXPECT_EQ(fuse_service_accept(nullptr), -EINVAL);
}

TEST_F(ServiceTest, AcceptHandshake)
{
	activate();
	hello(kHelloAllowOther | kHelloFuseblk);
	argv_file({"myfs", "/mnt"});
	fusedev();
	ASSERT_EQ(fuse_service_accept(&sf_), 0);
	ASSERT_NE(sf_, nullptr);
	EXPECT_TRUE(fuse_service_accepted(sf_));
	/* HELLO_REPLY {1, 0}, byte for byte. */
	EXPECT_EQ(next_packet(), B({'L', 'A', 'S', 'T', 0, 1, 0, 0}));
	EXPECT_TRUE(nothing_sent());
	/* The activation socket is now close-on-exec. */
	EXPECT_TRUE(::fcntl(3, F_GETFD) & FD_CLOEXEC);
	EXPECT_TRUE(fuse_service_can_allow_other(sf_));
	EXPECT_TRUE(fuse_service_can_fuseblk(sf_));
	EXPECT_TRUE(captured_log().empty());
}

TEST_F(ServiceTest, HelloFlagsAreReported)
{
	accept_ok({"myfs"}, 0);
	EXPECT_FALSE(fuse_service_can_allow_other(sf_));
	EXPECT_FALSE(fuse_service_can_fuseblk(sf_));
	fuse_service_destroy(&sf_);
	peer_.reset();
	ASSERT_EQ(open_fds(), baseline_);

	accept_ok({"myfs"}, kHelloAllowOther);
	EXPECT_TRUE(fuse_service_can_allow_other(sf_));
	EXPECT_FALSE(fuse_service_can_fuseblk(sf_));
	fuse_service_destroy(&sf_);
	peer_.reset();

	accept_ok({"myfs"}, kHelloFuseblk);
	EXPECT_FALSE(fuse_service_can_allow_other(sf_));
	EXPECT_TRUE(fuse_service_can_fuseblk(sf_));

	EXPECT_FALSE(fuse_service_can_allow_other(nullptr));
	EXPECT_FALSE(fuse_service_can_fuseblk(nullptr));
}

TEST_F(ServiceTest, AcceptRefusesTwoSockets)
{
	library_owns_fd3_ = false;
	if (fd_is_open(4))
		GTEST_SKIP() << "fd 4 is taken by the harness";
	activate();
	if (peer_.get() == 4) /* keep the peer out of the way of fd 4 */
		peer_ = UniqueFD(::fcntl(peer_.get(), F_DUPFD_CLOEXEC, 10));
	ASSERT_EQ(::dup2(3, 4), 4);
	set_listen_env(2);
	EXPECT_EQ(fuse_service_accept(&sf_), -E2BIG);
	EXPECT_EQ(sf_, nullptr);
	::close(4);
	EXPECT_TRUE(log_mentions("1 service socket"));
}

TEST_F(ServiceTest, AcceptRefusesNonSocket)
{
	library_owns_fd3_ = false;
	int p[2];
	ASSERT_EQ(::pipe(p), 0);
	::close(p[1]);
	place_on_fd3(UniqueFD(p[0]));
	set_listen_env(1);
	EXPECT_EQ(fuse_service_accept(&sf_), -ENOTSOCK);
	EXPECT_EQ(sf_, nullptr);
}

TEST_F(ServiceTest, AcceptRefusesInetSocket)
{
	library_owns_fd3_ = false;
	int s = ::socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_GE(s, 0);
	place_on_fd3(UniqueFD(s));
	set_listen_env(1);
	EXPECT_EQ(fuse_service_accept(&sf_), -EAFNOSUPPORT);
}

TEST_F(ServiceTest, AcceptRefusesStreamSocket)
{
	library_owns_fd3_ = false;
	int sv[2];
	ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	::close(sv[1]);
	place_on_fd3(UniqueFD(sv[0]));
	set_listen_env(1);
	EXPECT_EQ(fuse_service_accept(&sf_), -ESOCKTNOSUPPORT);
}

/* ---- fuse_service_append_args / fuse_service_cmdline ---- */

TEST_F(ServiceTest, AppendArgsLayout)
{
	accept_ok({"myfs", "/dev/sdz", "/mnt/x", "-o", "ro,allow_other"});
	char prog[] = "/usr/libexec/myfs", opt[] = "--srv-opt", val[] = "-s";
	char *argv[] = {prog, opt, val, nullptr};
	fuse_args args = FUSE_ARGS_INIT(3, argv); /* not allocated: main()'s argv */
	ASSERT_EQ(fuse_service_append_args(sf_, &args), 0);
	EXPECT_EQ(argv_of(args), (Strings{"myfs", "--srv-opt", "-s", "/dev/sdz", "/mnt/x", "-o",
					  "ro,allow_other"}));
	EXPECT_TRUE(args.allocated);

	char *line = fuse_service_cmdline(3, argv, &args);
	ASSERT_NE(line, nullptr);
	EXPECT_STREQ(line,
		     "/usr/libexec/myfs -t myfs --srv-opt -s /dev/sdz /mnt/x -o ro,allow_other");
	std::free(line);

	/* The memfd is consumed: a second call has nothing to read. */
	EXPECT_EQ(fuse_service_append_args(sf_, &args), -EBADF);
	fuse_opt_free_args(&args);
}

TEST_F(ServiceTest, AppendArgsToAllocatedArgs)
{
	accept_ok({"sub"});
	set_args({"prog", "a", "b"});
	ASSERT_EQ(fuse_service_append_args(sf_, &args_), 0);
	EXPECT_EQ(argv_of(args_), (Strings{"sub", "a", "b"}));
	EXPECT_EQ(fuse_service_append_args(nullptr, &args_), -EINVAL);
	EXPECT_EQ(fuse_service_append_args(sf_, nullptr), -EINVAL);
}

TEST_F(ServiceTest, Cmdline)
{
	library_owns_fd3_ = false;
	char a0[] = "argv0", x[] = "x";
	char *argv[] = {a0, x, nullptr};
	fuse_args args = FUSE_ARGS_INIT(0, nullptr);
	EXPECT_EQ(fuse_service_cmdline(2, argv, &args), nullptr); /* no args */
	EXPECT_EQ(fuse_service_cmdline(2, argv, nullptr), nullptr);
	ASSERT_EQ(fuse_opt_add_arg(&args, "fstype"), 0);
	char *s = fuse_service_cmdline(2, argv, &args);
	ASSERT_NE(s, nullptr);
	EXPECT_STREQ(s, "argv0 -t fstype");
	std::free(s);
	ASSERT_EQ(fuse_opt_add_arg(&args, "-o"), 0);
	ASSERT_EQ(fuse_opt_add_arg(&args, "ro"), 0);
	/* argc 0: argv0 comes from args. */
	s = fuse_service_cmdline(0, nullptr, &args);
	ASSERT_NE(s, nullptr);
	EXPECT_STREQ(s, "fstype -t fstype -o ro");
	std::free(s);
	fuse_opt_free_args(&args);
}

/* ---- fuse_service_parse_cmdline_opts ---- */

TEST_F(ServiceTest, ParseKeepsMountpointVerbatim)
{
	library_owns_fd3_ = false;
	set_args({"myfs", "rel/../does-not-exist/", "-o", "ro"});
	ASSERT_EQ(fuse_service_parse_cmdline_opts(&args_, &opts_), 0);
	ASSERT_NE(opts_.mountpoint, nullptr);
	EXPECT_STREQ(opts_.mountpoint, "rel/../does-not-exist/"); /* no realpath */
	/* fuse_opt_parse() gathers the -o options, as fuse_parse_cmdline() does. */
	EXPECT_EQ(argv_of(args_), (Strings{"myfs", "-o", "subtype=myfs,ro"}));
	EXPECT_EQ(opts_.foreground, 0);
	EXPECT_EQ(opts_.singlethread, 0);
	EXPECT_EQ(opts_.max_threads, 10u);
	EXPECT_EQ(opts_.max_idle_threads, UINT_MAX);
}

TEST_F(ServiceTest, ParseDefaultSubtypeIsBasename)
{
	library_owns_fd3_ = false;
	set_args({"/usr/sbin/fuse2fs", "/m"});
	ASSERT_EQ(fuse_service_parse_cmdline_opts(&args_, &opts_), 0);
	EXPECT_EQ(argv_of(args_), (Strings{"/usr/sbin/fuse2fs", "-o", "subtype=fuse2fs"}));
	EXPECT_EQ(opts_.nodefault_subtype, 0);

	/* subtype= or fsname= turn the default off and are kept for the session. */
	std::free(opts_.mountpoint);
	set_args({"/usr/sbin/fuse2fs", "-o", "fsname=/dev/sda", "/m"});
	ASSERT_EQ(fuse_service_parse_cmdline_opts(&args_, &opts_), 0);
	EXPECT_EQ(argv_of(args_), (Strings{"/usr/sbin/fuse2fs", "-o", "fsname=/dev/sda"}));
	EXPECT_EQ(opts_.nodefault_subtype, 1);
	std::free(opts_.mountpoint);
	set_args({"x", "-o", "subtype=y", "/m"});
	ASSERT_EQ(fuse_service_parse_cmdline_opts(&args_, &opts_), 0);
	EXPECT_EQ(argv_of(args_), (Strings{"x", "-o", "subtype=y"}));
}

TEST_F(ServiceTest, ParseGenericOptionsLikeFuseParseCmdline)
{
	library_owns_fd3_ = false;
	set_args({"fs", "-f", "-s", "-o", "clone_fd,max_threads=7,max_idle_threads=3", "/m"});
	ASSERT_EQ(fuse_service_parse_cmdline_opts(&args_, &opts_), 0);
	EXPECT_EQ(opts_.foreground, 1);
	EXPECT_EQ(opts_.singlethread, 1);
	EXPECT_EQ(opts_.debug, 0);
	EXPECT_EQ(opts_.clone_fd, 1);
	EXPECT_EQ(opts_.max_threads, 7u);
	EXPECT_EQ(opts_.max_idle_threads, 3u);
	EXPECT_EQ(argv_of(args_), (Strings{"fs", "-o", "subtype=fs"}));

	/* -d implies foreground and stays for the session's debug output. */
	std::free(opts_.mountpoint);
	set_args({"fs", "-d", "/m"});
	ASSERT_EQ(fuse_service_parse_cmdline_opts(&args_, &opts_), 0);
	EXPECT_EQ(opts_.debug, 1);
	EXPECT_EQ(opts_.foreground, 1);
	EXPECT_EQ(argv_of(args_), (Strings{"fs", "-o", "subtype=fs", "-d"}));

	std::free(opts_.mountpoint);
	set_args({"fs", "-h"});
	ASSERT_EQ(fuse_service_parse_cmdline_opts(&args_, &opts_), 0);
	EXPECT_EQ(opts_.show_help, 1);
	EXPECT_EQ(opts_.mountpoint, nullptr);
	set_args({"fs", "--version"});
	ASSERT_EQ(fuse_service_parse_cmdline_opts(&args_, &opts_), 0);
	EXPECT_EQ(opts_.show_version, 1);
	set_args({"fs", "-V"});
	ASSERT_EQ(fuse_service_parse_cmdline_opts(&args_, &opts_), 0);
	EXPECT_EQ(opts_.show_version, 1);
	set_args({"fs", "--help"});
	ASSERT_EQ(fuse_service_parse_cmdline_opts(&args_, &opts_), 0);
	EXPECT_EQ(opts_.show_help, 1);
}

TEST_F(ServiceTest, ParseStripsHelperOnlyOptions)
{
	library_owns_fd3_ = false;
	set_args({"fs", "/m", "-o",
		  "x-gvfs-hide,ro,symfollow,nosymfollow,nodiratime,nostrictatime,x-a=b,myopt"});
	ASSERT_EQ(fuse_service_parse_cmdline_opts(&args_, &opts_), 0);
	EXPECT_EQ(argv_of(args_), (Strings{"fs", "-o", "subtype=fs,ro,myopt"}));
}

TEST_F(ServiceTest, ParsedArgsAreAcceptedBySystemLibfuse)
{
	/* Every option the mount request understands must survive
	 * fuse_session_new() of the system libfuse once parsed. */
	library_owns_fd3_ = false;
	set_args({"fs", "/m", "-n", "-r", "-o",
		  "ro,rw,suid,nosuid,dev,nodev,exec,noexec,sync,async,dirsync,noatime,"
		  "nodiratime,nostrictatime,symfollow,nosymfollow,allow_other,"
		  "default_permissions,blksize=512,max_read=4096,context=a,fscontext=b,"
		  "defcontext=c,rootcontext=d,user=bob,x-gvfs-hide,fsname=src,subtype=t,"
		  "blkdev,auto_unmount"});
	ASSERT_EQ(fuse_service_parse_cmdline_opts(&args_, &opts_), 0);
	static const fuse_lowlevel_ops ops{};
	se_ = fuse_session_new(&args_, &ops, sizeof(ops), nullptr);
	EXPECT_NE(se_, nullptr) << (captured_log().empty() ? "" : captured_log().back());
}

TEST_F(ServiceTest, ParseErrors)
{
	library_owns_fd3_ = false;
	set_args({"fs", "/m1", "/m2"});
	EXPECT_EQ(fuse_service_parse_cmdline_opts(&args_, &opts_), -1);
	EXPECT_EQ(opts_.mountpoint, nullptr); /* nothing left to free */
	EXPECT_TRUE(log_mentions("/m2"));
	set_args({"fs", "-o"});
	EXPECT_EQ(fuse_service_parse_cmdline_opts(&args_, &opts_), -1);
	EXPECT_EQ(fuse_service_parse_cmdline_opts(nullptr, &opts_), -1);
	EXPECT_EQ(fuse_service_parse_cmdline_opts(&args_, nullptr), -1);
}

/* ---- file requests ---- */

TEST_F(ServiceTest, RequestAndReceiveFile)
{
	accept_ok({"myfs", "/dev/sdz", "/m"});
	ASSERT_EQ(fuse_service_request_file(sf_, "/dev/sdz", O_RDWR | O_EXCL, 0640,
					    FUSE_SERVICE_REQUEST_FILE_QUIET),
		  0);
	EXPECT_EQ(next_packet(), S("OPEN", false) + be32(O_RDWR | O_EXCL) + be32(0640) + be32(1) +
				     be32(0) + S("/dev/sdz"));

	UniqueFD file(::open("/dev/null", O_RDONLY | O_CLOEXEC));
	file_reply("/dev/sdz", file.get());
	file.reset();
	int fd = -1;
	ASSERT_EQ(fuse_service_receive_file(sf_, "/dev/sdz", &fd), 0);
	ASSERT_GE(fd, 0);
	struct stat st, null_st;
	ASSERT_EQ(::fstat(fd, &st), 0);
	ASSERT_EQ(::stat("/dev/null", &null_st), 0);
	EXPECT_EQ(st.st_rdev, null_st.st_rdev);
	EXPECT_TRUE(::fcntl(fd, F_GETFD) & FD_CLOEXEC);
	::close(fd);
}

TEST_F(ServiceTest, RequestBlockdevAndRefusal)
{
	accept_ok({"myfs", "/dev/sdz", "/m"});
	ASSERT_EQ(fuse_service_request_blockdev(sf_, "/dev/sdz", O_RDONLY, 0, 0, 4096), 0);
	EXPECT_EQ(next_packet(), S("BDEV", false) + be32(O_RDONLY) + be32(0) + be32(0) +
				     be32(4096) + S("/dev/sdz"));
	file_reply("/dev/sdz", -1, ENOTBLK);
	int fd = 12345;
	EXPECT_EQ(fuse_service_receive_file(sf_, "/dev/sdz", &fd), 0);
	EXPECT_EQ(fd, -ENOTBLK); /* the helper's refusal, not a failure */

	/* A retry after EBUSY is a new, independent exchange. */
	ASSERT_EQ(fuse_service_request_file(sf_, "/img", O_RDWR | O_CREAT, 0600, 0), 0);
	EXPECT_EQ(next_packet(), S("OPEN", false) + be32(O_RDWR | O_CREAT) + be32(0600) + be32(0) +
				     be32(0) + S("/img"));
	file_reply("/img", -1, EBUSY);
	EXPECT_EQ(fuse_service_receive_file(sf_, "/img", &fd), 0);
	EXPECT_EQ(fd, -EBUSY);
}

TEST_F(ServiceTest, RequestFileArgumentErrors)
{
	accept_ok({"myfs"});
	EXPECT_EQ(fuse_service_request_file(sf_, "/x", 0, 0, 2), -EINVAL);
	EXPECT_EQ(fuse_service_request_blockdev(sf_, "/x", 0, 0, 0x80, 0), -EINVAL);
	EXPECT_EQ(fuse_service_request_file(sf_, "", 0, 0, 0), -EINVAL);
	EXPECT_EQ(fuse_service_request_file(sf_, nullptr, 0, 0, 0), -EINVAL);
	EXPECT_EQ(fuse_service_request_file(nullptr, "/x", 0, 0, 0), -EINVAL);
	EXPECT_EQ(fuse_service_request_blockdev(nullptr, "/x", 0, 0, 0, 0), -EINVAL);
	std::string long_path(PATH_MAX, 'p');
	EXPECT_EQ(fuse_service_request_file(sf_, long_path.c_str(), 0, 0, 0), -ENAMETOOLONG);
	int fd;
	EXPECT_EQ(fuse_service_receive_file(sf_, "/x", nullptr), -EINVAL);
	EXPECT_EQ(fuse_service_receive_file(nullptr, "/x", &fd), -EINVAL);
	EXPECT_TRUE(nothing_sent());
}

TEST_F(ServiceTest, FinishFileRequestsStopsFdPassing)
{
	accept_ok({"myfs"});
	ASSERT_EQ(fuse_service_finish_file_requests(sf_), 0);
	int v = -1;
	socklen_t len = sizeof(v);
	ASSERT_EQ(::getsockopt(3, SOL_SOCKET, SO_PASSRIGHTS, &v, &len), 0);
	EXPECT_EQ(v, 0);

	/* The helper can no longer push a descriptor into the server... */
	UniqueFD file(::open("/dev/null", O_RDONLY | O_CLOEXEC));
	const Bytes pkt = encode(OpenReply{0, "/x"});
	errno = 0;
	EXPECT_EQ(send_raw(peer_.get(), pkt, {file.get()}), -1);
	EXPECT_NE(errno, 0);
	/* ...but plain packets still flow. */
	reply(0);
	auto p = recv_packet(3, FdPolicy::Refuse, 0);
	ASSERT_TRUE(p.ok());
	EXPECT_EQ(p->data, encode(SimpleReply{0}));
	EXPECT_EQ(fuse_service_finish_file_requests(nullptr), -EINVAL);
}

/* ---- fuse_service_session_mount ---- */

TEST_F(ServiceTest, FullHappyPath)
{
	activate();
	hello(kHelloAllowOther);
	argv_file({"myfs", "-n", "/mnt/x", "-o",
		   "allow_other,ro,x-gvfs-hide,user=bob,fsname=dev0,default_permissions,"
		   "noexec,nosymfollow,max_read=65536,myopt"});
	fusedev();
	ASSERT_EQ(fuse_service_accept(&sf_), 0);
	ASSERT_TRUE(fuse_service_accepted(sf_));
	EXPECT_EQ(next_packet(), encode(HelloReply{}));

	set_args({"/usr/libexec/myfs", "-s"});
	ASSERT_EQ(fuse_service_append_args(sf_, &args_), 0);
	ASSERT_EQ(fuse_service_parse_cmdline_opts(&args_, &opts_), 0);
	EXPECT_STREQ(opts_.mountpoint, "/mnt/x");
	EXPECT_EQ(opts_.singlethread, 1);

	ASSERT_EQ(fuse_service_request_file(sf_, "/dev/sdz", O_RDWR, 0, 0), 0);
	UniqueFD dev(::open("/dev/null", O_RDWR | O_CLOEXEC));
	file_reply("/dev/sdz", dev.get());
	dev.reset();
	int fd = -1;
	ASSERT_EQ(fuse_service_receive_file(sf_, "/dev/sdz", &fd), 0);
	ASSERT_GE(fd, 0);
	::close(fd);
	ASSERT_EQ(fuse_service_finish_file_requests(sf_), 0);
	EXPECT_EQ(next_packet(),
		  S("OPEN", false) + be32(O_RDWR) + be32(0) + be32(0) + be32(0) + S("/dev/sdz"));

	/* myopt is the server's own option: fuse_session_new must not see it. */
	struct Own {
		int seen = 0;
	} own;
	static const fuse_opt own_opts[] = {{"myopt", offsetof(Own, seen), 1}, FUSE_OPT_END};
	ASSERT_EQ(fuse_opt_parse(&args_, &own, own_opts, nullptr), 0);
	EXPECT_EQ(own.seen, 1);
	static const fuse_lowlevel_ops ops{};
	se_ = fuse_session_new(&args_, &ops, sizeof(ops), nullptr);
	ASSERT_NE(se_, nullptr) << (captured_log().empty() ? "" : captured_log().back());

	for (int i = 0; i < 6; i++)
		reply(0);
	ASSERT_EQ(fuse_service_session_mount(sf_, se_, S_IFDIR, &opts_), 0);
	EXPECT_EQ(opts_.foreground, 1);
	char cwd[PATH_MAX];
	ASSERT_NE(::getcwd(cwd, sizeof(cwd)), nullptr);
	EXPECT_STREQ(cwd, "/");

	/* Exactly these commands, in this order. */
	auto c = next_command();
	ASSERT_TRUE(as<FsopenCommand>(c));
	EXPECT_EQ(as<FsopenCommand>(c)->fsopen_flags, 0u);
	c = next_command();
	ASSERT_TRUE(as<SourceCommand>(c));
	EXPECT_EQ(as<SourceCommand>(c)->value, "dev0");
	c = next_command();
	ASSERT_TRUE(as<MountpointCommand>(c));
	EXPECT_EQ(as<MountpointCommand>(c)->expected_fmt, kFmtDir);
	EXPECT_EQ(as<MountpointCommand>(c)->path, "/mnt/x");
	c = next_command();
	ASSERT_TRUE(as<MntOptsCommand>(c));
	EXPECT_EQ(as<MntOptsCommand>(c)->value, "allow_other,default_permissions,max_read=65536");
	c = next_command();
	ASSERT_TRUE(as<MtabOptsCommand>(c));
	/* The order libfuse's own parser sees: fuse_parse_cmdline() gathers the
	 * -o options in front of the remaining "-n". */
	EXPECT_EQ(as<MtabOptsCommand>(c)->value, "x-gvfs-hide,user=bob,-n");
	c = next_command();
	ASSERT_TRUE(as<MountCommand>(c));
	EXPECT_EQ(
	    as<MountCommand>(c)->ms_flags,
	    static_cast<uint32_t>(MS_NOSUID | MS_NODEV | MS_RDONLY | MS_NOEXEC | MS_NOSYMFOLLOW));
	EXPECT_TRUE(nothing_sent());

	ASSERT_EQ(fuse_service_send_goodbye(sf_, 0), 0);
	EXPECT_EQ(next_packet(), B({'B', 'Y', 'E', 'E', 0, 0, 0, 0}));
	/* The socket is gone: the helper sees the hang-up right after BYEE. */
	EXPECT_EQ(recv_packet(peer_.get(), FdPolicy::Refuse, 0).error(), -ECONNRESET);
	EXPECT_FALSE(fd_is_open(3));
	EXPECT_EQ(fuse_service_send_goodbye(sf_, 0), 0); /* a no-op now */
	EXPECT_EQ(fuse_service_send_goodbye(sf_, 1), 0);
	EXPECT_TRUE(captured_log().empty()) << captured_log().front();
}

TEST_F(ServiceTest, MountWithoutOptsOrMtab)
{
	prepare_mount({"myfs", "/mnt/y"});
	for (int i = 0; i < 4; i++)
		reply(0);
	ASSERT_EQ(fuse_service_session_mount(sf_, se_, 0, &opts_), 0);
	auto c = next_command();
	ASSERT_TRUE(as<FsopenCommand>(c));
	c = next_command();
	ASSERT_TRUE(as<SourceCommand>(c));
	EXPECT_EQ(as<SourceCommand>(c)->value, "myfs"); /* the subtype */
	c = next_command();
	ASSERT_TRUE(as<MountpointCommand>(c));
	EXPECT_EQ(as<MountpointCommand>(c)->expected_fmt, 0);
	c = next_command();
	ASSERT_TRUE(as<MountCommand>(c)) << "OPTS/MTAB must not be sent when empty";
	EXPECT_EQ(as<MountCommand>(c)->ms_flags, static_cast<uint32_t>(MS_NOSUID | MS_NODEV));
	EXPECT_TRUE(nothing_sent());
}

TEST_F(ServiceTest, MountFuseblkAndExpectedFormat)
{
	prepare_mount({"myfs", "/mnt/f", "-o", "blkdev,fsname=/dev/sdq"});
	fuse_service_expect_mount_format(sf_, S_IFREG);
	for (int i = 0; i < 4; i++)
		reply(0);
	ASSERT_EQ(fuse_service_session_mount(sf_, se_, 0, &opts_), 0);
	auto c = next_command();
	ASSERT_TRUE(as<FsopenCommand>(c));
	EXPECT_EQ(as<FsopenCommand>(c)->fsopen_flags, kFsopenFuseblk);
	c = next_command();
	ASSERT_TRUE(as<SourceCommand>(c));
	EXPECT_EQ(as<SourceCommand>(c)->value, "/dev/sdq");
	c = next_command();
	ASSERT_TRUE(as<MountpointCommand>(c));
	EXPECT_EQ(as<MountpointCommand>(c)->expected_fmt, kFmtReg);
	c = next_command();
	ASSERT_TRUE(as<MountCommand>(c));
	fuse_service_expect_mount_format(nullptr, S_IFDIR); /* NULL-safe */
}

TEST_F(ServiceTest, MountArgumentErrors)
{
	prepare_mount({"myfs", "/mnt/z"});
	EXPECT_EQ(fuse_service_session_mount(sf_, se_, S_IFBLK, &opts_), -EINVAL);
	EXPECT_EQ(fuse_service_session_mount(nullptr, se_, 0, &opts_), -EINVAL);
	EXPECT_EQ(fuse_service_session_mount(sf_, nullptr, 0, &opts_), -EINVAL);
	EXPECT_EQ(fuse_service_session_mount(sf_, se_, 0, nullptr), -EINVAL);
	char *mp = opts_.mountpoint;
	opts_.mountpoint = nullptr;
	EXPECT_EQ(fuse_service_session_mount(sf_, se_, 0, &opts_), -EINVAL);
	opts_.mountpoint = mp;
	fuse_service_expect_mount_format(sf_, S_IFCHR);
	EXPECT_EQ(fuse_service_session_mount(sf_, se_, 0, &opts_), -EINVAL);
	EXPECT_TRUE(nothing_sent());
}

TEST_F(ServiceTest, MountTwiceIsEbadf)
{
	prepare_mount({"myfs", "/mnt/z"});
	reply(EPERM);
	EXPECT_EQ(fuse_service_session_mount(sf_, se_, 0, &opts_), -EPERM);
	/* The session adopted the device fd on the first call. */
	EXPECT_EQ(fuse_service_session_mount(sf_, se_, 0, &opts_), -EBADF);
}

/* ---- goodbye, release, destroy, exit ---- */

TEST_F(ServiceTest, GoodbyeWithFailureCode)
{
	accept_ok({"myfs"});
	ASSERT_EQ(fuse_service_send_goodbye(sf_, 3), 0);
	EXPECT_EQ(next_packet(), S("BYEE", false) + be32(3));
	ASSERT_EQ(fuse_service_send_goodbye(sf_, 3), 0);
	EXPECT_EQ(recv_packet(peer_.get(), FdPolicy::Refuse, 0).error(), -ECONNRESET);
	EXPECT_EQ(fuse_service_send_goodbye(nullptr, 0), 0);
}

TEST_F(ServiceTest, ReleaseClosesEverythingButKeepsTheStruct)
{
	accept_ok({"myfs"}, kHelloFuseblk);
	const auto with_service = open_fds();
	/* socket (fd 3), argv memfd and /dev/fuse */
	EXPECT_EQ(with_service.size(), baseline_.size() + 3 + 1 /* peer */);
	fuse_service_release(sf_);
	auto now = open_fds();
	now.erase(peer_.get());
	EXPECT_EQ(now, baseline_);
	EXPECT_FALSE(fd_is_open(3));
	/* Still a valid struct. */
	EXPECT_TRUE(fuse_service_can_fuseblk(sf_));
	EXPECT_EQ(fuse_service_send_goodbye(sf_, 0), 0);
	EXPECT_EQ(fuse_service_append_args(sf_, &args_), -EBADF);
	fuse_service_release(sf_); /* twice is fine */
	fuse_service_release(nullptr);
	EXPECT_EQ(recv_packet(peer_.get(), FdPolicy::Refuse, 0).error(), -ECONNRESET);
}

TEST_F(ServiceTest, DestroyIsNullSafe)
{
	library_owns_fd3_ = false;
	fuse_service_destroy(nullptr);
	fuse_service *sf = nullptr;
	fuse_service_destroy(&sf);
	EXPECT_EQ(sf, nullptr);
}

TEST_F(ServiceTest, DestroyClosesEverything)
{
	accept_ok({"myfs"});
	fuse_service_destroy(&sf_);
	EXPECT_EQ(sf_, nullptr);
	EXPECT_FALSE(fd_is_open(3));
	auto now = open_fds();
	now.erase(peer_.get());
	EXPECT_EQ(now, baseline_);
}

TEST_F(ServiceTest, ExitStatus)
{
	library_owns_fd3_ = false;
	/* JOURNAL_STREAM and INVOCATION_ID are unset by the fixture: no sleep. */
	EXPECT_EQ(fuse_service_exit(0), EXIT_SUCCESS);
	EXPECT_EQ(fuse_service_exit(1), EXIT_FAILURE);
	EXPECT_EQ(fuse_service_exit(-EIO), EXIT_FAILURE);
	EXPECT_EQ(fuse_service_exit(255), EXIT_FAILURE);
}

/* ---- fuse_service_main ---- */

TEST_F(ServiceTest, MainNeedsAContext)
{
	library_owns_fd3_ = false;
	static const fuse_operations ops{};
	set_args({"fs", "/m"});
	EXPECT_EQ(fuse_service_main(nullptr, &args_, &ops, nullptr), 1);
}

TEST_F(ServiceTest, MainVersionSendsNothing)
{
	accept_ok({"myfs", "-V"});
	set_args({"myfs"});
	ASSERT_EQ(fuse_service_append_args(sf_, &args_), 0);
	static const fuse_operations ops{};
	EXPECT_EQ(fuse_service_main(sf_, &args_, &ops, nullptr), 0);
	EXPECT_TRUE(nothing_sent());
}

TEST_F(ServiceTest, MainWithoutMountpoint)
{
	accept_ok({"myfs"});
	set_args({"myfs"});
	ASSERT_EQ(fuse_service_append_args(sf_, &args_), 0);
	static const fuse_operations ops{};
	EXPECT_EQ(fuse_service_main(sf_, &args_, &ops, nullptr), 2);
	EXPECT_TRUE(nothing_sent());
}

TEST_F(ServiceTest, MainMountRefused)
{
	accept_ok({"myfs", "/mnt/q", "-o", "default_permissions"});
	set_args({"myfs"});
	ASSERT_EQ(fuse_service_append_args(sf_, &args_), 0);
	for (int i = 0; i < 4; i++)
		reply(0);
	reply(EPERM); /* DOIT */
	static const fuse_operations ops{};
	EXPECT_EQ(fuse_service_main(sf_, &args_, &ops, nullptr), 4);
	std::vector<uint32_t> magics;
	for (Bytes p = next_packet(); !p.empty(); p = next_packet())
		magics.push_back(packet_magic(p));
	EXPECT_EQ(magics, (std::vector<uint32_t>{kFsopenCmd, kSourceCmd, kMountpointCmd,
						 kMntOptsCmd, kMountCmd}));
}
