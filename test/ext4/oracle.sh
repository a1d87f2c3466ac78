#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The kernel is the oracle: build an image with mkfs -d from a generated
# tree, mount it through the contained ext4-service (socket activation +
# fuservicemount3) and through the kernel's ext4 on a loop device, and
# compare everything (compare.py).
#   oracle.sh BUILD_DIR CASE
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
MNT=$WORK/mnt
KMNT=$WORK/kmnt
mkdir "$MNT" "$KMNT"
SUB=ext4t-$CASE

# build_image MKFS_ARGS GEN_ARGS [SIZE]: $WORK/tree -> $WORK/img
build_image() {
	local mkfs_args=$1 gen_args=$2 size=${3:-512M}
	# shellcheck disable=SC2086 # word lists
	python3 "$HERE/gen_tree.py" "$WORK/tree" $gen_args || { fail "tree generation"; finish; }
	# shellcheck disable=SC2086
	mkfs.ext4 -q -F -E root_owner=0:0 $mkfs_args -d "$WORK/tree" "$WORK/img" "$size" ||
		{ fail "mkfs $mkfs_args"; finish; }
	[ "${NO_RETIME:-}" ] || retime
}

# mkfs -d keeps whole seconds and 32-bit times: set owners, modes and
# nanosecond times (past 2038 too) through a read-write kernel mount.
retime() {
	local dev
	fsvc_loop_attach dev "$WORK/img" || { fail "losetup"; finish; }
	mount -t ext4 "$dev" "$KMNT" && python3 "$HERE/gen_tree.py" --retime --many "${MANY:-0}" "$KMNT" &&
		umount "$KMNT" || { fail "retime through the kernel"; finish; }
	fsvc_loop_detach "$dev"
}

# mount_ours SOURCE [OPTS]: mount SOURCE on $MNT through the service,
# read-only ("ro" added) unless RW=1.
mount_ours() {
	local src=$1 opts=${2:-}
	[ -n "${RW:-}" ] || opts=ro${opts:+,$opts}
	[ -n "${ACTIVATOR_STARTED:-}" ] || { start_activator "$SUB" 0600 "$EXT4"; ACTIVATOR_STARTED=1; }
	run_helper "$src" "$MNT" -t "fuse.$SUB" ${opts:+-o "$opts"}
	[ "$RC" = 0 ] && is_mounted "$MNT"
}

mount_kernel() {
	local dev
	fsvc_loop_attach dev "$WORK/img" -r || return 1
	mount -t ext4 -o ro "$dev" "$KMNT" 2>"$WORK/kerr" || mount -o ro "$dev" "$KMNT" 2>>"$WORK/kerr"
}

compare_all() {
	local what=$1
	if ! python3 "$HERE/compare.py" "$KMNT" "$MNT" >"$WORK/cmp" 2>&1; then
		head -50 "$WORK/cmp" >&2
		fail "$what: differences from the kernel"
	else
		echo "ok: $what: $(tail -1 "$WORK/cmp")"
	fi
}

# servers_gone [SECONDS]: the activators' servers have exited (a loaded
# machine may take longer than nothing_left's 10 s); says what is left.
servers_gone() {
	local i p alive
	for i in $(seq $((${1:-60} * 10))); do
		alive=0
		for p in "${ACTIVATORS[@]}"; do
			[ "$(pgrep -g "$p" | grep -vx "$p" | wc -l)" -gt 0 ] && alive=1
		done
		[ $alive = 0 ] && return 0
		sleep 0.1
	done
	for p in "${ACTIVATORS[@]}"; do
		ps -o pid,stat,wchan:30,etime,args -g "$p" >&2
	done
	return 1
}

unmount_both() {
	check "unmount ours" umount "$MNT"
	umount "$KMNT" 2>/dev/null
	check "the server exits" servers_gone
	check "nothing left" nothing_left
}

# oracle_case MKFS_ARGS GEN_ARGS [SIZE]
oracle_case() {
	build_image "$@"
	local sum
	sum=$(sha256sum <"$WORK/img")
	check "mounted through the service ${OURS_OPTS:-}" mount_ours "$WORK/img" "${OURS_OPTS:-}"
	[ $FAILED = 0 ] || { cat "$WORK/err" "$WORK/activator.log" >&2; finish; }
	check "mounted by the kernel" mount_kernel
	[ $FAILED = 0 ] || { cat "$WORK/kerr" >&2; finish; }
	check "read-only, default_permissions, the image as source" bash -c \
		"grep ' $MNT ' /proc/self/mountinfo | grep -q ' - fuse.$SUB $WORK/img ro,.*default_permissions'"
	compare_all "$CASE"
	unmount_both
	check "the image is unchanged" [ "$(sha256sum <"$WORK/img")" = "$sum" ]
}

