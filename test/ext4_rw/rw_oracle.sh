#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Read-write ext4, the kernel as the oracle (suite 'ext4-rw').
#
#   rw_oracle.sh BUILD_DIR CASE
#
# seq-*: one image, two copies. A seeded sequence of operations
# (seqops.py) is applied to one through the contained ext4-service
# (socket activation + fuservicemount3, -o rw) and to the other through the
# kernel's ext4 on a loop device. Each operation must end as the kernel's
# did (same errno); after unmount both images pass e2fsck -fn, the kernel
# mounts both and their trees compare equal (treecmp.py), our mount's
# statfs matched the kernel's view of our image, which matches dumpe2fs.
# stress: N writers for a bounded time, checked against their record.
# crash: SIGKILL of the server mid-workload, e2fsck -fy repairs, the kernel
# mounts and reads everything.
#
# By hand: seq-custom with FSVC_RW_SEED, FSVC_RW_COUNT, FSVC_RW_MKFS;
# stress with FSVC_RW_SECONDS, FSVC_RW_WRITERS.
# FSVC_RW_TARGET=kernel|fuse2fs runs the same cases against a second
# kernel mount or Debian's fuse2fs, to check the harness itself: against
# the kernel every seq case must pass (no fault invented by the model of
# the tree or the comparison), against fuse2fs it finds fuse2fs's faults.
BUILD=$1
CASE=$2
if [ "$(id -u)" != 0 ]; then
	echo "needs root (loop devices, real mounts)"
	exit 77
fi
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../common/activator.sh"
. "$HERE/../helper/lib.sh"
EXT4=$BUILD/fs/ext4/ext4-service
TARGET=${FSVC_RW_TARGET:-ours}
MNT=$WORK/mnt
KMNT=$WORK/kmnt
mkdir "$MNT" "$KMNT"
SUB=ext4rw-$CASE
F2FS_PID=

# A small starting tree: files, a directory, xattrs, a symlink.
make_image() { # make_image MKFS_ARGS SIZE
	local t=$WORK/tree
	mkdir -p "$t/dir/sub" "$t/empty"
	head -c 100000 /dev/urandom >"$t/dir/data"
	echo hello >"$t/hello"
	head -c 5000 /dev/urandom >"$t/dir/sub/small"
	ln -sfn hello "$t/link"
	setfattr -n user.origin -v mkfs "$t/hello"
	# shellcheck disable=SC2086 # a word list
	mkfs.ext4 -q -F -E root_owner=0:0 $1 -d "$t" "$WORK/base.img" "$2" ||
		{ fail "mkfs $1"; finish; }
}

# mount_target IMAGE: mount IMAGE read-write on $MNT through the target.
mount_target() {
	if [ "$TARGET" = kernel ]; then
		fsvc_loop_attach TLOOP "$1" || return 1
		mount -t ext4 "$TLOOP" "$MNT" || return 1
		return 0
	fi
	if [ "$TARGET" = fuse2fs ]; then
		fuse2fs -f "$1" "$MNT" -o rw,fakeroot >>"$WORK/activator.log" 2>&1 &
		F2FS_PID=$!
		PIDS+=("$F2FS_PID")
		local i
		for i in $(seq 200); do is_mounted "$MNT" && return 0; sleep 0.05; done
		return 1
	fi
	[ -n "${ACTIVATOR_STARTED:-}" ] || { start_activator "$SUB" 0600 "$EXT4"; ACTIVATOR_STARTED=1; }
	run_helper "$1" "$MNT" -t "fuse.$SUB" -o rw
	[ "$RC" = 0 ] && is_mounted "$MNT" || return 1
	# A read-only mount would make every operation fail with EROFS: say
	# so once instead of listing hundreds of differences.
	if awk -v m="$MNT" '$5 == m {print $6}' /proc/self/mountinfo | grep -qw ro; then
		echo "the server mounted read-only" >&2
		umount "$MNT"
		return 1
	fi
}

