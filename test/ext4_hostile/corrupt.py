#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Damage one named structure of an ext2/3/4 image, precisely.

    corrupt.py IMAGE CASE

Locates the structure with debugfs/dumpe2fs, patches the bytes, and prints
what the check must see fail: "PATH:OP" (OP is stat, read, list, lookup,
xattr, link; "PATH:OP?" when a correct answer is fine too, e.g. a damaged
htree index the kernel ignores for a linear search), "refuse" when the image
as a whole must be refused, "journal" for the journal cases.
"""
import os
import re
import struct
import subprocess
import sys


def debugfs(img, req):
    return subprocess.run(["debugfs", "-R", req, img], capture_output=True, text=True).stdout


def block_size(img):
    out = subprocess.run(["dumpe2fs", "-h", img], capture_output=True, text=True).stdout
    return int(re.search(r"^Block size:\s+(\d+)", out, re.M).group(1))


def inode_offset(img, path):
    out = debugfs(img, f"imap {path}")
    m = re.search(r"located at block (\d+), offset (0x[0-9a-f]+)", out)
    return int(m.group(1)) * block_size(img) + int(m.group(2), 16)


def blocks_of(img, path):
    """Physical blocks of a file (extent tree blocks included, first)."""
    return [int(b) for b in debugfs(img, f"blocks {path}").split()]


def bmap(img, path, lblk):
    """The physical block of logical block LBLK of a file."""
    return int(debugfs(img, f"bmap {path} {lblk}").split()[0])


def xattr_block(img, path):
    return int(re.search(r"File ACL: (\d+)", debugfs(img, f"stat {path}")).group(1))


def extent_index_leaf(img, path):
    """The leaf block a depth-1 extent tree's root points to."""
    # debugfs "ex": Level Entries Logical Physical Length Flags; the root's
    # index entries are the level 0/1 lines.
    for line in debugfs(img, f"ex {path}").splitlines():
        m = re.match(r"\s*0/\s*1\s+\d+/\s*\d+\s+\d+\s*-\s*\d+\s+(\d+)", line)
        if m:
            return int(m.group(1))
    raise SystemExit(f"corrupt.py: {path} has no depth-1 extent tree")


class Image:
    def __init__(self, path):
        self.f = open(path, "r+b")

    @staticmethod
    def _fmt(fmt):
        return fmt if fmt[0] in "<>" else "<" + fmt

    def get(self, off, fmt):
        self.f.seek(off)
        return struct.unpack(self._fmt(fmt), self.f.read(struct.calcsize(self._fmt(fmt))))

    def put(self, off, fmt, *v):
        self.f.seek(off)
        self.f.write(struct.pack(self._fmt(fmt), *v))

    def flip(self, off):
        (b,) = self.get(off, "B")
        self.put(off, "B", b ^ 0xFF)


def dir_entries(img, blk_off, bs):
    """(offset, rec_len, name_len) of each entry of one directory block."""
    out, off = [], 0
    while off < bs:
        _, rec, nlen = img.get(blk_off + off, "IHB")
        out.append((blk_off + off, rec, nlen))
        if rec < 8:
            break
        off += rec
    return out


def jbd2_blocks(path):
    """Journal superblock offset, and (offset, type, sequence, next block's
    offset) of the log blocks from s_start on."""
    img = Image(path)
    bs = block_size(path)
    jblocks = blocks_of(path, "<8>")
    sb = jblocks[0] * bs
    img.f.seek(sb)
    hdr = img.f.read(0x20)
    start = struct.unpack(">I", hdr[0x1C:0x20])[0]
    seq = struct.unpack(">I", hdr[0x18:0x1C])[0]
    found = []
    for j in range(start, len(jblocks) - 1):
        off = jblocks[j] * bs
        img.f.seek(off)
        magic, btype, bseq = struct.unpack(">III", img.f.read(12))
        if magic == 0xC03B3998 and bseq >= seq:
            found.append((off, btype, bseq, jblocks[j + 1] * bs))
    return sb, found


