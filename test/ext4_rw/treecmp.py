#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Compare two trees the kernel mounted: the image the kernel wrote and the
one our server wrote. Compared: paths, type, mode, owner, size (not of
directories: their size is block layout), link count, symlink target,
content (every byte read), every xattr (ACLs included), and atime/mtime in
ns for the paths the sequence last set with utimens (TIMED.json's "timed";
other times are the clock's). Not compared: inode numbers, blocks, ctimes.

    treecmp.py KERNEL_DIR OUR_DIR [RESULT.json]

Exits 1 and prints each difference (at most 40).
"""
import hashlib
import json
import os
import stat
import sys


def content(path):
    """A hash of the bytes, holes read as zeros, independent of the block
    layout: every 1 MiB-aligned window that holds data (SEEK_DATA skips
    the holes of a 5 GiB sparse file) and is not all zeros, with its
    offset. Unwritten extents and holes hash alike, as they read alike."""
    w = 1 << 20
    h = hashlib.sha256()
    with open(path, "rb", buffering=0) as f:
        fd = f.fileno()
        size = os.fstat(fd).st_size
        windows = set()
        pos = 0
        while pos < size:
            try:
                data = os.lseek(fd, pos, os.SEEK_DATA)
            except OSError:
                break
            hole = os.lseek(fd, data, os.SEEK_HOLE)
            windows.update(range(data // w, (hole + w - 1) // w))
            pos = hole
        for i in sorted(windows):
            b = os.pread(fd, w, i * w)
            if b.count(0) != len(b):
                h.update(b"%d:" % i + b)
    return h.hexdigest()


def first_difference(a, b):
    """Where two files' bytes part: "bytes X..Y differ" (first and last
    differing offsets), to point at the operation that went wrong."""
    first = last = None
    off = 0
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            x, y = fa.read(1 << 20), fb.read(1 << 20)
            if not x and not y:
                break
            if x != y:
                n = max(len(x), len(y))
                x, y = x.ljust(n, b"\0"), y.ljust(n, b"\0")
                diff = [i for i in range(n) if x[i] != y[i]]
                if diff:
                    first = off + diff[0] if first is None else first
                    last = off + diff[-1]
            off += max(len(x), len(y))
    return "bytes %s..%s differ" % (first, last)


def describe(root, rel, timed):
    p = os.path.join(root, rel)
    st = os.lstat(p)
    d = {"mode": oct(st.st_mode), "uid": st.st_uid, "gid": st.st_gid, "nlink": st.st_nlink}
    if not stat.S_ISDIR(st.st_mode):
        d["size"] = st.st_size
    if stat.S_ISLNK(st.st_mode):
        d["target"] = os.readlink(p)
    if stat.S_ISREG(st.st_mode):
        d["content"] = content(p)
    if rel in timed:
        d["atime_ns"], d["mtime_ns"] = st.st_atime_ns, st.st_mtime_ns
    try:
        d["xattrs"] = {n: os.getxattr(p, n, follow_symlinks=False).hex()
                       for n in sorted(os.listxattr(p, follow_symlinks=False))}
    except OSError as e:
        d["xattrs"] = "error %d" % e.errno
    return d


def walk(root):
    out = {""}
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            out.add(os.path.relpath(os.path.join(dirpath, n), root))
    out.discard("lost+found")
    return out


def main():
    a, b = sys.argv[1], sys.argv[2]
    timed = set()
    if len(sys.argv) > 3:
        timed = set(json.load(open(sys.argv[3]))["timed"])
    pa, pb = walk(a), walk(b)
    bad = []
    for rel in sorted(pa | pb):
        if rel not in pa or rel not in pb:
            bad.append("only in %s: %s" % ("kernel's" if rel in pa else "ours", rel))
            continue
        da, db = describe(a, rel, timed), describe(b, rel, timed)
        for k in sorted(set(da) | set(db)):
            if da.get(k) != db.get(k):
                va, vb = str(da.get(k)), str(db.get(k))
                if k == "content" and da.get(k) and db.get(k):
                    va, vb = va[:16], vb[:16] + " (%s)" % first_difference(
                        os.path.join(a, rel), os.path.join(b, rel))
                bad.append("%s %s: kernel %s, ours %s" % (rel or "/", k, va[:80], vb[:80]))
    for line in bad[:40]:
        print(line)
    print("compared %d paths, %d differences" % (len(pa), len(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
