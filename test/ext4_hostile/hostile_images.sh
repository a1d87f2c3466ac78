#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Hostile images through the real contained server (socket activation +
# fuservicemount3): one structure of an image made by mkfs.ext4 -d is damaged
# (corrupt.py), the image is mounted and everything is walked and read
# (check.py, under timeout). Acceptable: a refused mount with one line, or
# EIO/EUCLEAN on what the damage touches, with every answer that does come
# back equal to the source tree. Never a hang, a crash, unbounded memory, a
# mount or loop device left behind.
#   hostile_images.sh BUILD_DIR CASE
BUILD=$1
CASE=$2
if [ "$(id -u)" != 0 ]; then
	echo "needs root (real mounts)"
	exit 77
fi
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../common/activator.sh"
. "$HERE/../helper/lib.sh"
EXT4=$BUILD/fs/ext4/ext4-service
WALK=$BUILD/test/ext4_journal/tree_walk
MNT=$WORK/mnt
KMNT=$WORK/kmnt
TREE=$WORK/tree
IMG=$WORK/img
mkdir "$MNT" "$KMNT"
SUB=ext4h-$CASE
# Peak memory allowed to the server (VmHWM) on these small images.
MAX_RSS_KB=$((256 * 1024))
OLD_WB=

restore_writeback() {
	[ -n "$OLD_WB" ] || return 0
	sysctl -q -w vm.dirty_writeback_centisecs="$OLD_WB"
	OLD_WB=
	flock -u 9
}
trap 'restore_writeback; cleanup' EXIT

make_tree() {
	mkdir -p "$TREE/small" "$TREE/dir"
	head -c 40000 /dev/urandom >"$TREE/victim"
	echo "a neighbour" >"$TREE/neighbour"
	# Two extents: data, a hole, data (mkfs -d keeps holes).
	head -c 1024 /dev/urandom >"$TREE/two"
	head -c 1024 /dev/urandom | dd of="$TREE/two" bs=1024 seek=8 conv=notrunc status=none
	# Ten extents: more than the inode holds, so a depth-1 tree.
	: >"$TREE/frag"
	for i in $(seq 0 9); do
		head -c 1024 /dev/urandom | dd of="$TREE/frag" bs=1024 seek=$((i * 3)) conv=notrunc status=none
	done
	echo "has a big xattr" >"$TREE/xa"
	setfattr -n user.big -v "$(head -c 700 /dev/zero | tr '\0' v)" "$TREE/xa"
	for n in a b c d e; do
		echo "$n" >"$TREE/small/$n"
	done
	for i in $(seq 1 400); do
		echo "$i" >"$TREE/dir/entry-with-a-rather-long-name-$i"
	done
	ln -s "$(printf 'x%.0s' $(seq 1 100))" "$TREE/link"
}

# build VARIANT: the image to damage.
build() {
	local opts
	case $1 in
	plain) opts="-t ext4 -b 1024 -I 256 -O ^metadata_csum" ;;
	csum) opts="-t ext4 -b 1024 -I 256" ;;
	ext2) opts="-t ext2 -b 1024 -I 256" ;;
	esac
	# shellcheck disable=SC2086
	mkfs.ext4 -q -F -E root_owner=0:0 $opts -d "$TREE" "$IMG" 16M || { fail "mkfs"; finish; }
	e2fsck -fyD "$IMG" >/dev/null 2>&1 # index /dir (htree)
	if debugfs -R "htree /dir" "$IMG" 2>&1 | grep -q "Not a hash-indexed"; then
		fail "/dir is not an htree directory"
		finish
	fi
}

# A dirty journal written by the kernel (csum v3): the changes are committed
# to the journal, not checkpointed, when the image is copied.
build_dirty() {
	build csum
	# A global knob other tests flip too (test/ext4 takes the same lock).
	exec 9>/run/lock/fsvc-dirty-writeback.lock
	flock 9
	OLD_WB=$(sysctl -n vm.dirty_writeback_centisecs)
	sysctl -q -w vm.dirty_writeback_centisecs=0
	local dev
	fsvc_loop_attach dev "$IMG" || { fail "losetup"; finish; }
	mount -t ext4 "$dev" "$KMNT" || { fail "kernel mount"; finish; }
	mkdir "$KMNT/new"
	echo fresh >"$KMNT/new/file"
	mv "$KMNT/small/a" "$KMNT/small/renamed"
	rm "$KMNT/small/b"
	setfattr -n user.added -v yes "$KMNT/neighbour"
	sync "$KMNT/new/file"
	cp "$IMG" "$WORK/dirty"
	umount "$KMNT"
	fsvc_loop_detach "$dev"
	restore_writeback
	mv "$WORK/dirty" "$IMG"
	dumpe2fs -h "$IMG" 2>/dev/null | grep -q needs_recovery || { fail "the copy is not dirty"; finish; }
}

mount_ours() {
	[ -n "${ACTIVATOR_STARTED:-}" ] || { start_activator "$SUB" 0600 "$EXT4"; ACTIVATOR_STARTED=1; }
	: >"$WORK/activator.log"
	run_helper "$IMG" "$MNT" -t "fuse.$SUB" -o ro
	[ "$RC" = 0 ] && is_mounted "$MNT"
}

