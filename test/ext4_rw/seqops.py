#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Seeded sequences of filesystem operations, for the read-write oracle.

    seqops.py run MNT SEED COUNT RESULT.json

generates COUNT operations from SEED (the same list for the same seed,
whatever the filesystem answers: the generator works on a model of the
tree, never on the mount), applies them under MNT and writes, per
operation, its kind and the errno it ended with (0 = success), plus the
paths whose times were last set by utimens ("timed": their atime/mtime are
then the same on every filesystem).

    seqops.py compare KERNEL.json OURS.json

prints every operation whose errno differs and a table per kind; exits 1 on
any difference.
"""
import ctypes
import errno
import json
import os
import random
import stat
import sys

libc = ctypes.CDLL(None, use_errno=True)
libc.renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                           ctypes.c_uint]
libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_long, ctypes.c_long]
AT_FDCWD = -100
RENAME_NOREPLACE, RENAME_EXCHANGE = 1, 2
FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, FALLOC_FL_ZERO_RANGE = 1, 2, 0x10
GIB = 1 << 30


def renameat2(a, b, flags):
    if libc.renameat2(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), flags) < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def fallocate(fd, mode, off, length):
    if libc.fallocate(fd, mode, off, length) < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def acl_value(rnd):
    """A system.posix_acl_access value: version 2, then (tag, perm, id)
    entries in the order the kernel requires."""
    ents = [(0x01, rnd.randint(0, 7), 0xffffffff)]
    users = sorted(rnd.sample(range(1000, 1010), rnd.randint(0, 2)))
    groups = sorted(rnd.sample(range(2000, 2010), rnd.randint(0, 2)))
    ents += [(0x02, rnd.randint(0, 7), u) for u in users]
    ents.append((0x04, rnd.randint(0, 7), 0xffffffff))
    ents += [(0x08, rnd.randint(0, 7), g) for g in groups]
    if users or groups:
        ents.append((0x10, rnd.randint(0, 7), 0xffffffff))
    ents.append((0x20, rnd.randint(0, 7), 0xffffffff))
    out = (2).to_bytes(4, "little")
    for tag, perm, ident in ents:
        out += tag.to_bytes(2, "little") + perm.to_bytes(2, "little") + ident.to_bytes(4, "little")
    return out.hex()


class Model:
    """What the tree should look like: enough to pick mostly valid targets."""

    def __init__(self):
        self.dirs = {""}
        self.files = {}  # path -> 'f' regular, 'l' symlink, 'p' fifo, 's' socket
        self.timed = set()
        self.linked = set()  # paths with more than one name: never timed
        self.n = 0

    def name(self):
        self.n += 1
        return "n%03d" % self.n

    def parent(self, p):
        return p.rsplit("/", 1)[0] if "/" in p else ""

    def touch_dir(self, p):
        self.timed.discard(self.parent(p))

    def untime(self, *paths):
        """Forget the times of PATHS, their parents and all below them:
        where the model may be wrong about what an operation changed."""
        for p in paths:
            self.touch_dir(p)
            self.timed = {t for t in self.timed if t != p and not t.startswith(p + "/")}

    def join(self, d, n):
        return d + "/" + n if d else n

    def regular(self, rnd):
        f = [p for p, k in self.files.items() if k == "f"]
        return rnd.choice(sorted(f)) if f else None

    def any_file(self, rnd):
        return rnd.choice(sorted(self.files)) if self.files else None

    def any_dir(self, rnd, root=True):
        d = sorted(self.dirs if root else self.dirs - {""})
        return rnd.choice(d) if d else None

    def new_path(self, rnd):
        return self.join(self.any_dir(rnd), self.name())

    def children(self, d):
        pre = d + "/"
        return [p for p in list(self.files) + list(self.dirs) if p.startswith(pre)]

    def move(self, a, b):
        """Rename a to b in the model (b gone or replaced)."""
        self.remove(b)
        if a in self.dirs:
            moved = [a] + self.children(a)
            for p in moved:
                q = b + p[len(a):]
                if p in self.dirs:
                    self.dirs.discard(p)
                    self.dirs.add(q)
                else:
                    self.files[q] = self.files.pop(p)
                for marks in (self.timed, self.linked):
                    if p in marks:
                        marks.discard(p)
                        marks.add(q)
        elif a in self.files:
            self.files[b] = self.files.pop(a)
            for marks in (self.timed, self.linked):
                if a in marks:
                    marks.discard(a)
                    marks.add(b)

    def remove(self, p):
        if p in self.dirs:
            for c in self.children(p):
                self.dirs.discard(c)
                self.files.pop(c, None)
                self.timed.discard(c)
            self.dirs.discard(p)
        self.files.pop(p, None)
        self.timed.discard(p)


def generate(seed, count):
    rnd = random.Random(seed)
    m = Model()
    ops = []

    def add(kind, **kw):
        kw["kind"] = kind
        ops.append(kw)

    # Fixed points of every sequence: a directory grown past one block and
    # into an htree, a sparse file past 4 GiB created and later deleted.
    bigdir_at = rnd.randrange(count)
    huge_at = rnd.randrange(count // 2) if count > 1 else 0
    huge_del = rnd.randrange(huge_at + 1, count) if count > huge_at + 1 else None
    huge = None
    weights = {
        "write": 18, "append": 5, "otrunc": 3, "truncate": 8, "mkdir": 6, "rmdir": 3,
        "unlink": 6, "symlink": 5, "link": 4, "rename": 9, "chmod": 4, "chown": 3,
        "utimens": 5, "fallocate": 7, "setxattr": 6, "removexattr": 3, "acl": 2,
        "mknod": 2, "fsync": 2,
    }
    kinds = sorted(weights)
    wl = [weights[k] for k in kinds]
    for i in range(count):
        if i == bigdir_at:
            d = m.new_path(rnd)
            n = rnd.choice([150, 400])
            names = ["%s-%s" % ("e" * rnd.randint(10, 60), j) for j in range(n)]
            gone = sorted(rnd.sample(range(n), n // 3))
            add("bigdir", path=d, names=names, gone=gone)
            m.touch_dir(d)
            m.dirs.add(d)
            # A few of its files in the model: the rest would draw every
            # later operation into this one directory.
            kept = [j for j in range(n) if j not in gone]
            for j in rnd.sample(kept, 10):
                m.files[m.join(d, names[j])] = "f"
            continue
        if i == huge_at:
            # In the root (never renamed) and out of the model: nothing
            # else touches it before its deletion.
            huge = m.name()
            off = 4 * GIB + rnd.randrange(GIB)
            add("huge", path=huge, offset=off, seed=rnd.randrange(1 << 30))
            m.touch_dir(huge)
            continue
        if i == huge_del and huge is not None:
            add("unlink", path=huge)
            m.touch_dir(huge)
            continue
        k = rnd.choices(kinds, wl)[0]
        if k in ("write", "append", "otrunc"):
            p = m.regular(rnd) if rnd.random() < 0.6 else None
            if p is None:
                p = m.new_path(rnd)
                m.touch_dir(p)
                m.files[p] = "f"
            size = rnd.choice([0, 1, 100, 4095, 4096, 4097, rnd.randrange(1, 70000),
                               rnd.randrange(1, 400000)])
            off = rnd.choice([0, 0, rnd.randrange(0, 200000), rnd.randrange(0, 3 << 20)])
            add(k, path=p, offset=off, size=size, seed=rnd.randrange(1 << 30))
            m.untime(p)  # the file may be new to the filesystem too
        elif k == "truncate":
            p = m.regular(rnd)
            if p is None:
                continue
            size = rnd.choice([0, 1, 4095, 4096, 4097, 32768 * 4096 + 1,
                               rnd.randrange(0, 300000), rnd.randrange(0, 8 << 20)])
            add(k, path=p, size=size)
            m.timed.discard(p)
        elif k == "mkdir":
            p = m.new_path(rnd)
            add(k, path=p, mode=rnd.choice([0o755, 0o700, 0o1777, 0o2755]))
            m.touch_dir(p)
            m.dirs.add(p)
        elif k == "rmdir":
            d = m.any_dir(rnd, root=False)
            if d is None:
                continue
            add(k, path=d)
            m.untime(d)
            if not m.children(d):
                m.remove(d)
        elif k == "unlink":
            p = m.any_file(rnd)
            if p is None:
                continue
            add(k, path=p)
            m.touch_dir(p)
            m.remove(p)
        elif k == "symlink":
            p = m.new_path(rnd)
            if rnd.random() < 0.5:
                t = "t" * rnd.randint(1, 59)  # fast: in the inode
            else:
                t = "/".join("s" * rnd.randint(1, 200) for _ in range(rnd.randint(1, 15)))[:4000]
            add(k, path=p, target=t)
            m.touch_dir(p)
            m.files[p] = "l"
        elif k == "link":
            a = m.regular(rnd)
            if a is None:
                continue
            b = m.new_path(rnd)
            add(k, src=a, path=b)
            m.touch_dir(b)
            m.files[b] = "f"
            # A write through either name changes both: the model does
            # not follow inodes, so neither is timed from now on.
            m.untime(a, b)
            m.linked.update((a, b))
        elif k == "rename":
            flavour = rnd.choice(["plain", "plain", "noreplace", "exchange"])
            if rnd.random() < 0.25 and len(m.dirs) > 1:
                a = m.any_dir(rnd, root=False)
            else:
                a = m.any_file(rnd)
            if a is None:
                continue
            if flavour == "exchange" or (rnd.random() < 0.3 and a in m.files):
                b = m.any_file(rnd) if a in m.files else m.any_dir(rnd, root=False)
                if b is None or b == a:
                    continue
            else:
                b = m.new_path(rnd)
            add(k, src=a, path=b, flavour=flavour)
            m.untime(a, b)
            if a in m.dirs and (b == a or b.startswith(a + "/")):
                continue  # EINVAL on both
            if flavour == "exchange":
                tmp = "\0tmp"
                m.move(a, tmp)
                m.move(b, a)
                m.move(tmp, b)
            elif flavour == "noreplace" and (b in m.files or b in m.dirs):
                pass
            else:
                m.move(a, b)
        elif k in ("chmod", "chown", "utimens", "setxattr", "removexattr", "acl"):
            pool = sorted(set(m.files) | m.dirs)
            p = rnd.choice(pool)
            kind = m.files.get(p, "d")
            if k == "chmod":
                if kind == "l":
                    continue
                add(k, path=p, mode=rnd.randrange(0o10000))
            elif k == "chown":
                add(k, path=p, uid=rnd.choice([0, 1000, 1001, 65534]),
                    gid=rnd.choice([0, 100, 1000, 65534]))
            elif k == "utimens":
                t = [rnd.randrange(0, 2**33) * 10**9 + rnd.randrange(10**9) for _ in range(2)]
                add(k, path=p, atime=t[0], mtime=t[1])
                if p not in m.linked:
                    m.timed.add(p)
            elif k == "setxattr":
                if kind not in ("f", "d"):
                    continue
                size = rnd.choice([0, 1, 20, 200, 1000, 3000, rnd.randrange(1, 5000)])
                add(k, path=p, name="user.x%d" % rnd.randrange(6), size=size,
                    seed=rnd.randrange(1 << 30))
            elif k == "removexattr":
                if kind not in ("f", "d"):
                    continue
                add(k, path=p, name="user.x%d" % rnd.randrange(6))
            else:
                if kind not in ("f", "d"):
                    continue
                add(k, path=p, value=acl_value(rnd),
                    name=rnd.choice(["system.posix_acl_access"] * 3 +
                                    (["system.posix_acl_default"] if kind == "d" else [])))
        elif k == "fallocate":
            p = m.regular(rnd)
            if p is None:
                continue
            mode = rnd.choice([0, FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                               FALLOC_FL_ZERO_RANGE, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE])
            add(k, path=p, mode=mode, offset=rnd.randrange(0, 1 << 20),
                length=rnd.randrange(1, 600000))
            m.timed.discard(p)
        elif k == "mknod":
            p = m.new_path(rnd)
            fifo = rnd.random() < 0.5
            add(k, path=p, type="fifo" if fifo else "socket", mode=rnd.choice([0o644, 0o600]))
            m.touch_dir(p)
            m.files[p] = "p" if fifo else "s"
        elif k == "fsync":
            p = m.regular(rnd)
            if p is None:
                continue
            add(k, path=p)
    return ops, sorted(m.timed)


def data(seed, size):
    return random.Random(seed).randbytes(size)


def apply(root, op):
    p = os.path.join(root, op["path"])
    k = op["kind"]
    if k in ("write", "append", "otrunc"):
        flags = os.O_WRONLY | os.O_CREAT
        flags |= {"write": 0, "append": os.O_APPEND, "otrunc": os.O_TRUNC}[k]
        fd = os.open(p, flags, 0o644)
        try:
            buf = data(op["seed"], op["size"])
            if k == "append":
                os.write(fd, buf)
            else:
                os.pwrite(fd, buf, op["offset"])
        finally:
            os.close(fd)
    elif k == "truncate":
        os.truncate(p, op["size"])
    elif k == "mkdir":
        os.mkdir(p, op["mode"])
        os.chmod(p, op["mode"])  # past the umask, setgid/sticky kept
    elif k == "rmdir":
        os.rmdir(p)
    elif k == "unlink":
        os.unlink(p)
    elif k == "symlink":
        os.symlink(op["target"], p)
    elif k == "link":
        os.link(os.path.join(root, op["src"]), p)
    elif k == "rename":
        a = os.path.join(root, op["src"])
        flags = {"plain": 0, "noreplace": RENAME_NOREPLACE, "exchange": RENAME_EXCHANGE}[op["flavour"]]
        renameat2(a, p, flags)
    elif k == "chmod":
        os.chmod(p, op["mode"])
    elif k == "chown":
        os.chown(p, op["uid"], op["gid"], follow_symlinks=False)
    elif k == "utimens":
        os.utime(p, ns=(op["atime"], op["mtime"]), follow_symlinks=False)
    elif k == "setxattr":
        os.setxattr(p, op["name"], data(op["seed"], op["size"]))
    elif k == "removexattr":
        os.removexattr(p, op["name"])
    elif k == "acl":
        os.setxattr(p, op["name"], bytes.fromhex(op["value"]))
    elif k == "fallocate":
        fd = os.open(p, os.O_WRONLY)
        try:
            fallocate(fd, op["mode"], op["offset"], op["length"])
        finally:
            os.close(fd)
    elif k == "mknod":
        t = stat.S_IFIFO if op["type"] == "fifo" else stat.S_IFSOCK
        os.mknod(p, t | op["mode"])
    elif k == "fsync":
        fd = os.open(p, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    elif k == "bigdir":
        os.mkdir(p)
        for n in op["names"]:
            with open(os.path.join(p, n), "wb") as f:
                f.write(n.encode())
        for j in op["gone"]:
            os.unlink(os.path.join(p, op["names"][j]))
    elif k == "huge":
        fd = os.open(p, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            os.pwrite(fd, data(op["seed"], 5000), 0)
            os.pwrite(fd, data(op["seed"] + 1, 9000), op["offset"])
            os.pwrite(fd, data(op["seed"] + 2, 100), 4 * GIB - 50)
        finally:
            os.close(fd)
    else:
        raise ValueError(k)


def run(root, seed, count, out):
    ops, timed = generate(seed, count)
    results = []
    for i, op in enumerate(ops):
        try:
            apply(root, op)
            e = 0
        except OSError as ex:
            e = ex.errno
        results.append({"i": i, "kind": op["kind"], "errno": e,
                        "what": op.get("flavour", "") or str(op.get("mode", ""))})
    with open(out, "w") as f:
        json.dump({"seed": seed, "ops": results, "timed": timed}, f)
    bad = sum(1 for r in results if r["errno"])
    print("seqops: seed %d: %d operations, %d failed with an errno" % (seed, len(results), bad))


def compare(kfile, ofile):
    k = json.load(open(kfile))["ops"]
    o = json.load(open(ofile))["ops"]
    table = {}
    diffs = 0
    for a, b in zip(k, o):
        t = table.setdefault(a["kind"], [0, 0])
        t[0] += 1
        if a["errno"] != b["errno"]:
            diffs += 1
            if diffs <= 30:
                print("op %d %s %s: kernel %s, ours %s" % (
                    a["i"], a["kind"], a["what"], errno.errorcode.get(a["errno"], a["errno"]) if a["errno"] else "ok",
                    errno.errorcode.get(b["errno"], b["errno"]) if b["errno"] else "ok"))
        else:
            t[1] += 1
    print("per kind (same result as the kernel / applied): " +
          ", ".join("%s %d/%d" % (kk, v[1], v[0]) for kk, v in sorted(table.items())))
    print("%d operations, %d with a different result" % (len(k), diffs))
    return 1 if diffs or len(k) != len(o) else 0


def main():
    a = sys.argv[1:]
    if a and a[0] == "run" and len(a) == 5:
        run(a[1], int(a[2]), int(a[3]), a[4])
        return 0
    if a and a[0] == "compare" and len(a) == 3:
        return compare(a[1], a[2])
    if a and a[0] == "show" and len(a) == 3:
        for op in generate(int(a[1]), int(a[2]))[0]:
            print(json.dumps(op)[:200])
        return 0
    print("usage: seqops.py run MNT SEED COUNT OUT | compare K.json O.json | show SEED COUNT",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