# server_gone: the target's server has exited (its last writes are on
# the image only then: umount of a FUSE mount does not wait for it).
server_gone() {
	local p alive
	for _ in $(seq 600); do
		alive=0
		if [ "$TARGET" = kernel ]; then
			:
		elif [ "$TARGET" = fuse2fs ]; then
			[ -n "$F2FS_PID" ] && kill -0 "$F2FS_PID" 2>/dev/null && alive=1
		else
			for p in "${ACTIVATORS[@]}"; do
				[ "$(pgrep -g "$p" | grep -cvx "$p")" -gt 0 ] && alive=1
			done
		fi
		[ "$alive" = 0 ] && return 0
		sleep 0.1
	done
	return 1
}

unmount_target() {
	check "$TARGET: unmount" umount "$MNT"
	[ "$TARGET" = kernel ] && fsvc_loop_detach "$TLOOP"
	check "$TARGET: the server exits" server_gone
	[ "$TARGET" = fuse2fs ] && [ -n "$F2FS_PID" ] && wait "$F2FS_PID" 2>/dev/null
	return 0
}

# kernel_rw IMAGE COMMAND...: run COMMAND with IMAGE mounted read-write by
# the kernel on $KMNT.
kernel_rw() {
	local img=$1 dev rc
	shift
	fsvc_loop_attach dev "$img" || return 1
	mount -t ext4 "$dev" "$KMNT" || { fsvc_loop_detach "$dev"; return 1; }
	"$@"
	rc=$?
	umount "$KMNT" || rc=1
	fsvc_loop_detach "$dev"
	return "$rc"
}

