#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Generate a directory tree that exercises every ext4 feature the server
reads: many small files, deep directories, long and non-UTF-8 names, both
kinds of symlink, hard links, xattrs and ACLs, sparse files, empty files,
fifos, device nodes, odd owners and nanosecond times.

    gen_tree.py DIR [--big] [--many N] [--max-xattr BYTES]
"""
import argparse
import os
import random
import subprocess


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--big", action="store_true", help="add a sparse file over 4 GiB")
    ap.add_argument("--many", type=int, default=0, help="a directory with N entries")
    ap.add_argument("--max-xattr", type=int, default=900,
                    help="largest xattr value (must fit one block)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--retime", action="store_true",
                    help="only set owners, modes and times on an existing tree "
                    "(mkfs -d keeps whole seconds, so the tests retime through a kernel mount)")
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    root = os.fsencode(a.dir)
    if a.retime:
        if a.many:
            make_many(os.path.join(root, b"many"), a.many)
        retime(root, rnd)
        return
    os.makedirs(root, exist_ok=True)
    j = lambda *p: os.path.join(root, *[os.fsencode(x) if isinstance(x, str) else x for x in p])

    # Many small files of mixed sizes (some inline-sized, some multi-block).
    os.mkdir(j("small"))
    for i in range(300):
        size = rnd.choice([0, 1, 17, 59, 60, 61, 100, 1000, 1023, 1024, 1025, 4095, 4096,
                           4097, 12345, 65536, 70000, 200000])
        write(j("small", "f%03d" % i), rnd.randbytes(size))

    # Deep directories.
    p = j("deep")
    for i in range(40):
        p = os.path.join(p, b"d%02d" % i)
    os.makedirs(p)
    write(os.path.join(p, b"bottom"), b"at the bottom\n")

    # Long and unusual names, including bytes that are not UTF-8.
    os.mkdir(j("names"))
    write(j("names", "n" * 255), b"longest name\n")
    write(j("names", b"\xff\xfe\x80 not utf-8"), b"latin junk\n")
    write(j("names", "sp ace\ttab\nnewline"), b"whitespace\n")
    write(j("names", "\u00e9t\u00e9 \U0001F600"), b"utf-8\n")
    write(j("names", "-dash"), b"")

    # Symlinks: fast (in the inode), slow (a block), and long targets.
    os.mkdir(j("links"))
    os.symlink(b"../small/f000", j("links", "fast"))
    os.symlink(b"x" * 59, j("links", "fast59"))
    os.symlink(b"y" * 60, j("links", "slow60"))
    os.symlink(b"/" + b"z/" * 400, j("links", "slow801"))
    os.symlink(b"\xff\xfedangling", j("links", "dangling"))

    # Hard links across directories.
    write(j("links", "target"), b"linked three times\n")
    os.link(j("links", "target"), j("links", "hard1"))
    os.link(j("links", "target"), j("small", "hard2"))

    # Extended attributes of every namespace, in-inode and in a block.
    os.mkdir(j("xattr"))
    f = j("xattr", "plain")
    write(f, b"has xattrs\n")
    os.setxattr(f, b"user.small", b"v")
    os.setxattr(f, b"user.empty", b"")
    os.setxattr(f, b"trusted.t", b"trusted value")
    os.setxattr(f, b"security.s", b"\x00\x01binary\xff")
    f = j("xattr", "bigvalue")
    write(f, b"")
    os.setxattr(f, b"user.big", rnd.randbytes(a.max_xattr))
    os.setxattr(f, b"user.other", b"x" * 100)
    d = j("xattr", "acldir")
    os.mkdir(d)
    subprocess.run(["setfacl", "-m", "u:nobody:rx,g:nogroup:r,u:1234:rwx", d], check=True)
    subprocess.run(["setfacl", "-d", "-m", "u:nobody:r,o::-", d], check=True)
    f = j("xattr", "acldir", "file")
    write(f, b"acl\n")
    subprocess.run(["setfacl", "-m", "u:1000:r,g:1001:rw,m::rw", f], check=True)
    os.symlink(b"plain", j("xattr", "link"))

    # Sparse files: holes at the start, middle and end.
    os.mkdir(j("sparse"))
    with open(j("sparse", "holes"), "wb") as f:
        f.seek(1 << 20)
        f.write(b"after a 1 MiB hole")
        f.seek(5 << 20)
        f.write(rnd.randbytes(10000))
        f.truncate(9 << 20)
    with open(j("sparse", "allhole"), "wb") as f:
        f.truncate(3 << 20)
    if a.big:
        with open(j("sparse", "over4g"), "wb") as f:
            f.write(b"start")
            f.seek((4 << 30) + 12345)
            f.write(b"past four GiB" + rnd.randbytes(5000))
            f.truncate((5 << 30) + 7)

    # Empty files, a fifo, device nodes.
    os.mkdir(j("special"))
    write(j("special", "empty"), b"")
    os.mkfifo(j("special", "fifo"))
    os.mknod(j("special", "null"), 0o20666, os.makedev(1, 3))
    os.mknod(j("special", "bigdev"), 0o60600, os.makedev(259, 70000))

    # A big directory (htree once e2fsck -D indexes it).
    if a.many:
        make_many(j("many"), a.many)

    retime(root, rnd)


def make_many(d, n):
    os.mkdir(d)
    for i in range(n):
        fd = os.open(os.path.join(d, b"entry-%d-%s" % (i, b"q" * (i % 37))),
                     os.O_CREAT | os.O_WRONLY, 0o644)
        os.close(fd)


def retime(root, rnd):
    """Owners, modes and nanosecond times (also past 2038), bottom up:
    setting a child's times changes its directory's mtime."""
    for dirpath, dirnames, filenames in os.walk(root, topdown=False):
        for name in filenames + dirnames:
            path = os.path.join(dirpath, name)
            if dirpath.endswith(b"/many") or name == b"lost+found":
                continue
            os.lchown(path, rnd.choice([0, 1000, 65534, 123456]),
                      rnd.choice([0, 100, 65534, 654321]))
            if not os.path.islink(path) and os.path.isfile(path):
                os.chmod(path, rnd.choice([0o644, 0o600, 0o4755, 0o2711, 0o1777, 0o400]))
            ns = rnd.randrange(0, 10**9)
            sec = rnd.choice([0, 1, 1000000000, 1700000000, 2**31 + 5, 2**32 + 100])
            os.utime(path, ns=(sec * 10**9 + ns, sec * 10**9 + (ns ^ 0x5555)),
                     follow_symlinks=False)


if __name__ == "__main__":
    main()
