/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the helper's pure logic: fuse.conf, command line, policies. */
#include <gtest/gtest.h>

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <string>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "util/argument_policy.h"
#include "util/caller_options.h"
#include "util/command_line.h"
#include "util/fuse_conf.h"
#include "util/kernel_options.h"
#include "util/privileges.h"

using namespace fsvc::helper;

TEST(FuseConf, DefaultsWhenEmpty)
{
	auto p = parse_fuse_conf("");
	EXPECT_FALSE(p.conf.user_allow_other);
	EXPECT_EQ(p.conf.mount_max, 1000);
	EXPECT_TRUE(p.problems.empty());
}

TEST(FuseConf, KeysCommentsAndBlanks)
{
	auto p = parse_fuse_conf("# comment\n\n  user_allow_other  # why\nmount_max=7\n");
	EXPECT_TRUE(p.conf.user_allow_other);
	EXPECT_EQ(p.conf.mount_max, 7);
	EXPECT_TRUE(p.problems.empty());
}

TEST(FuseConf, CommentedOutKeyIsIgnored)
{
	auto p = parse_fuse_conf("#user_allow_other\n#mount_max = 3\n");
	EXPECT_FALSE(p.conf.user_allow_other);
	EXPECT_EQ(p.conf.mount_max, 1000);
}

TEST(FuseConf, BadLinesReportedWithLineNumberAndSkipped)
{
	auto p = parse_fuse_conf("user_allow_other\nfoo bar\nmount_max = -2\nmount_max = x\n"
				 "mount_max = 5\nuser_allow_otherX\n");
	EXPECT_TRUE(p.conf.user_allow_other);
	EXPECT_EQ(p.conf.mount_max, 5);
	ASSERT_EQ(p.problems.size(), 4u);
	EXPECT_EQ(p.problems[0].line, 2);
	EXPECT_EQ(p.problems[0].text, "unknown parameter 'foo...'");
	EXPECT_EQ(p.problems[1].line, 3);
	EXPECT_EQ(p.problems[2].line, 4);
	EXPECT_EQ(p.problems[3].line, 6);
}

TEST(FuseConf, MountMaxMinusOneIsUnlimited)
{
	EXPECT_EQ(parse_fuse_conf("mount_max = -1").conf.mount_max, -1);
}

TEST(FuseConf, ControlCharactersNotEchoed)
{
	auto p = parse_fuse_conf("\x1b[31mevil\n");
	ASSERT_EQ(p.problems.size(), 1u);
	EXPECT_EQ(p.problems[0].text.find('\x1b'), std::string::npos);
}

/* F7: what a bad line shows is its leading word, never the rest (a hash, a key...). */
TEST(FuseConf, BadLineShowsOnlyAShortExcerpt)
{
	auto p = parse_fuse_conf("root:$y$j9T$SecretSaltAndHash:19000:0:99999:7:::\n"
				 "mount_max = $y$j9T$OtherSecret\n"
				 "averyveryverylongparameternamethatgoesonandon\n");
	ASSERT_EQ(p.problems.size(), 3u);
	EXPECT_EQ(p.problems[0].text, "unknown parameter 'root...'");
	EXPECT_EQ(p.problems[1].text, "invalid mount_max value '...'");
	EXPECT_EQ(p.problems[2].text, "unknown parameter 'averyveryverylongparamet...'");
	for (const auto &pr : p.problems)
		EXPECT_EQ(pr.text.find("Secret"), std::string::npos);
}

static fsvc::Result<CommandLine> parse(std::vector<const char *> argv)
{
	argv.insert(argv.begin(), "fuservicemount3");
	Caller c = Caller::current();
	return parse_command_line(static_cast<int>(argv.size()), argv.data(), c);
}

TEST(Options, TypeRemovedAndSubtypeDerived)
{
	auto o = parse({"src", "/mnt", "-t", "fuseblk.ext4", "-o", "ro"});
	ASSERT_TRUE(o);
	EXPECT_EQ(o->mode, Mode::Mount);
	EXPECT_EQ(o->subtype, "ext4");
	EXPECT_EQ(o->args, (std::vector<std::string>{"src", "/mnt", "-o", "ro"}));
}

TEST(Options, BadTypes)
{
	EXPECT_FALSE(parse({"src", "/mnt"}));
	EXPECT_FALSE(parse({"src", "/mnt", "-t", "fuse.a/b"}));
	EXPECT_FALSE(parse({"src", "/mnt", "-t", "fuse."}));
	EXPECT_FALSE(parse({"src", "/mnt", "-t", "fuse.."}));
	EXPECT_FALSE(parse({"src", "/mnt", "-t", "fuse.a", "-t", "fuse.b"}));
	EXPECT_FALSE(parse({"src", "/mnt", "-t"}));
	EXPECT_FALSE(parse({"-t", "fuse.a"}));
}

