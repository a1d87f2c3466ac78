#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Real dirty journals, written by the kernel: change files on a loop mount
# with periodic writeback off, fsync one (the transaction is committed to the
# journal, nothing is checkpointed), copy the backing file while still
# mounted. Our in-memory replay of that copy (tree_walk image) must show what
# the kernel shows after replaying another copy on a read-write mount
# (tree_walk dir), differ from the unreplayed state, and leave the image's
# bytes unchanged. Then replay_to_device() on another copy: the same tree,
# written in place, e2fsck -fn clean, and mountable with no recovery left.
#
#   kernel_journal_test.sh TREE_WALK
set -u
walk=$1
[ "$(id -u)" = 0 ] || { echo "kernel_journal_test: needs root" >&2; exit 77; }

. "$(dirname "$0")/../common/loop.sh"
tmp=$(mktemp -d /tmp/fsvc-jrnl.XXXXXX)
mounts=()
# Other tests flip the same global knob (test/ext4 takes this lock too):
# take turns, so no one saves another's 0 as the value to restore.
exec 9>/run/lock/fsvc-dirty-writeback.lock
flock 9
old_wb=$(sysctl -n vm.dirty_writeback_centisecs)
cleanup() {
	local m
	for m in "${mounts[@]}"; do
		umount "$m" 2>/dev/null
	done
	fsvc_loop_detach_all
	sysctl -q -w vm.dirty_writeback_centisecs="$old_wb"
	flock -u 9
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

# e2fsck stat()s the source of every mount in /proc/mounts; a FUSE server
# that another test stopped on purpose (test/ext4's watchdog case) hangs it
# there. So it runs in a mount namespace of its own without FUSE mounts.
fsck_alone() {
	# shellcheck disable=SC2016 # the inner script expands its own variables
	unshare -m --propagation private bash -c '
		awk '"'"'{ for (i = 7; i <= NF; i++) if ($i == "-") { if ($(i + 1) ~ /^fuse/) print $5; break } }'"'"' \
			/proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
		exec e2fsck "$@"' e2fsck "$@"
}

# written_back DIR MOUNT_OPTS: replay_to_device() on a copy of DIR/dirty.img
# gives the kernel's tree, passes e2fsck -fn, needs no recovery any more (a
# read-only loop device mounts: the kernel cannot recover there) and shows
# the kernel the same tree as the copy it replayed itself.
written_back() {
	local d=$1 mount_opts=$2 l
	cp "$d/dirty.img" "$d/dev.img"
	"$walk" replay "$d/dev.img" >"$d/dev" 2>"$d/dev.err" ||
		{ die "replay to the device: $(cat "$d/dev.err")"; return 1; }
	if ! diff -u "$d/kernel" "$d/dev" >"$d/diff"; then
		die "the image written back differs from the kernel's replay:"
		head -n 40 "$d/diff" >&2
		return 1
	fi
	if dumpe2fs -h "$d/dev.img" 2>/dev/null | grep -q needs_recovery; then
		die "needs_recovery still set after the write-back"
		return 1
	fi
	[ "$(dumpe2fs -h "$d/dev.img" 2>/dev/null | sed -n 's/^Journal start: *//p')" = 0 ] ||
		{ die "the journal is not empty after the write-back"; return 1; }
	fsck_alone -fn "$d/dev.img" >"$d/fsck.dev" 2>&1 ||
		{ die "the image written back fails e2fsck -fn:"; head -20 "$d/fsck.dev" >&2; return 1; }
	fsvc_loop_attach l "$d/dev.img" -r || { die "losetup"; return 1; }
	if ! mount -o "ro,$mount_opts" "$l" "$d/m" 2>"$d/mount.err"; then
		die "the kernel does not mount the written-back image read-only: $(cat "$d/mount.err")"
		fsvc_loop_detach "$l"
		return 1
	fi
	"$walk" dir "$d/m" >"$d/dev.kernel" 2>/dev/null
	umount "$d/m"
	fsvc_loop_detach "$l"
	diff -q "$d/kernel" "$d/dev.kernel" >/dev/null ||
		{ die "the kernel reads the written-back image differently"; return 1; }
	# Replaying again is a no-op: nothing written.
	local sum
	sum=$(sha256sum <"$d/dev.img")
	"$walk" replay "$d/dev.img" >/dev/null 2>&1 || { die "a second write-back failed"; return 1; }
	[ "$(sha256sum <"$d/dev.img")" = "$sum" ] || { die "a second write-back wrote"; return 1; }
	echo "ok [$case]: written back ($(head -1 "$d/dev.err" | sed 's/^tree_walk: //')), e2fsck -fn clean, the kernel mounts it without recovery"
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
	fsvc_loop_attach l "$d/base.img" || { die "losetup"; return; }
	mount -o "$mount_opts" "$l" "$d/m" || { die "mount"; fsvc_loop_detach "$l"; return; }
	mounts+=("$d/m")
	if [ -n "${WRAP:-}" ]; then
		# Small committed transactions in a 1 MiB journal until the
		# log's tail (s_start, which the kernel moves as it checkpoints)
		# is in the last third: the head, ahead of it, has wrapped.
		local jsb i
		jsb=$(($(debugfs -R "bmap <8> 0" "$d/base.img" 2>/dev/null) * 1024))
		for i in $(seq 1 3000); do
			echo "$i" >"$d/m/dir/f1"
			sync "$d/m/dir/f1"
			[ "$(od -An -tu1 -j $((jsb + 0x1C)) -N4 "$d/base.img" |
				awk '{print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4}')" -gt 700 ] && break
		done
	fi
	change_files "$d/m"
	cp "$d/base.img" "$d/dirty.img"
	umount "$d/m"
	fsvc_loop_detach "$l"

	if ! dumpe2fs -h "$d/dirty.img" 2>/dev/null | grep -q needs_recovery; then
		die "the copy does not need recovery (checkpointed by a concurrent sync?)"
		return
	fi
	# -c: the on-disk bitmaps of a dirty image may not match their checksums.
	debugfs -c -R logdump "$d/dirty.img" 2>/dev/null >"$d/logdump"
	grep -q "Found expected sequence" "$d/logdump" || { die "logdump shows no transaction"; return; }
	if [ -n "${WRAP:-}" ]; then
		# Some log block of the transactions to replay lies before the
		# log's start: the replay crosses the end of the journal.
		local start
		start=$(dumpe2fs -h "$d/dirty.img" 2>/dev/null | sed -n 's/^Journal start: *//p')
		awk -v s="$start" '/^Found expected sequence/ && $NF + 0 < s + 0 {w = 1} END {exit !w}' \
			"$d/logdump" || { die "the log does not wrap (start $start)"; return; }
	fi
	local before after
	before=$(sha256sum <"$d/dirty.img")

	"$walk" image "$d/dirty.img" >"$d/ours" 2>"$d/ours.err" || { die "tree_walk: $(cat "$d/ours.err")"; return; }
	"$walk" image "$d/dirty.img" --norecovery >"$d/plain" 2>/dev/null
	after=$(sha256sum <"$d/dirty.img")
	[ "$before" = "$after" ] || die "reading changed the image"

	cp "$d/dirty.img" "$d/kernel.img"
	fsvc_loop_attach l "$d/kernel.img" || { die "losetup"; return; }
	mount -o "$mount_opts" "$l" "$d/m" || { die "kernel mount"; fsvc_loop_detach "$l"; return; }
	"$walk" dir "$d/m" >"$d/kernel" 2>"$d/kernel.err" || die "kernel walk: $(cat "$d/kernel.err")"
	umount "$d/m"
	fsvc_loop_detach "$l"

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
	fsck_alone -fn "$d/kernel.img" >"$d/fsck.kernel" 2>&1 ||
		{ die "the kernel's replayed image fails e2fsck -fn:"; head -20 "$d/fsck.kernel" >&2; return; }
	written_back "$d" "$mount_opts" || return
	local jf
	jf=$(dumpe2fs -h "$d/dirty.img" 2>/dev/null | sed -n 's/^Journal features: *//p')
	echo "ok [$case]: $(sed 's/^tree_walk: //' "$d/ours.err"), $(wc -l <"$d/ours") files match the kernel; journal: $jf"
	pass=$((pass + 1))
}

# Fast commits to replay: refused with one line that points at norecovery,
# which then reads the image; the kernel's view has the fast-committed
# changes, so serving the image without them would be silently stale.
fast_commit_case() {
	case=fast-commit
	local d=$tmp/$case l
	mkdir -p "$d/src" "$d/m"
	echo a >"$d/src/a"
	mkfs.ext4 -q -F -O fast_commit -d "$d/src" "$d/base.img" 16M || { die "mkfs"; return; }
	fsvc_loop_attach l "$d/base.img" || { die "losetup"; return; }
	mount "$l" "$d/m" || { die "mount"; fsvc_loop_detach "$l"; return; }
	mounts+=("$d/m")
	sleep 6 # the journal thread's first full commit
	echo hello >>"$d/m/a"
	echo new >"$d/m/b"
	sync "$d/m/a"
	sync "$d/m/b"
	cp "$d/base.img" "$d/dirty.img"
	umount "$d/m"
	fsvc_loop_detach "$l"
	local before
	before=$(sha256sum <"$d/dirty.img")
	if "$walk" image "$d/dirty.img" >/dev/null 2>"$d/err"; then
		die "fast commits to replay were not refused"
		return
	fi
	if [ "$(wc -l <"$d/err")" != 1 ] || ! grep -q "fast-commit.*norecovery" "$d/err"; then
		die "not one line naming fast commits: $(cat "$d/err")"
		return
	fi
	"$walk" image "$d/dirty.img" --norecovery >"$d/plain" 2>/dev/null || { die "norecovery"; return; }
	[ "$(sha256sum <"$d/dirty.img")" = "$before" ] || die "reading changed the image"
	# Written back: refused the same way, before anything is written.
	if "$walk" replay "$d/dirty.img" >/dev/null 2>"$d/err"; then
		die "fast commits to replay were written back"
		return
	fi
	grep -q "fast-commit.*norecovery" "$d/err" || { die "write-back refusal: $(cat "$d/err")"; return; }
	[ "$(sha256sum <"$d/dirty.img")" = "$before" ] || { die "a refused write-back changed the image"; return; }
	fsvc_loop_attach l "$d/dirty.img" || { die "losetup"; return; }
	mount "$l" "$d/m" || { die "kernel mount"; fsvc_loop_detach "$l"; return; }
	"$walk" dir "$d/m" >"$d/kernel" 2>/dev/null
	umount "$d/m"
	fsvc_loop_detach "$l"
	cmp -s "$d/kernel" "$d/plain" && { die "the kernel's replay changed nothing: no fast commit to test"; return; }
	echo "ok [$case]: refused ($(cat "$d/err")); norecovery reads the image"
	pass=$((pass + 1))
}

run_case csum-v3 "" "rw"
run_case nocsum-32bit "-O ^metadata_csum,^64bit" "rw"
run_case csum-v1 "-O ^metadata_csum" "rw,journal_checksum"
run_case blocksize-1k "-b 1024" "rw"
run_case ext3 "-t ext3" "rw"
WRAP=1 run_case wrap-around "-b 1024 -J size=1" "rw"
fast_commit_case

echo "kernel_journal_test: $pass passed, $fail failed"
[ $fail -eq 0 ]
