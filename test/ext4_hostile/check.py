#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Walk a mount of a damaged image against the tree it was made from.

    check.py MOUNT TREE TARGET

Every path of TREE is looked up, stat'ed, read, listed, its symlink and
user.* xattrs read on MOUNT. An operation may fail with EIO or EUCLEAN
(ENOTCONN once the server is gone); if it succeeds, what it returns must be
what TREE holds: anything else is corrupt data served silently. TARGET
("PATH:OP") names the operation the damage must make fail ("PATH:OP?": may
also succeed, correctly). Exit 0 when
nothing was served wrongly and the target failed.
"""
import errno
import os
import stat
import sys

ALLOWED = {errno.EIO, errno.EUCLEAN, errno.ENOTCONN}
mnt, tree, target = sys.argv[1], sys.argv[2], sys.argv[3]
optional = target.endswith("?")
tpath, top = target.rstrip("?").rsplit(":", 1)
wrong = []
failed = {}  # (path, op) -> errno


def attempt(rel, op, fn):
    try:
        return fn()
    except OSError as e:
        failed[(rel, op)] = e.errno
        if e.errno not in ALLOWED:
            wrong.append(f"{rel}: {op}: unexpected {errno.errorcode.get(e.errno, e.errno)}")
        return None


def user_xattrs(p):
    return {n: os.getxattr(p, n, follow_symlinks=False)
            for n in os.listxattr(p, follow_symlinks=False) if n.startswith("user.")}


def check(rel):
    src = os.path.join(tree, rel.lstrip("/"))
    dst = os.path.join(mnt, rel.lstrip("/"))
    s = os.lstat(src)
    d = attempt(rel, "stat", lambda: os.lstat(dst))
    if d is None:
        return
    if stat.S_IFMT(d.st_mode) != stat.S_IFMT(s.st_mode) or \
            stat.S_IMODE(d.st_mode) != stat.S_IMODE(s.st_mode):
        wrong.append(f"{rel}: mode {oct(d.st_mode)} instead of {oct(s.st_mode)}")
        return
    xa = attempt(rel, "xattr", lambda: user_xattrs(dst))
    if xa is not None and xa != user_xattrs(src):
        wrong.append(f"{rel}: xattrs differ")
    if stat.S_ISREG(s.st_mode):
        if d.st_size != s.st_size:
            wrong.append(f"{rel}: size {d.st_size} instead of {s.st_size}")
        data = attempt(rel, "read", lambda: open(dst, "rb").read())
        if data is not None and data != open(src, "rb").read():
            wrong.append(f"{rel}: contents differ")
    elif stat.S_ISLNK(s.st_mode):
        t = attempt(rel, "link", lambda: os.readlink(dst))
        if t is not None and t != os.readlink(src):
            wrong.append(f"{rel}: symlink target differs")
    elif stat.S_ISDIR(s.st_mode):
        names = sorted(os.listdir(src))
        got = attempt(rel, "list", lambda: sorted(os.listdir(dst)))
        if rel == "/" and got is not None and "lost+found" in got:
            got.remove("lost+found")  # made by mkfs, not in the tree
        if got is not None and got != names:
            wrong.append(f"{rel}: listing differs ({len(got)} names instead of {len(names)})")
        for n in names:
            # Lookups are separate from the listing (htree directories).
            if attempt(rel, "lookup", lambda: os.lstat(os.path.join(dst, n))) is None:
                pass
            check(os.path.join(rel, n))


check("/")
for w in wrong[:20]:
    print("WRONG:", w)
hit = failed.get((tpath, top))
print(f"check: {len(failed)} failed operations, {len(wrong)} wrong answers; "
      f"target {target}: {errno.errorcode.get(hit, 'succeeded') if hit else 'succeeded'}")
sys.exit(0 if not wrong and (optional or hit in ALLOWED) else 1)