server_pid() {
	pgrep -g "${ACTIVATORS[0]}" | grep -vx "${ACTIVATORS[0]}" | head -n1
}

# The refusal: no mount, one line from the server naming the problem.
expect_refused() {
	check "refused: the mount fails" [ "$RC" != 0 ]
	check "refused: not mounted" bash -c "! awk '\$5 == \"$MNT\"' /proc/self/mountinfo | grep -q ."
	local lines
	lines=$(grep -c '^ext4-service: ' "$WORK/activator.log")
	check "refused: one line from the server ($lines)" [ "$lines" = 1 ]
	sed -n 's/^/    /p' "$WORK/activator.log" | head -3
}

# After the walk: the server is alive (or was ended by its watchdog, with a
# line), its peak memory bounded.
expect_server_sane() {
	local pid hwm
	pid=$(server_pid)
	if [ -z "$pid" ]; then
		check "the server only ended through its watchdog" \
			grep -q '^ext4-service: .*watchdog' "$WORK/activator.log"
		return
	fi
	hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status")
	if ldd "$EXT4" | grep -q libasan; then
		echo "ok: peak memory ${hwm} KiB (not bounded under ASan)"
	else
		check "peak memory ${hwm} KiB <= $MAX_RSS_KB KiB" [ "${hwm:-0}" -le $MAX_RSS_KB ]
	fi
}

run_damaged() {
	local target
	target=$(python3 "$HERE/corrupt.py" "$IMG" "$CASE") || { fail "corrupt.py"; finish; }
	echo "damaged: $CASE, must fail: $target"
	local sum
	sum=$(sha256sum <"$IMG")
	if mount_ours; then
		if [ "$target" = refuse ]; then
			fail "a damaged superblock was mounted"
		else
			timeout -k 5 120 python3 "$HERE/check.py" "$MNT" "$TREE" "$target"
			local rc=$?
			check "walk: no wrong answer, the damage reported (rc $rc)" [ $rc = 0 ]
			check "the server's messages are single prefixed lines" \
				bash -c "! grep -v -e '^ext4-service: ' -e '^Connection from PID' \
					-e '^Spawned .* as PID' -e '^Execing ' -e '^Communication attempt' '$WORK/activator.log' | sed 's/^/  log: /' | grep . >&2"
			expect_server_sane
		fi
		umount "$MNT" 2>/dev/null || umount -l "$MNT"
	else
		expect_refused
	fi
	check "the image is unchanged" [ "$(sha256sum <"$IMG")" = "$sum" ]
	check "nothing left" nothing_left
}

# Journal damage: the kernel, replaying a copy, is the oracle. Ours (the
# in-memory replay, and the server) must show exactly the kernel's tree, or
# refuse with one line.
run_journal() {
	python3 "$HERE/corrupt.py" "$IMG" "$CASE" >/dev/null || { fail "corrupt.py"; finish; }
	local sum kernel_ok=0 dev
	sum=$(sha256sum <"$IMG")
	cp "$IMG" "$WORK/kimg"
	fsvc_loop_attach dev "$WORK/kimg" || { fail "losetup"; finish; }
	if mount -t ext4 "$dev" "$KMNT" 2>"$WORK/kerr"; then
		kernel_ok=1
		"$WALK" dir "$KMNT" >"$WORK/kernel" 2>/dev/null
		umount "$KMNT"
		echo "kernel: mounts the damaged image"
	else
		echo "kernel: refuses it ($(head -c 200 "$WORK/kerr"))"
	fi
	fsvc_loop_detach "$dev"

	if timeout 60 "$WALK" image "$IMG" >"$WORK/ours" 2>"$WORK/ours.err"; then
		check "replay: same tree as the kernel's" \
			bash -c "[ $kernel_ok = 1 ] && diff -u '$WORK/kernel' '$WORK/ours' >&2"
	else
		local lines
		lines=$(grep -vc '^tree_walk: replayed' "$WORK/ours.err")
		check "replay: refused with one line ($(head -n1 "$WORK/ours.err"))" [ "$lines" = 1 ]
	fi
	if mount_ours; then
		timeout -k 5 120 "$WALK" dir "$MNT" >"$WORK/served" 2>/dev/null
		check "server: same tree as the kernel's" \
			bash -c "[ $kernel_ok = 1 ] && diff -u '$WORK/kernel' '$WORK/served' >&2"
		expect_server_sane
		umount "$MNT" 2>/dev/null || umount -l "$MNT"
	else
		expect_refused
	fi
	check "the image is unchanged" [ "$(sha256sum <"$IMG")" = "$sum" ]
	check "nothing left" nothing_left
}

make_tree
case $CASE in
truncated-half)
	build csum
	truncate -s 8M "$IMG"
	mount_ours
	expect_refused
	check "nothing left" nothing_left
	;;
truncated-superblock)
	build csum
	truncate -s 1500 "$IMG"
	mount_ours
	expect_refused
	check "nothing left" nothing_left
	;;
sb-csum | gdt-csum | inode-csum | xattr-csum)
	build csum
	run_damaged
	;;
inode-block-range)
	build ext2
	run_damaged
	;;
journal-*)
	build_dirty
	run_journal
	;;
*)
	build plain
	run_damaged
	;;
esac
finish