TEST(Options, PlainSubtype)
{
	auto o = parse({"-t", "sshfs", "--check"});
	ASSERT_TRUE(o);
	EXPECT_EQ(o->mode, Mode::Check);
	EXPECT_EQ(o->subtype, "sshfs");
}

TEST(Options, HelpAndVersion)
{
	EXPECT_EQ(parse({"--help"})->mode, Mode::Help);
	EXPECT_EQ(parse({"-V"})->mode, Mode::Version);
}

TEST(Options, Timeout)
{
	if (Caller::current().is_root()) {
		auto o = parse({"src", "/m", "-t", "fuse.x", "--timeout=5"});
		ASSERT_TRUE(o);
		EXPECT_EQ(o->timeout_ms, 5000);
		EXPECT_EQ(o->args, (std::vector<std::string>{"src", "/m"}));
		EXPECT_FALSE(parse({"src", "/m", "-t", "fuse.x", "--timeout=0"}));
		EXPECT_FALSE(parse({"src", "/m", "-t", "fuse.x", "--timeout=abc"}));
	} else {
		auto o = parse({"src", "/m", "-t", "fuse.x", "--timeout=5"});
		ASSERT_FALSE(o);
		EXPECT_EQ(o.error(), -EPERM);
	}
	EXPECT_EQ(parse({"src", "/m", "-t", "fuse.x"})->timeout_ms, kDefaultTimeoutMs);
}

/* F3: the whole conversation is bounded too, and --timeout scales that bound. */
TEST(Options, OverallDeadline)
{
	CommandLine o;
	EXPECT_EQ(o.deadline_ms(), kDefaultTimeoutMs * kDeadlineFactor);
	EXPECT_GT(o.deadline_ms(), o.timeout_ms);
	o.timeout_ms = 1000;
	EXPECT_EQ(o.deadline_ms(), 1000 * kDeadlineFactor);
	o.timeout_ms = kMaxTimeoutSeconds * 1000;
	EXPECT_GT(o.deadline_ms(), 0); /* no overflow at the largest --timeout */
}

TEST(ArgumentPolicy, Positional)
{
	std::vector<std::string> a{"src", "/mnt", "-o", "x=/etc", "--", "-weird"};
	EXPECT_TRUE(is_mountpoint_argument(a, "/mnt"));
	EXPECT_FALSE(is_mountpoint_argument(a, "src"));    /* the source */
	EXPECT_FALSE(is_mountpoint_argument(a, "-weird")); /* a third positional */
	EXPECT_FALSE(is_mountpoint_argument(a, "/etc"));
	EXPECT_FALSE(is_mountpoint_argument(a, "x=/etc"));
	EXPECT_FALSE(is_mountpoint_argument(a, "-o"));
	std::vector<std::string> lone{"-o", "ro", "/mnt"};
	EXPECT_TRUE(is_mountpoint_argument(lone, "/mnt"));
	std::vector<std::string> after_dashes{"--", "-src", "-mnt"};
	EXPECT_TRUE(is_mountpoint_argument(after_dashes, "-mnt"));
	EXPECT_FALSE(is_mountpoint_argument(std::vector<std::string>{}, ""));
}

TEST(ArgumentPolicy, NamedFiles)
{
	std::vector<std::string> a{"/dev/sda",    "/mnt", "-o",         "ro,journal=/j\\,x,log=/l",
				   "-o",          "",     "--cache=/c", "-J/x",
				   "-obacking=/b"};
	EXPECT_TRUE(is_named_on_command_line(a, "/dev/sda"));
	EXPECT_TRUE(is_named_on_command_line(a, "/j,x"));
	EXPECT_TRUE(is_named_on_command_line(a, "/l"));
	EXPECT_TRUE(is_named_on_command_line(a, "/c"));
	EXPECT_TRUE(is_named_on_command_line(a, "/x"));
	EXPECT_TRUE(is_named_on_command_line(a, "/b"));
	EXPECT_FALSE(is_named_on_command_line(a, "/j"));
	EXPECT_FALSE(is_named_on_command_line(a, "/etc/shadow"));
	EXPECT_FALSE(is_named_on_command_line(a, ""));
}

TEST(KernelOptions, QuotesKeepCommasAndAreStripped)
{
	auto v = split_kernel_options("allow_other,context=\"u:r:t,s0\",max_read=4096");
	ASSERT_EQ(v.size(), 3u);
	EXPECT_EQ(v[0].key, "allow_other");
	EXPECT_FALSE(v[0].has_value);
	EXPECT_EQ(v[1].key, "context");
	EXPECT_EQ(v[1].value, "u:r:t,s0");
	EXPECT_EQ(v[2].value, "4096");
}

