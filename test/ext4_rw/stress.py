#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Concurrent writers and what they wrote.

    stress.py run DIR SECONDS WRITERS RECORD.json
    stress.py verify DIR RECORD.json

run: WRITERS processes for SECONDS, each
  - rewriting ranges of a file of its own (random sizes and offsets, holes
    past EOF, truncations now and then),
  - writing ranges of its own 1 MiB region of one shared file,
  - appending 64-byte records to one shared O_APPEND file,
  - creating and deleting small files in one shared directory,
  - fsyncing now and then.
Each keeps a copy of what its files must hold. verify reads DIR (mounted
by the kernel afterwards) and checks every byte, every record (none torn,
none lost, none duplicated) and the shared directory's entries.
"""
import hashlib
import json
import os
import random
import sys
import time

REGION = 1 << 20
REC = 64


def writer(root, wid, seconds, out):
    rnd = random.Random(wid * 7919 + 1)
    own_path = os.path.join(root, "own%02d" % wid)
    own = bytearray()
    region = bytearray(REGION)
    region_end = 0  # highest byte of the region written, relative
    appended = 0
    names = set()
    deadline = time.monotonic() + seconds
    fo = os.open(own_path, os.O_RDWR | os.O_CREAT, 0o644)
    fs = os.open(os.path.join(root, "shared"), os.O_RDWR | os.O_CREAT, 0o644)
    fa = os.open(os.path.join(root, "appends"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    n = 0
    while time.monotonic() < deadline:
        n += 1
        what = rnd.random()
        if what < 0.3:
            off = rnd.randrange(0, 3 * REGION)
            size = rnd.randrange(1, 200000)
            buf = rnd.randbytes(size)
            os.pwrite(fo, buf, off)
            if len(own) < off + size:
                own.extend(bytes(off + size - len(own)))
            own[off:off + size] = buf
        elif what < 0.35:
            size = rnd.randrange(0, len(own) + 100000)
            os.ftruncate(fo, size)
            if size < len(own):
                del own[size:]
            else:
                own.extend(bytes(size - len(own)))
        elif what < 0.6:
            off = rnd.randrange(0, REGION - 1)
            size = rnd.randrange(1, min(65536, REGION - off) + 1)
            buf = rnd.randbytes(size)
            os.pwrite(fs, buf, wid * REGION + off)
            region[off:off + size] = buf
            region_end = max(region_end, off + size)
        elif what < 0.8:
            rec = ("writer %02d record %08d " % (wid, appended)).encode()
            rec += b"." * (REC - 1 - len(rec)) + b"\n"
            if os.write(fa, rec) != REC:
                raise OSError("short append")
            appended += 1
        elif what < 0.97:
            name = "w%02d-%d" % (wid, rnd.randrange(50))
            p = os.path.join(root, "dir", name)
            if name in names:
                os.unlink(p)
                names.discard(name)
            else:
                with open(p, "wb") as f:
                    f.write(name.encode() * rnd.randrange(1, 300))
                names.add(name)
        else:
            os.fsync(rnd.choice([fo, fs, fa]))
    for fd in (fo, fs, fa):
        os.close(fd)
    rec = {
        "own": hashlib.sha256(own).hexdigest(), "own_size": len(own),
        "region": hashlib.sha256(region).hexdigest(), "region_end": region_end,
        "region_data": None, "appended": appended, "names": sorted(names), "ops": n,
    }
    # The region itself: the shared file's size decides how much of it
    # is visible, which only verify knows.
    with open(out, "wb") as f:
        f.write(json.dumps(rec).encode() + b"\n" + bytes(region))


def run(root, seconds, writers, record):
    os.makedirs(os.path.join(root, "dir"), exist_ok=True)
    pids = []
    for w in range(writers):
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                writer(root, w, seconds, "%s.%d" % (record, w))
            except BaseException as e:  # a child must never return
                print("stress: writer %d: %s" % (w, e), file=sys.stderr)
                code = 1
            os._exit(code)
        pids.append(pid)
    bad = 0
    for pid in pids:
        _, status = os.waitpid(pid, 0)
        bad += status != 0
    out = []
    for w in range(writers):
        with open("%s.%d" % (record, w), "rb") as f:
            head, region = f.read().split(b"\n", 1)
        r = json.loads(head)
        r["region_data"] = region.hex()
        out.append(r)
        os.unlink("%s.%d" % (record, w))
    with open(record, "w") as f:
        json.dump(out, f)
    print("stress: %d writers, %d operations, %d appends, %d failed" % (
        writers, sum(r["ops"] for r in out), sum(r["appended"] for r in out), bad))
    return 1 if bad else 0


def verify(root, record):
    recs = json.load(open(record))
    bad = []
    shared = open(os.path.join(root, "shared"), "rb").read()
    want_size = max([w * REGION + r["region_end"] for w, r in enumerate(recs) if r["region_end"]] or [0])
    if len(shared) != want_size:
        bad.append("shared: size %d, want %d" % (len(shared), want_size))
    for w, r in enumerate(recs):
        own = open(os.path.join(root, "own%02d" % w), "rb").read()
        if len(own) != r["own_size"] or hashlib.sha256(own).hexdigest() != r["own"]:
            bad.append("own%02d: content differs (size %d, want %d)" % (w, len(own), r["own_size"]))
        region = bytes.fromhex(r["region_data"])
        got = shared[w * REGION:(w + 1) * REGION]
        if got != region[:len(got)]:
            bad.append("shared: region of writer %d differs" % w)
    app = open(os.path.join(root, "appends"), "rb").read()
    if len(app) % REC:
        bad.append("appends: size %d is not a whole number of records" % len(app))
    seen = {}
    for i in range(0, len(app) - len(app) % REC, REC):
        rec = app[i:i + REC]
        try:
            _, w, _, seq = rec[:-1].split(b" ")[:4]
            w, seq = int(w), int(seq)
        except ValueError:
            bad.append("appends: torn record at %d: %r" % (i, rec[:40]))
            continue
        seen.setdefault(w, []).append(seq)
    for w, r in enumerate(recs):
        got = seen.get(w, [])
        if got != list(range(r["appended"])):
            bad.append("appends: writer %d: %d records, want %d in order" % (w, len(got), r["appended"]))
    names = set(os.listdir(os.path.join(root, "dir")))
    want = set(n for r in recs for n in r["names"])
    if names != want:
        bad.append("dir: %d extra, %d missing" % (len(names - want), len(want - names)))
    for n in names & want:
        data = open(os.path.join(root, "dir", n), "rb").read()
        if data.replace(n.encode(), b""):
            bad.append("dir/%s: content not its name repeated" % n)
    for b in bad[:30]:
        print(b)
    print("verify: %d writers' files, %d records, %d names: %d problems" % (
        len(recs), len(app) // REC, len(names), len(bad)))
    return 1 if bad else 0


def main():
    a = sys.argv[1:]
    if len(a) == 5 and a[0] == "run":
        return run(a[1], float(a[2]), int(a[3]), a[4])
    if len(a) == 3 and a[0] == "verify":
        return verify(a[1], a[2])
    print("usage: stress.py run DIR SECONDS WRITERS RECORD | verify DIR RECORD", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