# imap PATH: "BLOCK OFFSET" of an inode on $WORK/img
inode_location() {
	debugfs -R "imap \"$1\"" "$WORK/img" 2>/dev/null |
		awk '/located at block/ {gsub(",", "", $4); print $4, $6}' |
		while read -r b o; do echo "$b" $((o)); done
}

flip_byte() { # flip_byte OFFSET
	local b
	b=$(od -An -tu1 -j "$1" -N1 "$WORK/img" | tr -d ' ')
	printf "$(printf '\\%03o' $((b ^ 0xff)))" |
		dd of="$WORK/img" bs=1 seek="$1" conv=notrunc status=none
}

errno_of() { # errno_of PYTHON_EXPR: prints the errno an os call fails with, or 0
	python3 -c "
import os, sys
try:
    $1
    print(0)
except OSError as e:
    print(e.errno)"
}

t_corrupt_csum() {
	build_image "-t ext4 -b 4096 -I 256" ""
	local loc blk off bs=4096
	loc=$(inode_location /small/f001)
	read -r blk off <<<"$loc"
	[ -n "$blk" ] || { fail "debugfs imap"; finish; }
	# Byte 0x10 of the inode is in i_mtime: covered by the checksum.
	flip_byte $((blk * bs + off + 0x10))
	local dblk
	dblk=$(debugfs -R "blocks /names" "$WORK/img" 2>/dev/null | awk '{print $1}')
	flip_byte $((dblk * bs + 40))
	check "mounted through the service" mount_ours "$WORK/img"
	local e
	e=$(errno_of "os.lstat('$MNT/small/f001')")
	check "bad inode checksum: EUCLEAN or EIO, not data (got $e)" bash -c "[ $e = 117 ] || [ $e = 5 ]"
	e=$(errno_of "os.listdir('$MNT/names')")
	check "bad directory block checksum: EUCLEAN or EIO (got $e)" bash -c "[ $e = 117 ] || [ $e = 5 ]"
	check "a neighbour reads fine" cmp -s "$MNT/small/f002" "$WORK/tree/small/f002"
	check "one log line names the inode" grep -q "ext4-service: inode .*checksum" "$WORK/activator.log" || cat "$WORK/activator.log" >&2
	check "unmount" umount "$MNT"
	check "nothing left" nothing_left
}

# An image with FEATURE is refused with one line naming it; no mount.
refused() {
	local feature=$1 mkfs_args=$2
	rm -f "$WORK/img"
	# shellcheck disable=SC2086
	mkfs.ext4 -q -F $mkfs_args "$WORK/img" 64M || { fail "mkfs $mkfs_args"; return; }
	: >"$WORK/activator.log"
	mount_ours "$WORK/img"
	check "$feature: the mount fails" [ "$RC" != 0 ]
	check "$feature: not mounted" bash -c "! awk '\$5 == \"$MNT\"' /proc/self/mountinfo | grep -q ."
	check "$feature: one line names it" grep -q "^ext4-service: unsupported filesystem feature: $feature" \
		"$WORK/activator.log"
	check "$feature: nothing left" nothing_left
}

t_refuse() {
	refused encrypt "-O encrypt"
	refused casefold "-O casefold"
	refused verity "-O verity"
	# A truncated image: refused, not served with holes.
	build_image "-t ext4 -b 4096" ""
	truncate -s 100M "$WORK/img"
	: >"$WORK/activator.log"
	mount_ours "$WORK/img"
	check "truncated: the mount fails" [ "$RC" != 0 ]
	check "truncated: one line says so" grep -q "^ext4-service: image truncated" "$WORK/activator.log"
	check "truncated: nothing left" nothing_left
}

t_blockdev() {
	build_image "-t ext4 -b 4096 -I 256" ""
	local dev
	fsvc_loop_attach dev "$WORK/img" -r || { fail "losetup"; finish; }
	check "block device mounted through the service" mount_ours "$dev"
	[ $FAILED = 0 ] || { cat "$WORK/err" "$WORK/activator.log" >&2; finish; }
	check "mounted by the kernel" mount_kernel
	compare_all "block device source"
	unmount_both
}

