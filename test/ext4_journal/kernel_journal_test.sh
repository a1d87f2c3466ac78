#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Real dirty journals, written by the kernel: change files on a loop mount
# with periodic writeback off, fsync one (the transaction is committed to the
# journal, nothing is checkpointed), copy the backing file while still
# mounted. Our in-memory replay of that copy (tree_walk image) must show what
# the kernel shows after replaying another copy on a read-write mount
# (tree_walk dir), differ from the unreplayed state, and leave the image's
# bytes unchanged.
#
#   kernel_journal_test.sh TREE_WALK
set -u
walk=$1
[ "$(id -u)" = 0 ] || { echo "kernel_journal_test: needs root" >&2; exit 77; }

tmp=$(mktemp -d /tmp/fsvc-jrnl.XXXXXX)
loops=()
mounts=()
old_wb=$(sysctl -n vm.dirty_writeback_centisecs)
cleanup() {
	local m l
	for m in "${mounts[@]}"; do
		umount "$m" 2>/dev/null
	done
	for l in "${loops[@]}"; do
		losetup -d "$l" 2>/dev/null
	done
	sysctl -q -w vm.dirty_writeback_centisecs="$old_wb"
	rm -rf "$tmp"
}
trap cleanup EXIT
sysctl -q -w vm.dirty_writeback_centisecs=0

fail=0
pass=0
die() {
	echo "FAIL [$case]: $*" >&2
	fail=$((fail + 1))
}

# attach FILE -> loop device path on stdout (remembered for cleanup)
attach() {
	local l
	l=$(losetup -f --show "$1") || return 1
	loops+=("$l")
	echo "$l"
}
detach() {
	losetup -d "$1"
}

make_tree() {
	local d=$1
	mkdir -p "$d/dir/sub" "$d/gone" "$d/keep"
	for i in $(seq 1 40); do
		head -c $((i * 97)) /dev/urandom >"$d/dir/f$i"
	done
	echo hello >"$d/keep/a"
	echo world >"$d/keep/b"
	ln -s keep/a "$d/short-link"
	ln -s "$(printf 'long/%.0s' $(seq 1 30))target" "$d/long-link"
	head -c 200000 /dev/urandom >"$d/big"
	echo bye >"$d/gone/x"
}

# change_files MNT: create, write, rename, unlink, xattr, mkdir, chmod, then
# fsync one file so the transaction commits.
change_files() {
	local m=$1
	mkdir "$m/newdir" "$m/newdir/deeper"
	for i in $(seq 1 30); do
		echo "new file $i" >"$m/newdir/n$i"
	done
	head -c 50000 /dev/urandom >"$m/newdir/deeper/blob"
	mv "$m/keep/a" "$m/keep/renamed"
	rm -f "$m/keep/b" "$m/dir/f3" "$m/dir/f7"
	rm -rf "$m/gone"
	setfattr -n user.color -v blue "$m/dir/f1"
	setfattr -n user.big -v "$(head -c 600 /dev/zero | tr '\0' x)" "$m/dir/f2"
	chmod 0600 "$m/dir/f4"
	touch -d '2001-02-03 04:05:06.123456789' "$m/dir/f5"
	echo appended >>"$m/big"
	sync "$m/newdir/deeper/blob"   # fsync: commits the running transaction
	# A second transaction that frees journalled metadata (the directory
	# blocks of newdir/deeper): the journal carries revoke records.
	rm -rf "$m/newdir/deeper"
	for i in $(seq 1 10); do
		echo "second $i" >"$m/dir/s$i"
	done
	mkdir "$m/later"
	echo later >"$m/later/file"
	sync "$m/later/file"
}

run_case() {
	case=$1
	local mkfs_opts=$2 mount_opts=$3
	local d=$tmp/$case
	mkdir -p "$d/src" "$d/m"
	make_tree "$d/src"
	# shellcheck disable=SC2086
	mkfs.ext4 -q -F $mkfs_opts -d "$d/src" "$d/base.img" 16M || { die "mkfs"; return; }

	local l
	l=$(attach "$d/base.img") || { die "losetup"; return; }
	mount -o "$mount_opts" "$l" "$d/m" || { die "mount"; detach "$l"; return; }
	mounts+=("$d/m")
	change_files "$d/m"
	cp "$d/base.img" "$d/dirty.img"
	umount "$d/m"
	detach "$l"

	if ! dumpe2fs -h "$d/dirty.img" 2>/dev/null | grep -q needs_recovery; then
		die "the copy does not need recovery (checkpointed by a concurrent sync?)"
		return
	fi
	debugfs -R logdump "$d/dirty.img" 2>/dev/null >"$d/logdump"
	grep -q "Found expected sequence" "$d/logdump" || { die "logdump shows no transaction"; return; }
	local before after
	before=$(sha256sum <"$d/dirty.img")

	"$walk" image "$d/dirty.img" >"$d/ours" 2>"$d/ours.err" || { die "tree_walk: $(cat "$d/ours.err")"; return; }
	"$walk" image "$d/dirty.img" --norecovery >"$d/plain" 2>/dev/null
	after=$(sha256sum <"$d/dirty.img")
	[ "$before" = "$after" ] || die "reading changed the image"

	cp "$d/dirty.img" "$d/kernel.img"
	l=$(attach "$d/kernel.img") || { die "losetup"; return; }
	mount -o "$mount_opts" "$l" "$d/m" || { die "kernel mount"; detach "$l"; return; }
	"$walk" dir "$d/m" >"$d/kernel" 2>"$d/kernel.err" || die "kernel walk: $(cat "$d/kernel.err")"
	umount "$d/m"
	detach "$l"

	if ! diff -u "$d/kernel" "$d/ours" >"$d/diff"; then
		die "our replay differs from the kernel's:"
		head -n 40 "$d/diff" >&2
		return
	fi
	if cmp -s "$d/ours" "$d/plain"; then
		die "the replay changed nothing (the test could not fail)"
		return
	fi
	grep -q '^/later/file ' "$d/ours" || { die "fsynced file missing"; return; }
	local jf
	jf=$(dumpe2fs -h "$d/dirty.img" 2>/dev/null | sed -n 's/^Journal features: *//p')
	echo "ok [$case]: $(sed 's/^tree_walk: //' "$d/ours.err"), $(wc -l <"$d/ours") files match the kernel; journal: $jf"
	pass=$((pass + 1))
}

run_case csum-v3 "" "rw"
run_case nocsum-32bit "-O ^metadata_csum,^64bit" "rw"
run_case csum-v1 "-O ^metadata_csum" "rw,journal_checksum"
run_case blocksize-1k "-b 1024" "rw"
run_case ext3 "-t ext3" "rw"

echo "kernel_journal_test: $pass passed, $fail failed"
[ $fail -eq 0 ]