TEST(KernelOptions, HelperOwnedAndAllowOther)
{
	std::string bad;
	EXPECT_EQ(check_kernel_options("default_permissions,max_read=1", false, &bad), 0);
	EXPECT_EQ(check_kernel_options("fd=3", true, &bad), -EPERM);
	EXPECT_EQ(bad, "fd");
	EXPECT_EQ(check_kernel_options("context=\"x,user_id=0\"", true, &bad), -EPERM);
	EXPECT_EQ(bad, "user_id");
	EXPECT_EQ(check_kernel_options("\"rootmode\"=40000", true, &bad), -EPERM);
	EXPECT_EQ(check_kernel_options("allow_other", false, &bad), -EPERM);
	EXPECT_EQ(check_kernel_options("allow_root", false, &bad), -EPERM);
	EXPECT_EQ(check_kernel_options("allow_other", true, &bad), 0);
}

TEST(MsFlags, TranslationToNewApi)
{
	auto f = translate_ms_flags(MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOATIME | MS_DIRSYNC);
	EXPECT_EQ(f.leftover, 0u);
	EXPECT_EQ(f.attrs, unsigned(MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
				    MOUNT_ATTR_NOATIME));
	ASSERT_EQ(f.sb_flags.size(), 2u);
	EXPECT_STREQ(f.sb_flags[0], "ro");
	EXPECT_STREQ(f.sb_flags[1], "dirsync");
	EXPECT_EQ(translate_ms_flags(MS_NOATIME | MS_STRICTATIME).attrs,
		  unsigned(MOUNT_ATTR_STRICTATIME));
}

/* F4: a server must not be able to force the mount(2) fallback with a harmless flag. */
TEST(MsFlags, EveryAllowedFlagHasANewApiForm)
{
	EXPECT_EQ(translate_ms_flags(MS_SILENT).leftover, 0u);
	EXPECT_EQ(translate_ms_flags(MS_SILENT | MS_NOSUID | MS_NODEV).leftover, 0u);
	EXPECT_EQ(translate_ms_flags(kAllowedMsFlags).leftover, 0u);
}

TEST(MsFlags, UnsafeFlagsCleared)
{
	const CallerMountOptions none;
	EXPECT_EQ(apply_caller_floor(0, none, true), unsigned(MS_NOSUID | MS_NODEV));
	EXPECT_EQ(apply_caller_floor(MS_RDONLY | MS_NOSUID | MS_NODEV, none, false),
		  unsigned(MS_RDONLY | MS_NOSUID | MS_NODEV));
	EXPECT_EQ(kAllowedMsFlags & (MS_BIND | MS_MOVE | MS_REMOUNT | MS_REC | MS_SHARED), 0u);
}

/* Issue 8, finding 1: the caller's -o is a floor; later tokens win. */
TEST(CallerOptions, Floor)
{
	const std::vector<std::string> a = {"src",       "/mnt", "-o", "ro,noexec,sync",
					    "-onoatime", "--",   "-o", "suid"};
	const CallerMountOptions o = parse_caller_mount_options(a);
	EXPECT_EQ(o.required_flags, unsigned(MS_RDONLY | MS_NOEXEC | MS_SYNCHRONOUS | MS_NOATIME));
	EXPECT_FALSE(o.suid); /* after "--": not an option */
	EXPECT_EQ(
	    apply_caller_floor(MS_STRICTATIME, o, true),
	    unsigned(MS_RDONLY | MS_NOEXEC | MS_SYNCHRONOUS | MS_NOATIME | MS_NOSUID | MS_NODEV));

	const std::vector<std::string> b = {"-o", "ro,rw,nosuid,suid,dev,nodev,allow_other"};
	const CallerMountOptions p = parse_caller_mount_options(b);
	EXPECT_EQ(p.required_flags, 0u);
	EXPECT_TRUE(p.suid);
	EXPECT_FALSE(p.dev);
	EXPECT_TRUE(p.allow_other);
	EXPECT_FALSE(p.allow_root);
	EXPECT_EQ(apply_caller_floor(0, p, true), unsigned(MS_NODEV));
	EXPECT_EQ(apply_caller_floor(0, p, false), unsigned(MS_NOSUID | MS_NODEV));
}

