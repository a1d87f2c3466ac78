/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * compute_mount_request() against the facts of upstream libfuse 3.19
 * (lib/mount.c fuse_mount_opts/mount_flags, lib/mount_util.c, lib/helper.c):
 * fs type, source, kernel options in command-line order, mount flags from
 * MS_NOSUID|MS_NODEV, and mtab options (user=, -n, x-*) only.
 */
#include <gtest/gtest.h>

#include <cerrno>
#include <sys/mount.h>

#include "lib/mount_options.h"

using namespace fsvc;
using Args = std::vector<std::string>;

namespace
{

constexpr uint32_t kDefault = MS_NOSUID | MS_NODEV;

MountRequest req(const Args &a)
{
	auto r = compute_mount_request(a);
	EXPECT_TRUE(r.ok()) << r.error();
	return r.ok() ? r.value() : MountRequest{};
}

uint32_t flags(const std::string &opts)
{
	return req({"fs", "-o", opts}).ms_flags;
}

} // namespace

TEST(MountOptions, Defaults)
{
	MountRequest m = req({"myfs"});
	EXPECT_EQ(m.fstype, "fuse.myfs");
	EXPECT_EQ(m.source, "myfs");
	EXPECT_FALSE(m.kernel_opts);
	EXPECT_FALSE(m.mtab_opts);
	EXPECT_EQ(m.ms_flags, kDefault);
	EXPECT_FALSE(m.fuseblk);
}

TEST(MountOptions, FsTypeAndSubtype)
{
	EXPECT_EQ(req({"/usr/bin/myfs"}).fstype, "fuse.myfs");
	EXPECT_EQ(req({"myfs", "-o", "subtype=other"}).fstype, "fuse.other");
	EXPECT_EQ(req({"myfs", "-o", "blkdev"}).fstype, "fuseblk.myfs");
	EXPECT_TRUE(req({"myfs", "-o", "blkdev"}).fuseblk);
	/* fsname= suppresses the default subtype, as in fuse_parse_cmdline(). */
	EXPECT_EQ(req({"myfs", "-o", "fsname=/dev/sda"}).fstype, "fuse");
	EXPECT_EQ(req({"myfs", "-o", "blkdev,fsname=/dev/sda"}).fstype, "fuseblk");
	EXPECT_EQ(req({"myfs", "-o", "fsname=x,subtype=y"}).fstype, "fuse.y");
	EXPECT_EQ(req({""}).fstype, "fuse");
	EXPECT_EQ(req({}).fstype, "fuse");
}

TEST(MountOptions, Source)
{
	EXPECT_EQ(req({"myfs", "-o", "fsname=/dev/sdb1"}).source, "/dev/sdb1");
	EXPECT_EQ(req({"myfs", "-o", "subtype=st,fsname=fsn"}).source, "fsn");
	EXPECT_EQ(req({"myfs", "-o", "subtype=st"}).source, "st");
	EXPECT_EQ(req({""}).source, "/dev/fuse");
	EXPECT_EQ(req({}).source, "/dev/fuse");
	/* The last fsname= wins; an escaped comma is part of the value. */
	EXPECT_EQ(req({"myfs", "-o", "fsname=a", "-o", "fsname=b"}).source, "b");
	EXPECT_EQ(req({"myfs", "-o", "fsname=a\\,b"}).source, "a,b");
}

TEST(MountOptions, KernelOptionsInCommandLineOrder)
{
	MountRequest m = req({"fs", "-o", "max_read=4096,allow_other,myopt=1", "-o",
			      "default_permissions,blksize=512,context=a,fscontext=b,"
			      "defcontext=c,rootcontext=d,fsname=f,subtype=s,auto_unmount,ro"});
	ASSERT_TRUE(m.kernel_opts);
	EXPECT_EQ(*m.kernel_opts, "max_read=4096,allow_other,default_permissions,blksize=512,"
				  "context=a,fscontext=b,defcontext=c,rootcontext=d");
	EXPECT_FALSE(m.mtab_opts);
}