def main():
    path, case = sys.argv[1], sys.argv[2]
    bs = block_size(path)
    img = Image(path)
    sb = 1024
    if case == "sb-magic":
        img.put(sb + 0x38, "H", 0x1234)
        target = "refuse"
    elif case == "sb-geometry":
        img.put(sb + 0x20, "I", 0)  # s_blocks_per_group
        target = "refuse"
    elif case == "sb-inodes":
        img.put(sb + 0x28, "I", 0xFFFFFFF0)  # s_inodes_per_group
        target = "refuse"
    elif case == "sb-csum":
        img.flip(sb + 0x2C)  # s_wtime, covered by the superblock checksum
        target = "refuse"
    elif case == "gdt-csum":
        gdt = (2 if bs == 1024 else 1) * bs
        (itable,) = img.get(gdt + 0x08, "I")
        img.put(gdt + 0x08, "I", itable + 3)  # the descriptor's checksum no longer matches
        target = "/victim:stat"
    elif case == "gdt-inode-table":
        gdt = (2 if bs == 1024 else 1) * bs
        (itable,) = img.get(gdt + 0x08, "I")
        img.put(gdt + 0x08, "I", itable + 3)  # inode table moved by 3 blocks
        target = "/victim:read"
    elif case == "inode-csum":
        img.flip(inode_offset(path, "/victim") + 0x10)  # i_mtime
        target = "/victim:stat"
    elif case == "inode-block-range":
        img.put(inode_offset(path, "/victim") + 0x28, "I", 0x7FFFFFF0)  # i_block[0]
        target = "/victim:read"
    elif case == "inode-mode":
        img.put(inode_offset(path, "/victim") + 0x00, "H", 0xF1A4)  # no such file type
        target = "/victim:stat"
    elif case == "extent-out-of-range":
        ino = inode_offset(path, "/victim")
        img.put(ino + 0x28 + 12 + 8, "I", 0x7FFFFFF0)  # first extent's ee_start_lo
        target = "/victim:read"
    elif case == "extent-overlap":
        ino = inode_offset(path, "/two")
        (b0,) = img.get(ino + 0x28 + 12, "I")
        img.put(ino + 0x28 + 24, "I", b0)  # second extent starts where the first does
        target = "/two:read"
    elif case == "extent-metadata":
        ino = inode_offset(path, "/victim")
        img.put(ino + 0x28 + 12 + 8, "I", 1)  # data "at" the superblock
        target = "/victim:read"
    elif case == "extent-loop":
        ino = inode_offset(path, "/frag")
        leaf = extent_index_leaf(path, "/frag")
        # The leaf becomes an index node whose only child is itself, and the
        # root claims enough depth to follow it.
        img.put(ino + 0x28 + 6, "H", 4)  # root eh_depth
        img.put(leaf * bs + 2, "H", 1)  # eh_entries
        img.put(leaf * bs + 6, "H", 3)  # eh_depth
        img.put(leaf * bs + 12, "IIHH", 0, leaf, 0, 0)
        target = "/frag:read"
    elif case == "extent-header":
        ino = inode_offset(path, "/victim")
        img.put(ino + 0x28 + 2, "H", 200)  # eh_entries beyond eh_max
        target = "/victim:read"
    elif case == "dir-reclen0":
        blk = bmap(path, "/small", 0)
        ents = dir_entries(img, blk * bs, bs)
        img.put(ents[2][0] + 4, "H", 0)  # the first entry after . and ..
        target = "/small:list"
    elif case == "dir-namelen":
        blk = bmap(path, "/small", 0)
        ents = dir_entries(img, blk * bs, bs)
        # The last entry is cut to its own size; an unused record fills the
        # block up to 8 bytes before its end, where a last entry's 255-byte
        # name runs past the block.
        off, _, nlen = ents[-1]
        end = off + ((8 + nlen + 3) & ~3)
        tail = blk * bs + bs - 8
        img.put(off + 4, "H", end - off)
        img.put(end, "IHBB", 0, tail - end, 0, 0)
        img.put(tail, "IHBB", 12, 8, 255, 1)
        target = "/small:list?"  # the kernel logs it and lists the others
    elif case == "dir-namelen-record":
        blk = bmap(path, "/small", 0)
        ents = dir_entries(img, blk * bs, bs)
        img.put(ents[2][0] + 6, "B", 200)  # a 12-byte record with a 200-byte name
        target = "/small:list"
    elif case == "extent-dir-order":
        leaf = extent_index_leaf(path, "/dir")
        img.put(leaf * bs + 12 + 2 * 12, "I", 0x00FFFFFF)  # third extent far past the others
        target = "/dir:list"
    elif case == "dir-reclen-past-block":
        blk = bmap(path, "/small", 0)
        ents = dir_entries(img, blk * bs, bs)
        img.put(ents[2][0] + 4, "H", bs + 64)
        target = "/small:list"
    elif case == "htree-root":
        blk = bmap(path, "/dir", 0)
        root = blk * bs
        (levels,) = img.get(root + 24 + 6, "B")
        img.put(root + 24 + 6, "B", 7)  # dx_root indirect_levels
        img.put(root + 32, "HH", 2, 500)  # limit 2, count 500
        target = "/dir:lookup?"  # the kernel falls back to a linear search
    elif case == "htree-node":
        blk = bmap(path, "/dir", 0)
        root = blk * bs
        # Every hash now maps to a block far past the directory's end.
        (limit, count) = img.get(root + 32, "HH")
        img.put(root + 36, "I", 0x00FFFFFF)
        for i in range(1, count):
            img.put(root + 32 + 8 * i + 4, "I", 0x00FFFFFF)
        target = "/dir:lookup?"
    elif case == "xattr-block":
        blk = xattr_block(path, "/xa")
        img.put(blk * bs + 32 + 8, "I", 60000)  # first entry's e_value_size
        target = "/xa:xattr"
    elif case == "xattr-offset":
        blk = xattr_block(path, "/xa")
        img.put(blk * bs + 32 + 2, "H", bs - 4)  # e_value_offs near the block end
        target = "/xa:xattr"
    elif case == "xattr-magic":
        blk = xattr_block(path, "/xa")
        img.put(blk * bs, "I", 0x12345678)
        target = "/xa:xattr"
    elif case == "xattr-csum":
        blk = xattr_block(path, "/xa")
        img.flip(blk * bs + bs - 8)  # inside the value, covered by the block checksum
        target = "/xa:xattr"
    elif case == "journal-sb":
        jsb, _ = jbd2_blocks(path)
        img.put(jsb + 0x10, ">I", 0xFFFFFF00)  # s_maxlen beyond the journal
        target = "journal"
    elif case == "journal-descriptor":
        _, blocks = jbd2_blocks(path)
        off = [o for o, t, _, _ in blocks if t == 1][0]
        img.flip(off + 12 + 3)  # first tag's block number
        target = "journal"
    elif case == "journal-commit":
        _, blocks = jbd2_blocks(path)
        off = [o for o, t, _, _ in blocks if t == 2][0]
        img.flip(off + 0x30)  # h_commit_sec, covered by the commit checksum
        target = "journal"
    elif case == "journal-torn-tail":
        _, blocks = jbd2_blocks(path)
        _, _, seq, after = [b for b in blocks if b[1] == 2][-1]
        # After the last commit, the start of a transaction that never
        # committed: a descriptor of the next sequence, damaged mid-write.
        img.put(after, ">IIIIIII", 0xC03B3998, 1, seq + 1, 5, 0x0B, 0, 0x1234)
        target = "journal"
    else:
        sys.exit(f"corrupt.py: unknown case {case}")
    img.f.close()
    print(target)


if __name__ == "__main__":
    main()