TEST(KernelOptions, WideningNeedsTheCaller)
{
	std::string bad;
	EXPECT_EQ(check_widening_options("default_permissions,allow_other", false, true, &bad),
		  -EPERM);
	EXPECT_EQ(bad, "allow_other");
	EXPECT_EQ(check_widening_options("x=\"a,allow_root\"", true, false, &bad), -EPERM);
	EXPECT_EQ(check_widening_options("allow_other", true, false, &bad), 0);
	EXPECT_EQ(check_kernel_options("max_read=4096,async", true, &bad), -EPERM);
	EXPECT_EQ(bad, "async");
	EXPECT_EQ(check_kernel_options("rw", true, &bad), -EPERM);
	EXPECT_TRUE(has_kernel_option("a=1,default_permissions", "default_permissions"));
	EXPECT_FALSE(has_kernel_option("default_permissionsx", "default_permissions"));
}

/*
 * F1: AsCaller must leave no capability effective for a non-root caller, not
 * only the filesystem ones. Each case runs in a child that makes itself look
 * like the setuid helper started by nobody (real ids 65534, effective and
 * saved uid 0) and reports failures through its exit status.
 */
namespace
{

constexpr uid_t kNobody = 65534;

/* Run body in a child; 0 is success, anything else names the failed step. */
int in_child(int (*body)(pid_t), pid_t arg)
{
	pid_t pid = fork();
	if (pid == 0)
		_exit(body(arg));
	int status = 0;
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return 100;
	return WEXITSTATUS(status);
}

int as_setuid_helper_of_nobody(pid_t root_pid)
{
	if (setgroups(0, nullptr) < 0 || setresgid(kNobody, kNobody, kNobody) < 0 ||
	    setresuid(kNobody, 0, 0) < 0)
		return 1;
	const Caller caller = Caller::current();
	if (!caller.elevated() || caller.is_root())
		return 2;
	const std::string cwd = "/proc/" + std::to_string(root_pid) + "/cwd";
	{
		AsCaller as(caller);
		if (geteuid() != kNobody || getegid() != kNobody || current_fsuid() != kNobody)
			return 3;
		if (auto eff = effective_capabilities(); !eff || *eff != 0)
			return 4;
		/* Without CAP_SYS_PTRACE, another user's /proc/PID/cwd is closed. */
		int fd = open(cwd.c_str(), O_PATH | O_CLOEXEC);
		if (fd >= 0 || errno != EACCES)
			return 5;
	}
	uid_t r, e, s;
	if (getresuid(&r, &e, &s) < 0 || r != kNobody || e != 0 || s != 0)
		return 6;
	if (auto eff = effective_capabilities(); !eff || !(*eff & (1ULL << 21 /* CAP_SYS_ADMIN */)))
		return 7;
	int fd = open(cwd.c_str(), O_PATH | O_CLOEXEC);
	if (fd < 0)
		return 8; /* root again: the scope really ended */
	close(fd);
	return 0;
}

/* A non-root process that holds capabilities of its own (no setuid involved). */
int as_capable_nonroot(pid_t)
{
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 || setgroups(0, nullptr) < 0 ||
	    setresgid(kNobody, kNobody, kNobody) < 0 || setresuid(kNobody, kNobody, kNobody) < 0)
		return 1;
	/* KEEPCAPS kept the permitted set; make it effective again with capset. */
	__user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
	__user_cap_data_struct d[2]{};
	if (syscall(SYS_capget, &hdr, d) < 0)
		return 2;
	d[0].effective = d[0].permitted;
	d[1].effective = d[1].permitted;
	if (syscall(SYS_capset, &hdr, d) < 0)
		return 3;
	auto before = effective_capabilities();
	if (!before || *before == 0)
		return 4;
	{
		AsCaller as(Caller::current());
		if (auto eff = effective_capabilities(); !eff || *eff != 0)
			return 5;
	}
	if (auto after = effective_capabilities(); !after || *after != *before)
		return 6;
	return 0;
}

} // namespace

TEST(Privileges, AsCallerDropsEveryEffectiveCapability)
{
	if (geteuid() != 0)
		GTEST_SKIP() << "needs root to play the setuid helper";
	/* A root process whose cwd nobody may not reach through /proc. */
	pid_t root_proc = fork();
	ASSERT_GE(root_proc, 0);
	if (root_proc == 0) {
		pause();
		_exit(0);
	}
	int r = in_child(as_setuid_helper_of_nobody, root_proc);
	kill(root_proc, SIGKILL);
	waitpid(root_proc, nullptr, 0);
	EXPECT_EQ(r, 0);
}

TEST(Privileges, AsCallerClearsCapabilitiesANonRootCallerBrought)
{
	if (geteuid() != 0)
		GTEST_SKIP() << "needs root to set up a capable non-root process";
	EXPECT_EQ(in_child(as_capable_nonroot, 0), 0);
}