t_mount8() {
	# mount -t fuse.ext4 IMAGE DIR through the front end (a private mount
	# namespace where /sbin/mount.fuse is our front end).
	build_image "-t ext4 -b 4096 -I 256" ""
	SUB=ext4
	start_activator ext4 0600 "$EXT4"
	unshare -m --propagation private env WORK="$WORK" MNT="$MNT" FRONTEND="$FRONTEND" bash -c '
		mount --bind "$FRONTEND" "$(readlink -f /sbin/mount.fuse)" || exit 10
		mount -t fuse.ext4 "$WORK/img" "$MNT" 2>"$WORK/err" || exit 11
		cmp -s "$MNT/links/target" "$WORK/tree/links/target" || exit 12
		umount "$MNT" || exit 13'
	local rc=$?
	check "mount -t fuse.ext4 IMAGE DIR works (rc=$rc)" [ $rc = 0 ]
	check "nothing left" nothing_left
}

t_watchdog() {
	# A request that hangs: the image lives on another FUSE mount (our own
	# server, classic) that we stop with SIGSTOP. The contained server's
	# pread then never returns; its watchdog must end it, and the user
	# gets an error (ENOTCONN), not a hang.
	NO_RETIME=1 build_image "-t ext4 -b 4096" "" 64M
	mkdir "$WORK/outer" "$WORK/amnt"
	mv "$WORK/img" "$WORK/outer/inner.img"
	mkfs.ext4 -q -F -d "$WORK/outer" "$WORK/outer.img" 256M || { fail "mkfs outer"; finish; }
	"$EXT4" "$WORK/outer.img" "$WORK/amnt" -f -o ro 2>"$WORK/outer.log" &
	local apid=$!
	PIDS+=("$apid")
	local i
	for i in $(seq 200); do mountpoint -q "$WORK/amnt" && break; sleep 0.05; done
	check "outer mount up" mountpoint -q "$WORK/amnt"
	check "inner mounted through the service" mount_ours "$WORK/amnt/inner.img" watchdog=2
	check "inner reads" cmp -s "$MNT/links/target" "$WORK/tree/links/target"
	sync
	echo 3 >/proc/sys/vm/drop_caches
	kill -STOP "$apid"
	local t0=$SECONDS
	timeout 30 cat "$MNT/small/f005" >/dev/null 2>&1
	local rc=$?
	check "a hung read fails instead of hanging (rc=$rc, $((SECONDS - t0)) s)" \
		bash -c "[ $rc != 0 ] && [ $rc != 124 ]"
	local e
	e=$(errno_of "os.stat('$MNT/small')")
	check "then the mount answers ENOTCONN (got $e)" [ "$e" = 107 ]
	check "the watchdog says why" grep -q "^ext4-service: watchdog: a .* request has run for over 2 s" \
		"$WORK/activator.log"
	kill -CONT "$apid"
	umount "$MNT" 2>/dev/null || umount -l "$MNT"
	check "outer unmounts" umount "$WORK/amnt"
	wait "$apid"
	check "nothing left" nothing_left
}

# A dirty journal, made for real: with periodic writeback off, change files
# on a read-write kernel mount, fsync one (the transaction is committed to
# the journal, nothing is checkpointed), copy the backing file, unmount.
make_dirty() {
	local dev old
	# Other tests flip the same global knob: take turns, so no one saves
	# another's 0 as "the old value" and leaves writeback off for good.
	exec 9>/run/lock/fsvc-dirty-writeback.lock
	flock 9
	old=$(sysctl -n vm.dirty_writeback_centisecs)
	trap 'sysctl -q vm.dirty_writeback_centisecs='"$old"'; cleanup' EXIT
	sysctl -q vm.dirty_writeback_centisecs=0
	fsvc_loop_attach dev "$WORK/img" || { fail "losetup"; finish; }
	mount -t ext4 "$dev" "$KMNT" || { fail "rw kernel mount"; finish; }
	(
		cd "$KMNT" || exit 1
		echo "changed after mkfs" >small/f010
		rm small/f011
		mkdir newdir
		mv small/f012 newdir/moved
		chmod 600 links/target
		setfattr -n user.added -v "in the journal" xattr/plain
		for i in $(seq 50); do echo "$i" >"newdir/n$i"; done
		ln -s ../links/target newdir/sym
		python3 -c "import os; f = os.open('newdir/n1', os.O_WRONLY); os.fsync(f)"
	) || { fail "changes on the rw mount"; finish; }
	cp --sparse=always "$WORK/img" "$WORK/dirty.img"
	umount "$KMNT"
	fsvc_loop_detach "$dev"
	sysctl -q vm.dirty_writeback_centisecs="$old"
	flock -u 9
	check "the copy needs recovery" bash -c \
		"dumpe2fs -h '$WORK/dirty.img' 2>/dev/null | grep -q 'needs_recovery'"
	check "logdump shows a committed transaction" bash -c \
		"debugfs -R logdump '$WORK/dirty.img' 2>/dev/null | grep -q 'Found expected sequence'"
}

