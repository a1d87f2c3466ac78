#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Compare two mounted trees field by field: the kernel's ext4 (the oracle)
and ours. Every path, type, mode, owner, size, nlink, inode number, block
count, device number, atime/mtime/ctime in ns, symlink target, xattr
(names and values, ACLs included) and content hash; and statfs.

    compare.py [--against-tree] ORACLE_DIR OUR_DIR

--against-tree: the oracle is the directory mkfs -d read, not a mount:
inode numbers, block counts, ctimes, atimes, directory sizes, the root,
lost+found and statfs are then mkfs's choice and not compared.
Exits 1 and prints each difference.
"""
import hashlib
import os
import stat
import sys

SAMPLE = 1 << 20
BIG = 64 << 20


def content_hash(path, size):
    h = hashlib.sha256()
    with open(path, "rb", buffering=0) as f:
        if size <= BIG:
            while True:
                b = f.read(1 << 20)
                if not b:
                    break
                h.update(b)
        else:
            # Large (sparse) files: windows spread over the file, the
            # boundaries around 4 GiB, and the tail.
            offs = [i * (size // 16) for i in range(16)]
            offs += [(4 << 30) - 4096, (4 << 30), (4 << 30) + 8192, max(0, size - SAMPLE)]
            for o in offs:
                f.seek(o)
                h.update(f.read(SAMPLE))
    return h.hexdigest()


def xattrs(path):
    out = {}
    for n in sorted(os.listxattr(path, follow_symlinks=False)):
        out[n] = os.getxattr(path, n, follow_symlinks=False)
    return out


def describe(root, rel):
    p = os.path.join(root, rel) if rel else root
    st = os.lstat(p)
    d = {
        "mode": oct(st.st_mode), "uid": st.st_uid, "gid": st.st_gid, "size": st.st_size,
        "nlink": st.st_nlink, "ino": st.st_ino, "blocks": st.st_blocks,
        "atime_ns": st.st_atime_ns, "mtime_ns": st.st_mtime_ns, "ctime_ns": st.st_ctime_ns,
    }
    if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
        d["rdev"] = (os.major(st.st_rdev), os.minor(st.st_rdev))
    if stat.S_ISLNK(st.st_mode):
        d["target"] = os.readlink(p)
    if stat.S_ISREG(st.st_mode):
        d["sha256"] = content_hash(p, st.st_size)
    try:
        d["xattrs"] = xattrs(p)
    except OSError as e:
        d["xattrs"] = "error %d" % e.errno
    return d


def walk(root):
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            full = os.path.join(dirpath, n)
            out[os.path.relpath(full, root)] = None
    out[b"" if isinstance(root, bytes) else ""] = None
    return out


TREE_SKIP = {"ino", "blocks", "ctime_ns", "atime_ns"}


def main():
    args = sys.argv[1:]
    tree = args[0] == "--against-tree"
    if tree:
        args = args[1:]
    a, b = os.fsencode(args[0]), os.fsencode(args[1])
    pa, pb = walk(a), walk(b)
    if tree:
        for p in (pa, pb):
            p.pop(b"", None)
            p.pop(b"lost+found", None)
    bad = 0
    for rel in sorted(set(pa) | set(pb)):
        if rel not in pb or rel not in pa:
            print("only in %s: %r" % ("oracle" if rel in pa else "ours", rel))
            bad += 1
            continue
        da, db = describe(a, rel), describe(b, rel)
        if tree:
            # mkfs -d keeps whole seconds and only 32-bit ones.
            small = da["mtime_ns"] < 2**31 * 10**9
            for d in (da, db):
                d["mtime_ns"] = d["mtime_ns"] // 10**9 if small else None
        for k in sorted(set(da) | set(db)):
            if tree and (k in TREE_SKIP or (k == "size" and stat.S_ISDIR(os.lstat(os.path.join(a, rel)).st_mode))):
                continue
            if da.get(k) != db.get(k):
                print("%r %s: oracle %r, ours %r" % (rel, k, da.get(k), db.get(k)))
                bad += 1
    sa, sb = os.statvfs(a), os.statvfs(b)
    for k in [] if tree else ["f_bsize", "f_blocks", "f_bfree", "f_bavail", "f_files", "f_ffree", "f_namemax"]:
        if getattr(sa, k) != getattr(sb, k):
            print("statfs %s: oracle %r, ours %r" % (k, getattr(sa, k), getattr(sb, k)))
            bad += 1
    print("compared %d paths, %d differences" % (len(pa), bad))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
