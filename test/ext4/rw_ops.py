#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Each write operation of ext4-service, checked on the mount as it runs,
then the whole tree recorded so the kernel can be held to it.

    rw_ops.py ops MOUNT [--nobody]   run every operation; one "ok:" line each
    rw_ops.py snapshot MOUNT FILE    record every path's fields and statfs
    rw_ops.py check MOUNT FILE       the same fields, read through MOUNT now
    rw_ops.py htree MOUNT            grow and shrink an htree directory
    rw_ops.py hostile MOUNT          write all over a damaged image; errors
                                     are fine, the answers must keep coming

Exits 1 on the first failed check (with the reason)."""
import ctypes
import errno
import hashlib
import os
import pickle
import stat
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare  # noqa: E402

libc = ctypes.CDLL(None, use_errno=True)
libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_long, ctypes.c_long]
libc.renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                           ctypes.c_uint]
AT_FDCWD = -100
RENAME_NOREPLACE, RENAME_EXCHANGE = 1, 2
FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, FALLOC_FL_ZERO_RANGE = 1, 2, 0x10

COUNT = 0


def ok(what):
    global COUNT
    COUNT += 1
    print("ok: " + what, flush=True)


def die(what):
    print("FAIL: " + what, flush=True)
    sys.exit(1)


def expect(cond, what):
    if not cond:
        die(what)
    ok(what)


def errno_of(fn, *a):
    try:
        fn(*a)
    except OSError as e:
        return e.errno
    return 0


def fallocate(path, mode, off, length):
    fd = os.open(path, os.O_RDWR)
    try:
        if libc.fallocate(fd, mode, off, length) != 0:
            return ctypes.get_errno()
        return 0
    finally:
        os.close(fd)


def renameat2(a, b, flags):
    if libc.renameat2(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), flags) != 0:
        return ctypes.get_errno()
    return 0


def read(path):
    with open(path, "rb") as f:
        return f.read()


def write(path, data, flags=os.O_WRONLY | os.O_CREAT | os.O_TRUNC, off=None):
    fd = os.open(path, flags, 0o644)
    try:
        if off is not None:
            os.pwrite(fd, data, off)
        else:
            os.write(fd, data)
    finally:
        os.close(fd)


def pattern(n, seed):
    out = bytearray()
    i = 0
    while len(out) < n:
        out += hashlib.sha256(b"%d-%d" % (seed, i)).digest()
        i += 1
    return bytes(out[:n])


def free_blocks(m):
    return os.statvfs(m).f_bfree


def wait_free(m, want):
    """An unlinked inode is freed when the kernel forgets it (FUSE_FORGET
    is sent in the background just after the last reference goes)."""
    for _ in range(200):
        if free_blocks(m) >= want:
            return True
        time.sleep(0.025)
    return False


def ops(m, nobody, extents, ns):
    os.chdir(m)
    bs = os.statvfs(m).f_bsize
    free0, files0 = free_blocks(m), os.statvfs(m).f_ffree

    # create, write, read back
    write("new", b"hello\n")
    expect(read("new") == b"hello\n", "create + write + read back")
    st = os.stat("new")
    expect(st.st_size == 6 and stat.S_IMODE(st.st_mode) == 0o644 & ~0o022,
           "new file: size 6, mode 0644 under umask 022")
    expect(os.statvfs(m).f_ffree == files0 - 1, "statfs: one inode fewer")

    # O_APPEND
    write("new", b"more\n", os.O_WRONLY | os.O_APPEND)
    expect(read("new") == b"hello\nmore\n", "O_APPEND writes at the end")

    # writes past EOF leave a hole
    write("holey", b"A", os.O_WRONLY | os.O_CREAT, off=0)
    write("holey", b"Z", os.O_WRONLY, off=10 * bs + 5)
    d = read("holey")
    expect(len(d) == 10 * bs + 6 and d[1:10 * bs + 5] == bytes(10 * bs + 4) and d[-1:] == b"Z",
           "a write past EOF: zeros in between")
    expect(os.stat("holey").st_blocks * 512 <= 2 * bs, "the gap is a hole (2 blocks allocated)")

    # several extents, then truncate down and up across their boundaries
    data = pattern(64 * bs, 1)
    fd = os.open("ext", os.O_WRONLY | os.O_CREAT, 0o600)
    for i in range(0, 64, 2):  # every other block: one extent each
        os.pwrite(fd, data[i * bs:(i + 1) * bs], i * bs)
    os.close(fd)
    want = bytearray(64 * bs)
    for i in range(0, 64, 2):
        want[i * bs:(i + 1) * bs] = data[i * bs:(i + 1) * bs]
    expect(read("ext") == bytes(want[:63 * bs]), "32 extents written between holes")
    os.truncate("ext", 20 * bs + 100)
    expect(read("ext") == bytes(want[:20 * bs + 100]), "truncate down inside an extent")
    os.truncate("ext", 40 * bs)
    d = read("ext")
    expect(d[:20 * bs + 100] == bytes(want[:20 * bs + 100]) and d[20 * bs + 100:] == bytes(len(d) - 20 * bs - 100),
           "truncate up: the old tail reads as zeros")
    os.truncate("ext", 3 * bs)
    expect(read("ext") == bytes(want[:3 * bs]), "truncate down across many extents")

    # O_TRUNC (FUSE_ATOMIC_O_TRUNC: done in open)
    write("new", b"x")
    expect(read("new") == b"x", "open(O_TRUNC) empties the file")

    # mkdir / rmdir
    os.mkdir("dir", 0o750)
    st = os.stat("dir")
    expect(stat.S_ISDIR(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o750 and st.st_nlink == 2,
           "mkdir: mode 0750, nlink 2")
    nl = os.stat(".").st_nlink
    os.mkdir("dir/sub")
    expect(os.stat("dir").st_nlink == 3, "a subdirectory counts in its parent's nlink")
    write("dir/sub/f", b"1")
    expect(errno_of(os.rmdir, "dir/sub") == errno.ENOTEMPTY, "rmdir of a non-empty directory: ENOTEMPTY")
    os.unlink("dir/sub/f")
    os.rmdir("dir/sub")
    expect(os.stat("dir").st_nlink == 2 and not os.path.exists("dir/sub"), "rmdir")
    expect(os.stat(".").st_nlink == nl, "root nlink unchanged by work below")

    # unlink, also of an open file
    write("gone", pattern(100 * bs, 2))
    before = free_blocks(m)
    fd = os.open("gone", os.O_RDONLY)
    os.unlink("gone")
    expect(not os.path.exists("gone"), "unlink")
    expect(os.pread(fd, 16, 50 * bs) == pattern(100 * bs, 2)[50 * bs:50 * bs + 16],
           "an unlinked open file still reads")
    os.close(fd)
    expect(wait_free(m, before + 100), "its blocks are freed after the last close")

    # symlinks, fast and slow
    os.symlink("new", "fast")
    long_target = "t" * 70 + "/" + "u" * (min(bs, 4096) - 72)
    os.symlink(long_target, "slow")
    expect(os.readlink("fast") == "new" and read("fast") == b"x", "fast symlink")
    expect(os.readlink("slow") == long_target, "slow symlink (%d-byte target)" % len(long_target))

    # hard links
    os.link("new", "dir/hard")
    expect(os.stat("new").st_nlink == 2 and os.stat("new").st_ino == os.stat("dir/hard").st_ino,
           "link: nlink 2, one inode")
    os.unlink("dir/hard")
    expect(os.stat("new").st_nlink == 1, "unlink of one name: nlink 1")

    # rename
    write("r1", b"r1")
    os.rename("r1", "r2")
    expect(read("r2") == b"r1" and not os.path.exists("r1"), "rename in one directory")
    os.rename("r2", "dir/r3")
    expect(read("dir/r3") == b"r1", "rename across directories")
    write("victim", b"v")
    os.rename("dir/r3", "victim")
    expect(read("victim") == b"r1", "rename over an existing file")
    os.mkdir("d1")
    os.mkdir("d1/moved")
    os.rename("d1/moved", "dir/moved")
    expect(os.stat("dir/moved/..").st_ino == os.stat("dir").st_ino,
           "a directory moved: its '..' is the new parent")
    expect(os.stat("d1").st_nlink == 2 and os.stat("dir").st_nlink == 3,
           "a directory moved: both parents' nlink")
    os.mkdir("d1/empty")
    os.rename("d1/empty", "dir/moved")
    expect(os.path.isdir("dir/moved") and not os.path.exists("d1/empty") and os.stat("dir").st_nlink == 3,
           "rename a directory over an empty one")
    write("a", b"a")
    write("b", b"b")
    expect(renameat2("a", "b", RENAME_NOREPLACE) == errno.EEXIST, "RENAME_NOREPLACE over a name: EEXIST")
    expect(renameat2("a", "c", RENAME_NOREPLACE) == 0 and read("c") == b"a", "RENAME_NOREPLACE to a free name")
    expect(renameat2("c", "b", RENAME_EXCHANGE) == 0 and read("c") == b"b" and read("b") == b"a",
           "RENAME_EXCHANGE of two files")
    expect(renameat2("b", "d1", RENAME_EXCHANGE) == 0 and os.path.isdir("b") and read("d1") == b"a",
           "RENAME_EXCHANGE of a file and a directory")
    expect(renameat2("b", "dir/xchg", RENAME_EXCHANGE) == errno.ENOENT, "RENAME_EXCHANGE with no target: ENOENT")
    os.mkdir("dir/x2")
    expect(renameat2("b", "dir/x2", RENAME_EXCHANGE) == 0 and
           os.stat("dir/x2/..").st_ino == os.stat("dir").st_ino and
           os.stat("b/..").st_ino == os.stat(".").st_ino,
           "RENAME_EXCHANGE of two directories across parents: both '..' right")

    # setattr
    os.chmod("new", 0o4751)
    expect(stat.S_IMODE(os.stat("new").st_mode) == 0o4751, "chmod")
    if not nobody:
        os.chown("new", 1234, 5678)
        st = os.stat("new")
        expect(st.st_uid == 1234 and st.st_gid == 5678, "chown by root")
        os.chown("new", 70000, 70001)
        expect(os.stat("new").st_uid == 70000, "chown to a 32-bit uid")
    else:
        expect(errno_of(os.chown, "new", 0, 0) == errno.EPERM, "chown by a user: EPERM")
    if ns:
        os.utime("new", ns=(1234567890123456789, 2234567890987654321))
        st = os.stat("new")
        expect(st.st_atime_ns == 1234567890123456789 and st.st_mtime_ns == 2234567890987654321,
               "utimens with nanoseconds (and past 2038)")
        os.utime("new", ns=(-1000000001, 5))
        expect(os.stat("new").st_atime_ns == -1000000001, "utimens before 1970")
    else:
        os.utime("new", ns=(1234567890123456789, 2234567890987654321))
        st = os.stat("new")
        expect(st.st_atime_ns == 1234567890 * 10**9 and st.st_mtime_ns == (2**31 - 1) * 10**9,
               "utimens on 128-byte inodes: whole seconds, clamped at 2038")

    # mknod
    os.mkfifo("fifo", 0o640)
    expect(stat.S_ISFIFO(os.stat("fifo").st_mode), "mknod: fifo")
    os.mknod("sock", 0o600 | stat.S_IFSOCK)
    expect(stat.S_ISSOCK(os.stat("sock").st_mode), "mknod: socket")
    e = errno_of(os.mknod, "chr", 0o600 | stat.S_IFCHR, os.makedev(1, 3))
    expect(e == errno.EPERM, "mknod: a device node on a nodev mount is refused (errno %d)" % e)

    # fallocate
    if not extents:
        write("fa", b"")
        expect(fallocate("fa", 0, 0, 64 * bs) == errno.EOPNOTSUPP,
               "fallocate on a block-mapped file: EOPNOTSUPP (as ext4)")
        data = pattern(32 * bs, 3)
        write("ph", data)
        e = fallocate("ph", FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 3 * bs + 10, 10 * bs)
        expect(e == 0, "fallocate PUNCH_HOLE on a block-mapped file (errno %d)" % e)
        expect(read("ph") == data[:3 * bs + 10] + bytes(10 * bs) + data[13 * bs + 10:],
               "punched: zeros in the range")
    else:
        write("fa", b"")
        expect(fallocate("fa", 0, 0, 64 * bs) == 0 and os.stat("fa").st_size == 64 * bs and
               read("fa") == bytes(64 * bs), "fallocate: size grows, reads zeros")
        expect(os.stat("fa").st_blocks * 512 >= 64 * bs, "fallocate: blocks allocated")
        expect(fallocate("fa", FALLOC_FL_KEEP_SIZE, 64 * bs, 16 * bs) == 0 and
               os.stat("fa").st_size == 64 * bs and os.stat("fa").st_blocks * 512 >= 80 * bs,
               "fallocate KEEP_SIZE: blocks past EOF, size unchanged")
        data = pattern(32 * bs, 3)
        write("ph", data)
        expect(fallocate("ph", FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 3 * bs + 10, 10 * bs) == 0,
               "fallocate PUNCH_HOLE")
        want = data[:3 * bs + 10] + bytes(10 * bs) + data[13 * bs + 10:]
        expect(read("ph") == want and os.stat("ph").st_blocks * 512 <= 32 * bs - 9 * bs,
               "punched: zeros in the range, whole blocks freed")
        expect(fallocate("ph", FALLOC_FL_ZERO_RANGE, 20 * bs + 1, 5 * bs) == 0, "fallocate ZERO_RANGE")
        want = want[:20 * bs + 1] + bytes(5 * bs) + want[25 * bs + 1:]
        expect(read("ph") == want and os.stat("ph").st_size == 32 * bs, "zeroed range reads zeros")
        expect(fallocate("ph", FALLOC_FL_ZERO_RANGE, 30 * bs, 4 * bs) == 0 and
               os.stat("ph").st_size == 34 * bs, "ZERO_RANGE past EOF grows the file")
        expect(fallocate("ph", 0x8, 0, bs) == errno.EOPNOTSUPP, "fallocate COLLAPSE_RANGE: EOPNOTSUPP")

    # fsync / fsyncdir
    fd = os.open("new", os.O_RDWR)
    os.write(fd, b"synced")
    os.fsync(fd)
    os.fdatasync(fd)
    os.close(fd)
    fd = os.open("dir", os.O_RDONLY | os.O_DIRECTORY)
    os.fsync(fd)
    os.close(fd)
    ok("fsync, fdatasync, fsync of a directory")

    # xattrs: in the inode, in a block, replace, remove
    os.setxattr("new", "user.small", b"v1")
    expect(os.getxattr("new", "user.small") == b"v1", "setxattr (small: in the inode)")
    big = pattern(bs // 2, 4)
    os.setxattr("new", "user.big", big)
    expect(os.getxattr("new", "user.big") == big, "setxattr (large: an external block)")
    expect(errno_of(os.setxattr, "new", "user.small", b"x", os.XATTR_CREATE) == errno.EEXIST,
           "XATTR_CREATE of an existing name: EEXIST")
    expect(errno_of(os.setxattr, "new", "user.none", b"x", os.XATTR_REPLACE) == errno.ENODATA,
           "XATTR_REPLACE of a missing name: ENODATA")
    os.setxattr("new", "user.small", b"v2", os.XATTR_REPLACE)
    expect(os.getxattr("new", "user.small") == b"v2", "XATTR_REPLACE")
    os.removexattr("new", "user.big")
    expect("user.big" not in os.listxattr("new"), "removexattr")
    expect(errno_of(os.removexattr, "new", "user.big") == errno.ENODATA, "removexattr of a missing name: ENODATA")
    # ACLs in the kernel's format: version 2, then (tag, perm, id) entries
    import struct

    def acl(*entries):
        return struct.pack("<I", 2) + b"".join(struct.pack("<HHI", t, p, i) for t, p, i in entries)
    a = acl((1, 7, 0xffffffff), (2, 5, 4242), (4, 4, 0xffffffff), (0x10, 5, 0xffffffff), (0x20, 0, 0xffffffff))
    os.chmod("new", 0o644)
    os.setxattr("new", "system.posix_acl_access", a)
    expect(os.getxattr("new", "system.posix_acl_access") == a, "an access ACL reads back")
    expect(stat.S_IMODE(os.stat("new").st_mode) == 0o750, "the mode follows the ACL (0750)")
    os.mkdir("acl")
    dflt = acl((1, 7, 0xffffffff), (2, 7, 4242), (4, 5, 0xffffffff), (0x10, 7, 0xffffffff), (0x20, 5, 0xffffffff))
    os.setxattr("acl", "system.posix_acl_default", dflt)
    write("acl/inherits", b"i")
    names = os.listxattr("acl/inherits")
    expect("system.posix_acl_access" in names, "a new file inherits the default ACL")
    os.mkdir("acl/subdir")
    expect(os.getxattr("acl/subdir", "system.posix_acl_default") == dflt, "a new directory inherits the default ACL")

    # a sparse file past 4 GiB, then deleted
    before = free_blocks(m)
    write("huge", b"end", os.O_WRONLY | os.O_CREAT, off=(5 << 30) + 12345)
    expect(os.stat("huge").st_size == (5 << 30) + 12348 and read_at("huge", (5 << 30) + 12345, 3) == b"end",
           "a sparse file past 4 GiB")
    os.unlink("huge")
    expect(wait_free(m, before), "deleted: statfs as before")

    # a directory grown past one block
    os.mkdir("wide")
    for i in range(400):
        write("wide/%s-%04d" % ("n" * 40, i), b"%d" % i)
    for i in range(0, 400, 3):
        os.unlink("wide/%s-%04d" % ("n" * 40, i))
    left = sorted(os.listdir("wide"))
    expect(len(left) == 266 and os.stat("wide").st_size > bs, "a directory of 400 names (more than one block), 134 removed")

    expect(free_blocks(m) < free0, "statfs: fewer free blocks after all this")


def read_at(path, off, n):
    with open(path, "rb") as f:
        f.seek(off)
        return f.read(n)


def htree(m):
    d = os.path.join(m, "many")
    have = set(os.listdir(d))
    for i in range(3000):
        write(os.path.join(d, "added-%05d" % i), b"")
    for n in sorted(have)[::2]:
        os.unlink(os.path.join(d, n))
    want = (have - set(sorted(have)[::2])) | {"added-%05d" % i for i in range(3000)}
    expect(set(os.listdir(d)) == want, "htree directory: 3000 added, %d removed" % len(sorted(have)[::2]))


def hostile(m):
    """Every kind of change, everywhere, on a damaged image: each may fail
    (EUCLEAN, EIO...), none may hang; prints the errnos seen."""
    seen = {}

    def attempt(fn, *a):
        try:
            fn(*a)
            seen[0] = seen.get(0, 0) + 1
        except OSError as e:
            seen[e.errno] = seen.get(e.errno, 0) + 1

    paths = []
    for dirpath, dirnames, filenames in os.walk(m, onerror=lambda e: None):
        paths += [(dirpath, n, True) for n in dirnames] + [(dirpath, n, False) for n in filenames]
        attempt(write, os.path.join(dirpath, "new-file"), b"x" * 5000)
        attempt(os.mkdir, os.path.join(dirpath, "new-dir"))
        attempt(os.symlink, "t" * 200, os.path.join(dirpath, "new-link"))
    # Files first: renaming a directory first would hide what is below it.
    paths.sort(key=lambda x: (x[2], -len(x[0])))
    for i, (d, n, isdir) in enumerate(paths):
        p = os.path.join(d, n)
        if isdir:
            attempt(os.rename, p, p + "-moved")
            continue
        attempt(write, p, b"appended", os.O_WRONLY | os.O_APPEND)
        attempt(write, p, b"z", os.O_WRONLY, 1 << 20)
        attempt(os.setxattr, p, "user.new", b"v" * (i % 3000))
        attempt(os.truncate, p, 100)
        attempt(os.chmod, p, 0o600)
        attempt(os.link, p, p + "-link")
        attempt(os.rename, p, p + "-renamed")
        if i % 2:
            attempt(os.unlink, p + "-renamed")
    attempt(os.statvfs, m)
    print("hostile writes: " + ", ".join("%s %d" % (errno.errorcode.get(k, k) if k else "ok", v)
                                          for k, v in sorted(seen.items())))


def snapshot(m):
    b = os.fsencode(m)
    out = {}
    for rel in compare.walk(b):
        d = compare.describe(b, rel)
        d.pop("atime_ns")  # the kernel's relatime may move it on a read
        out[rel] = d
    sv = os.statvfs(m)
    out["statfs"] = [sv.f_bsize, sv.f_blocks, sv.f_bfree, sv.f_bavail, sv.f_files, sv.f_ffree]
    return out


def main():
    cmd, m = sys.argv[1], sys.argv[2]
    if cmd == "ops":
        os.umask(0o022)
        ops(m, "--nobody" in sys.argv, "--no-extents" not in sys.argv, "--no-ns" not in sys.argv)
        print("%d checks passed" % COUNT)
    elif cmd == "htree":
        htree(m)
    elif cmd == "hostile":
        hostile(m)
    elif cmd == "snapshot":
        with open(sys.argv[3], "wb") as f:
            pickle.dump(snapshot(m), f)
    elif cmd == "check":
        with open(sys.argv[3], "rb") as f:
            want = pickle.load(f)
        have = snapshot(m)
        bad = 0
        for k in sorted(set(want) | set(have), key=repr):
            if want.get(k) != have.get(k):
                print("differs: %r: ours %r, kernel %r" % (k, want.get(k), have.get(k)))
                bad += 1
        print("kernel read back %d paths and statfs, %d differences" % (len(want) - 1, bad))
        sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