t_dirty_journal() {
	NO_RETIME=1 build_image "-t ext4 -b 4096 -I 256" ""
	make_dirty
	local sum
	sum=$(sha256sum <"$WORK/dirty.img")
	# The oracle: the kernel replays (writes) a copy of the copy.
	cp --sparse=always "$WORK/dirty.img" "$WORK/img"
	check "mounted through the service (replayed in memory)" mount_ours "$WORK/dirty.img"
	[ $FAILED = 0 ] || { cat "$WORK/err" "$WORK/activator.log" >&2; finish; }
	local dev
	fsvc_loop_attach dev "$WORK/img"
	check "the kernel replays its copy" mount -t ext4 -o ro "$dev" "$KMNT"
	check "the change is visible" [ "$(cat "$MNT/small/f010")" = "changed after mkfs" ]
	compare_all "dirty journal, replayed"
	unmount_both
	check "the image is byte-for-byte unchanged" [ "$(sha256sum <"$WORK/dirty.img")" = "$sum" ]
	check "one line says it replayed" grep -q "^ext4-service: replayed .* journal transactions" \
		"$WORK/activator.log"

	# norecovery: the in-place state, like the kernel's ro,noload.
	check "mounted with norecovery" mount_ours "$WORK/dirty.img" norecovery
	fsvc_loop_attach dev "$WORK/dirty.img" -r
	check "the kernel mounts ro,noload" mount -t ext4 -o ro,noload "$dev" "$KMNT"
	check "the change is not visible" bash -c "! grep -q 'changed after mkfs' '$MNT/small/f010'"
	compare_all "dirty journal, norecovery"
	unmount_both
	check "still unchanged" [ "$(sha256sum <"$WORK/dirty.img")" = "$sum" ]
}

# mount_fails WHAT SOURCE LOGLINE: the mount fails, the server says why in
# one line, and nothing is left behind.
mount_fails() {
	: >"$WORK/activator.log"
	mount_ours "$2"
	check "$1: the mount fails" [ "$RC" != 0 ]
	check "$1: one line says why" grep -q "^ext4-service: $3" "$WORK/activator.log"
	check "$1: nothing left" nothing_left
}

t_badinput() {
	mount_fails "missing image" "$WORK/nonexistent" "cannot open $WORK/nonexistent: No such file"
	mkdir "$WORK/adir"
	mount_fails "a directory" "$WORK/adir" "$WORK/adir is not a regular file or block device"
	: >"$WORK/empty"
	mount_fails "an empty file" "$WORK/empty" "cannot read the superblock"
	head -c 1M /dev/urandom >"$WORK/junk"
	mount_fails "random bytes" "$WORK/junk" "not an ext2/ext3/ext4 filesystem"
	# Classic mode: usage errors are one line and exit 1.
	"$EXT4" >"$WORK/out" 2>&1
	check "classic without arguments: exit 1" [ $? = 1 ]
	check "classic without arguments: a usage line" grep -q "^usage: ext4-service IMAGE_OR_DEVICE MOUNTPOINT" "$WORK/out"
	"$EXT4" "$WORK/junk" "$MNT" >"$WORK/out" 2>&1
	check "classic on junk: exit 1" [ $? = 1 ]
	check "classic on junk: one line" grep -q "^ext4-service: not an ext2/ext3/ext4 filesystem" "$WORK/out"
	check "classic on junk: not mounted" bash -c "! mountpoint -q '$MNT'"
}