# kernel_ro IMAGE DIR: mount IMAGE read-only by the kernel on DIR (a
# read-only loop device: a mount that needs recovery fails).
kernel_ro() {
	local dev
	fsvc_loop_attach dev "$1" -r || return 1
	mount -t ext4 -o ro "$dev" "$2" 2>"$WORK/kerr" || { fsvc_loop_detach "$dev"; return 1; }
	# Detached at the unmount (autoclear); forget it now.
	fsvc_loop_detach "$dev" 2>/dev/null
	return 0
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

fsck_clean() { # fsck_clean IMAGE WHO
	if fsck_alone -fn "$1" >"$WORK/fsck.$2" 2>&1; then
		echo "ok: $2: e2fsck -fn clean"
	else
		fail "$2: e2fsck -fn finds problems:"
		head -30 "$WORK/fsck.$2" >&2
	fi
}

# statfs DIR: "blocks bfree files ffree"
statfs() {
	python3 -c 'import os, sys; s = os.statvfs(sys.argv[1]); print(s.f_blocks, s.f_bfree, s.f_files, s.f_ffree)' "$1"
}

seq_case() { # seq_case MKFS_ARGS SEED COUNT [SIZE]
	make_image "$1" "${4:-600M}"
	local seed=$2 count=$3
	cp --sparse=always "$WORK/base.img" "$WORK/k.img"
	cp --sparse=always "$WORK/base.img" "$WORK/o.img"

	check "kernel: sequence $seed applied" kernel_rw "$WORK/k.img" \
		python3 "$HERE/seqops.py" run "$KMNT" "$seed" "$count" "$WORK/k.json"
	[ "$FAILED" = 0 ] || finish

	if ! mount_target "$WORK/o.img"; then
		fail "$TARGET: read-write mount"
		cat "$WORK/err" "$WORK/activator.log" >&2 2>/dev/null
		finish
	fi
	python3 "$HERE/seqops.py" run "$MNT" "$seed" "$count" "$WORK/o.json"
	local ours_statfs
	ours_statfs=$(statfs "$MNT")
	unmount_target

	if python3 "$HERE/seqops.py" compare "$WORK/k.json" "$WORK/o.json" >"$WORK/ops" 2>&1; then
		echo "ok: every operation ended as the kernel's: $(tail -2 "$WORK/ops" | head -1)"
	else
		cat "$WORK/ops" >&2
		fail "$TARGET: operations ended differently from the kernel's"
	fi
	fsck_clean "$WORK/k.img" kernel
	fsck_clean "$WORK/o.img" "$TARGET"

	mkdir -p "$WORK/kk" "$WORK/ko"
	check "the kernel mounts the kernel's image" kernel_ro "$WORK/k.img" "$WORK/kk"
	if ! kernel_ro "$WORK/o.img" "$WORK/ko"; then
		fail "the kernel does not mount $TARGET's image: $(cat "$WORK/kerr")"
		finish
	fi
	echo "ok: the kernel mounts $TARGET's image"
	if python3 "$HERE/treecmp.py" "$WORK/kk" "$WORK/ko" "$WORK/k.json" >"$WORK/cmp" 2>&1; then
		echo "ok: trees equal, read back completely: $(tail -1 "$WORK/cmp")"
	else
		cat "$WORK/cmp" >&2
		fail "$TARGET's tree differs from the kernel's"
	fi
	# statfs: ours while mounted = the kernel's view of our image =
	# dumpe2fs's counts; and as many inodes in use as the kernel's.
	local kst dfree difree
	kst=$(statfs "$WORK/ko")
	read -r _ dfree _ difree <<<"$kst"
	# (Not for the kernel as target: its live count leaves out blocks its
	# allocator holds in reserve, mballoc's group preallocations.)
	if [ "$TARGET" != kernel ]; then
		check "statfs of $TARGET's mount ($ours_statfs) = the kernel's of its image ($kst)" \
			[ "$ours_statfs" = "$kst" ]
	fi
	check "the kernel's statfs = dumpe2fs's free blocks and inodes" bash -c "
		dumpe2fs -h '$WORK/o.img' 2>/dev/null | grep -qx 'Free blocks: *$dfree' &&
		dumpe2fs -h '$WORK/o.img' 2>/dev/null | grep -qx 'Free inodes: *$difree'"
	local kin oin
	kin=$(statfs "$WORK/kk" | awk '{print $3 - $4}')
	oin=$(statfs "$WORK/ko" | awk '{print $3 - $4}')
	check "inodes in use: kernel $kin, $TARGET $oin" [ "$kin" = "$oin" ]
	umount "$WORK/kk"
	umount "$WORK/ko"
	check "nothing left" nothing_left
}

# server_pid: the target's server process.
server_pid() {
	if [ "$TARGET" = fuse2fs ]; then
		echo "$F2FS_PID"
	else
		pgrep -g "${ACTIVATORS[0]}" | grep -vx "${ACTIVATORS[0]}" | head -1
	fi
}

stress_case() { # stress_case SECONDS WRITERS
	make_image "-t ext4 -b 4096 -I 256" 1G
	if ! mount_target "$WORK/base.img"; then
		fail "$TARGET: read-write mount"
		cat "$WORK/err" "$WORK/activator.log" >&2 2>/dev/null
		finish
	fi
	check "$2 writers for $1 s" python3 "$HERE/stress.py" run "$MNT/stress" "$1" "$2" "$WORK/record.json"
	unmount_target
	fsck_clean "$WORK/base.img" "$TARGET"
	if ! kernel_ro "$WORK/base.img" "$KMNT"; then
		fail "the kernel does not mount the image: $(cat "$WORK/kerr")"
		finish
	fi
	check "the kernel reads what the writers recorded" \
		python3 "$HERE/stress.py" verify "$KMNT/stress" "$WORK/record.json"
	umount "$KMNT"
	check "nothing left" nothing_left
}

crash_case() {
	make_image "-t ext4 -b 4096 -I 256" 1G
	if ! mount_target "$WORK/base.img"; then
		fail "$TARGET: read-write mount"
		cat "$WORK/err" "$WORK/activator.log" >&2 2>/dev/null
		finish
	fi
	local pid spid
	pid=$(server_pid)
	# What fsync promises survives the kill: a file and its directory
	# fsynced before the workload starts.
	head -c 300000 /dev/urandom >"$WORK/synced"
	check "a file written and fsynced before the kill" python3 -c '
import os, sys
src, mnt = sys.argv[1], sys.argv[2]
fd = os.open(mnt + "/synced", os.O_WRONLY | os.O_CREAT, 0o640)
os.write(fd, open(src, "rb").read())
os.fsync(fd)
os.close(fd)
d = os.open(mnt, os.O_RDONLY | os.O_DIRECTORY)
os.fsync(d)
os.close(d)' "$WORK/synced" "$MNT"
	python3 "$HERE/stress.py" run "$MNT/stress" 30 3 "$WORK/record.json" >/dev/null 2>&1 &
	spid=$!
	python3 "$HERE/seqops.py" run "$MNT" 11 400 "$WORK/o.json" >/dev/null 2>&1 &
	local qpid=$!
	sleep 4
	check "the workload is still writing" kill -0 "$spid"
	check "the server ($pid) is killed mid-workload" kill -KILL "$pid"
	wait "$spid" "$qpid"
	check "the dead mount unmounts" bash -c "umount '$MNT' || umount -l '$MNT'"
	check "$TARGET: the server is gone" server_gone
	fsck_alone -fy "$WORK/base.img" >"$WORK/fsck.repair" 2>&1
	local rc=$?
	check "e2fsck -fy repairs the image (exit $rc)" [ $rc -le 1 ]
	[ $rc -le 1 ] || tail -20 "$WORK/fsck.repair" >&2
	echo "e2fsck -fy: $(grep -c . "$WORK/fsck.repair") lines of output"
	fsck_clean "$WORK/base.img" "after-repair"
	if ! kernel_ro "$WORK/base.img" "$KMNT"; then
		fail "the kernel does not mount the repaired image: $(cat "$WORK/kerr")"
		finish
	fi
	check "the kernel reads every file" bash -c "find '$KMNT' -type f -print0 | xargs -0 -r cat >/dev/null"
	check "the file fsynced before the kill is intact" cmp "$WORK/synced" "$KMNT/synced"
	umount "$KMNT"
	check "nothing left (mount, server)" nothing_left
	# The read-only loop device goes at the unmount (autoclear), a moment later.
	check "no loop device on the image" bash -c "
		for _ in \$(seq 50); do losetup -j '$WORK/base.img' | grep -q . || exit 0; sleep 0.1; done; exit 1"
}

case $CASE in
seq-4k-a) seq_case "-t ext4 -b 4096 -I 256" 1 300 ;;
seq-4k-b) seq_case "-t ext4 -b 4096 -I 256" 2 300 ;;
seq-1k) seq_case "-t ext4 -b 1024 -I 256" 3 300 ;;
seq-2k) seq_case "-t ext4 -b 2048 -I 256" 6 250 ;;
seq-nocsum) seq_case "-t ext4 -b 4096 -I 128 -O ^metadata_csum,^64bit" 4 250 ;;
seq-ext3) seq_case "-t ext3 -b 4096 -I 256" 5 250 ;;
seq-ext2) seq_case "-t ext2 -b 4096 -I 256" 7 250 ;;
seq-more)
	# More seeds on the common flavour: each its own pair of images.
	for seed in 8 9 10 11 12 13; do
		echo "== seed $seed"
		seq_case "-t ext4 -b 4096 -I 256" "$seed" 300
	done
	;;
seq-custom)
	# By hand, to hunt or to reproduce: FSVC_RW_SEED, FSVC_RW_COUNT,
	# FSVC_RW_MKFS (seqops.py show SEED COUNT lists the operations).
	seq_case "${FSVC_RW_MKFS:--t ext4 -b 4096 -I 256}" "${FSVC_RW_SEED:-1}" "${FSVC_RW_COUNT:-300}"
	;;
stress) stress_case "${FSVC_RW_SECONDS:-20}" "${FSVC_RW_WRITERS:-6}" ;;
crash) crash_case ;;
*)
	echo "unknown case $CASE"
	exit 2
	;;
esac
finish