TEST(MountOptions, MsFlags)
{
	EXPECT_EQ(flags("ro"), kDefault | MS_RDONLY);
	EXPECT_EQ(flags("ro,rw"), kDefault);
	EXPECT_EQ(flags("suid"), static_cast<uint32_t>(MS_NODEV));
	EXPECT_EQ(flags("suid,nosuid"), kDefault);
	EXPECT_EQ(flags("dev"), static_cast<uint32_t>(MS_NOSUID));
	EXPECT_EQ(flags("dev,nodev"), kDefault);
	EXPECT_EQ(flags("noexec"), kDefault | MS_NOEXEC);
	EXPECT_EQ(flags("noexec,exec"), kDefault);
	EXPECT_EQ(flags("sync"), kDefault | MS_SYNCHRONOUS);
	EXPECT_EQ(flags("sync,async"), kDefault);
	EXPECT_EQ(flags("dirsync"), kDefault | MS_DIRSYNC);
	EXPECT_EQ(flags("noatime"), kDefault | MS_NOATIME);
	EXPECT_EQ(flags("nodiratime"), kDefault | MS_NODIRATIME);
	EXPECT_EQ(flags("nostrictatime"), kDefault);
	EXPECT_EQ(flags("nosymfollow"), kDefault | MS_NOSYMFOLLOW);
	EXPECT_EQ(flags("nosymfollow,symfollow"), kDefault);
	EXPECT_EQ(req({"fs", "-r"}).ms_flags, kDefault | MS_RDONLY);
	EXPECT_EQ(req({"fs", "-r", "-o", "rw"}).ms_flags, kDefault);
	EXPECT_EQ(flags("ro,suid,dev,noexec,sync,dirsync,noatime,nodiratime,nosymfollow"),
		  static_cast<uint32_t>(MS_RDONLY | MS_NOEXEC | MS_SYNCHRONOUS | MS_DIRSYNC |
					MS_NOATIME | MS_NODIRATIME | MS_NOSYMFOLLOW));
}

TEST(MountOptions, OnlyUpstreamFlagOptionsAreFlags)
{
	/* libfuse 3.19 does not treat these as mount flags: they are left to
	 * fuse_session_new(), which rejects them. */
	for (const char *o : {"atime", "diratime", "lazytime", "nolazytime", "relatime",
			      "norelatime", "strictatime"}) {
		MountRequest m = req({"fs", "-o", o});
		EXPECT_EQ(m.ms_flags, kDefault) << o;
		EXPECT_FALSE(m.kernel_opts) << o;
		EXPECT_FALSE(m.mtab_opts) << o;
	}
}

TEST(MountOptions, MtabOptions)
{
	MountRequest m =
	    req({"fs", "-n", "-o", "x-gvfs-show,ro,user=bob,allow_other", "-o", "x-a=b,other"});
	ASSERT_TRUE(m.mtab_opts);
	EXPECT_EQ(*m.mtab_opts, "-n,x-gvfs-show,user=bob,x-a=b");
	ASSERT_TRUE(m.kernel_opts);
	EXPECT_EQ(*m.kernel_opts, "allow_other");
	EXPECT_FALSE(req({"fs", "-o", "ro,noexec"}).mtab_opts);
}

TEST(MountOptions, ParseError)
{
	EXPECT_EQ(compute_mount_request({"fs", "-o"}).error(), -EINVAL);
}

TEST(MountOptions, ServiceOnlyOptions)
{
	for (const char *o :
	     {"x-", "x-gvfs-hide", "symfollow", "nosymfollow", "nodiratime", "nostrictatime"})
		EXPECT_TRUE(is_service_only_option(o)) << o;
	for (const char *o : {"ro", "noatime", "allow_other", "user=x", "xattr", "-n", "-r"})
		EXPECT_FALSE(is_service_only_option(o)) << o;
}