case $CASE in
ext4-4k) oracle_case "-t ext4 -b 4096 -I 256" "--big" ;;
ext4-1k) oracle_case "-t ext4 -b 1024 -I 256" "--big --max-xattr 600" ;;
# This one also covers the open/release path (the default lets the kernel skip them).
ext4-2k-128) OURS_OPTS=use_open oracle_case "-t ext4 -b 2048 -I 128" "--max-xattr 900" ;;
ext4-64k)
	# Kernels with 4 KiB pages cannot mount 64 KiB blocks (before 6.19?):
	# then the oracle is the source tree itself, minus what mkfs chooses
	# (inode numbers, block counts, ctimes, directory sizes).
	NO_RETIME=1 build_image "-t ext4 -b 65536 -I 256" "--big" 1G
	check "mounted through the service" mount_ours "$WORK/img"
	if mount_kernel; then
		compare_all "64k blocks"
	elif python3 "$HERE/compare.py" --against-tree "$WORK/tree" "$MNT" >"$WORK/cmp" 2>&1; then
		echo "ok: 64k blocks (kernel cannot mount them here; against the tree): $(tail -1 "$WORK/cmp")"
	else
		head -50 "$WORK/cmp" >&2
		fail "64k blocks: differences from the source tree"
	fi
	unmount_both
	;;
ext4-noextent) oracle_case "-t ext4 -b 4096 -O ^extent,^64bit,^metadata_csum,^flex_bg" "--big" ;;
ext4-inline) oracle_case "-t ext4 -b 4096 -I 256 -O inline_data" "" ;;
ext3) oracle_case "-t ext3 -b 4096 -I 256" "--big" ;;
ext2) oracle_case "-t ext2 -b 1024 -I 128" "--big --max-xattr 600" ;;
htree)
	# mkfs -d fills directories linearly (quadratic for 100000 names):
	# the kernel creates this one, as the htree directory it makes.
	MANY=100000 build_image "-t ext4 -b 4096 -I 256 -N 120000" "" 1G
	if debugfs -R "htree /many" "$WORK/img" 2>&1 | grep -q "Not a hash-indexed"; then
		fail "/many is not an htree directory"
	fi
	sum=$(sha256sum <"$WORK/img")
	check "mounted through the service" mount_ours "$WORK/img"
	check "mounted by the kernel" mount_kernel
	compare_all "100000-entry htree directory"
	check "getdents lists 100002 entries once each" [ "$(ls -af "$MNT/many" | sort -u | wc -l)" = 100002 ]
	check "unmount ours" umount "$MNT"
	# The plain readdir path (no readdirplus): same names, then lookups.
	check "mounted with no_readdirplus" mount_ours "$WORK/img" no_readdirplus
	check "plain readdir + lookup agree with the kernel" python3 -c "
import os, sys
k, o = sys.argv[1] + '/many', sys.argv[2] + '/many'
a, b = sorted(os.listdir(k)), sorted(os.listdir(o))
assert a == b, 'names differ'
for n in a[::97]:
    assert os.lstat(k + '/' + n).st_ino == os.lstat(o + '/' + n).st_ino, n
" "$KMNT" "$MNT"
	unmount_both
	check "the image is unchanged" [ "$(sha256sum <"$WORK/img")" = "$sum" ]
	;;
linear)
	# The same 100000 entries in a linear (unindexed) directory: the
	# kernel makes them as an htree, then dir_index is turned off and
	# e2fsck -D rewrites the directory linearly.
	MANY=100000 build_image "-t ext4 -b 4096 -I 256 -N 120000" "" 1G
	debugfs -w -R "feature -dir_index" "$WORK/img" >/dev/null 2>&1
	e2fsck -fyD "$WORK/img" >/dev/null 2>&1
	check "/many is linear" bash -c \
		"debugfs -R 'htree /many' '$WORK/img' 2>&1 | grep -q 'Not a hash-indexed'"
	check "mounted through the service" mount_ours "$WORK/img"
	check "mounted by the kernel" mount_kernel
	compare_all "100000-entry linear directory"
	unmount_both
	;;
corrupt-csum) t_corrupt_csum ;;
refuse) t_refuse ;;
blockdev) t_blockdev ;;
mount8) t_mount8 ;;
watchdog) t_watchdog ;;
dirty-journal) t_dirty_journal ;;
badinput) t_badinput ;;
*)
	echo "unknown case $CASE"
	exit 2
	;;
esac
finish
