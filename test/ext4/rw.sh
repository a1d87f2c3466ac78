#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Read-write mounts through the contained ext4-service (socket activation +
# fuservicemount3): every write operation checked as it runs (rw_ops.py),
# the tree recorded, then after the unmount the image passes e2fsck -fn and
# the kernel's ext4 reads back exactly what we recorded.
#   rw.sh BUILD_DIR CASE
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
SUB=ext4rw-$CASE
start_activator "$SUB" 0666 "$EXT4"

# make_image MKFS_ARGS [SIZE]: a small tree, by mkfs -d.
make_image() {
	mkdir -p "$WORK/tree/d"
	echo hello >"$WORK/tree/d/f"
	# shellcheck disable=SC2086 # a word list
	mkfs.ext4 -q -F -E root_owner=${ROOT_OWNER:-0:0} $1 -d "$WORK/tree" "$WORK/img" "${2:-256M}" ||
		{ fail "mkfs $1"; finish; }
}

# server_gone: the server wrote everything back and exited (umount returns
# before it has: only a fuseblk mount waits for it).
server_gone() {
	local _
	for _ in $(seq 600); do
		[ "$(pgrep -g "${ACTIVATORS[0]}" | grep -vxc "${ACTIVATORS[0]}")" = 0 ] && return 0
		sleep 0.1
	done
	return 1
}

# mount_rw [nobody] [-o OPTS]: mount $WORK/img on $MNT through the service.
mount_rw() {
	if [ "${1:-}" = nobody ]; then
		shift
		run_helper_nobody "$WORK/img" "$MNT" -t "fuse.$SUB" "$@"
	else
		run_helper "$WORK/img" "$MNT" -t "fuse.$SUB" "$@"
	fi
	if [ "$RC" != 0 ] || ! is_mounted "$MNT"; then
		cat "$WORK/err" "$WORK/activator.log" >&2
		return 1
	fi
}

mount_opts_of() { awk -v m="$MNT" '$5 == m {print $6}' /proc/self/mountinfo; }

# after_unmount: unmount, wait for the server, e2fsck -fn, the kernel reads
# back the snapshot taken through our mount.
after_unmount() {
	check "unmount" umount "$MNT"
	check "the server wrote back and exited" server_gone
	if e2fsck -fn "$WORK/img" >"$WORK/fsck" 2>&1; then
		echo "ok: e2fsck -fn: clean ($(tail -1 "$WORK/fsck"))"
	else
		head -40 "$WORK/fsck" >&2
		fail "e2fsck -fn finds errors"
	fi
	check "marked clean again" bash -c "dumpe2fs -h '$WORK/img' 2>/dev/null | grep -q '^Filesystem state: *clean$'"
	local dev
	fsvc_loop_attach dev "$WORK/img" -r || { fail "losetup"; return; }
	check "the kernel mounts the image" mount -t ext4 -o ro,noload "$dev" "$KMNT"
	check "the kernel reads back every path and statfs as we left them" \
		python3 "$HERE/rw_ops.py" check "$KMNT" "$WORK/snap"
	umount "$KMNT"
	fsvc_loop_detach "$dev"
}

# ops_case MKFS_ARGS: every operation on a fresh image, as root.
ops_case() {
	make_image "$1"
	check "mounted read-write through the service" mount_rw
	check "the mount is rw, default_permissions" bash -c \
		"[[ ,\$(awk -v m='$MNT' '\$5 == m {print \$6}' /proc/self/mountinfo), == *,rw,* ]]"
	check "the image is marked not clean while mounted" bash -c \
		"dumpe2fs -h '$WORK/img' 2>/dev/null | grep -q '^Filesystem state: *not clean$'"
	# shellcheck disable=SC2086 # a word list
	check "every operation" python3 "$HERE/rw_ops.py" ops "$MNT" ${OPS_FLAGS:-}
	check "snapshot through our mount" python3 "$HERE/rw_ops.py" snapshot "$MNT" "$WORK/snap"
	after_unmount
}

t_htree() {
	# The kernel makes /many an htree directory; we add and remove names.
	make_image "-t ext4 -b 4096 -I 256 -N 20000" 256M
	local dev
	fsvc_loop_attach dev "$WORK/img" || { fail "losetup"; finish; }
	mount -t ext4 "$dev" "$KMNT" && mkdir "$KMNT/many" &&
		python3 -c "
import os, sys
for i in range(5000):
    open(os.path.join(sys.argv[1], 'k-%05d-%s' % (i, 'x' * 30)), 'w').close()" "$KMNT/many" &&
		umount "$KMNT" || { fail "kernel-made htree"; finish; }
	fsvc_loop_detach "$dev"
	check "/many is an htree directory" bash -c \
		"! debugfs -R 'htree /many' '$WORK/img' 2>&1 | grep -q 'Not a hash-indexed'"
	check "mounted read-write" mount_rw
	check "htree grows and shrinks" python3 "$HERE/rw_ops.py" htree "$MNT"
	check "snapshot" python3 "$HERE/rw_ops.py" snapshot "$MNT" "$WORK/snap"
	after_unmount
}

t_modes() {
	make_image "-t ext4 -b 4096"
	# -o ro is honoured: a read-only mount, the image untouched.
	local sum
	sum=$(sha256sum <"$WORK/img")
	check "-o ro: mounted" mount_rw -o ro
	check "-o ro: the mount is ro" bash -c "[[ ,$(mount_opts_of), == *,ro,* ]]"
	check "-o ro: writes fail (EROFS)" bash -c "! touch '$MNT/x' 2>/dev/null"
	check "unmount" umount "$MNT"
	check "server exits" server_gone
	check "-o ro: the image is unchanged" [ "$(sha256sum <"$WORK/img")" = "$sum" ]

	# A source the caller may only read: one notice line, read-only.
	chmod 0644 "$WORK/img"
	chmod 0755 "$WORK"
	chown nobody "$MNT"
	: >"$WORK/activator.log"
	check "nobody, a root-owned 0644 image: mounted" mount_rw nobody
	check "nobody: mounted read-only" bash -c "[[ ,$(mount_opts_of), == *,ro,* ]]"
	check "nobody: one line says why" bash -c \
		"grep -c 'ext4-service: $WORK/img: Permission denied; mounting read-only' '$WORK/activator.log' | grep -qx 1"
	check "unmount" umount "$MNT"
	check "server exits" server_gone
	check "the image is unchanged" [ "$(sha256sum <"$WORK/img")" = "$sum" ]

	# A read-only loop device: EROFS, read-only with a notice.
	local dev
	fsvc_loop_attach dev "$WORK/img" -r || { fail "losetup"; finish; }
	: >"$WORK/activator.log"
	run_helper "$dev" "$MNT" -t "fuse.$SUB"
	is_mounted "$MNT" || cat "$WORK/err" "$WORK/activator.log" >&2
	check "read-only block device: mounted" is_mounted "$MNT"
	check "read-only block device: ro" bash -c "[[ ,$(mount_opts_of), == *,ro,* ]]"
	check "read-only block device: one line" grep -q "Read-only file system; mounting read-only" "$WORK/activator.log"
	umount "$MNT"
	server_gone
	fsvc_loop_detach "$dev"

	# A writable block device: read-write, held exclusively.
	fsvc_loop_attach dev "$WORK/img" || { fail "losetup"; finish; }
	run_helper "$dev" "$MNT" -t "fuse.$SUB"
	check "block device: mounted rw" bash -c "[[ ,$(mount_opts_of), == *,rw,* ]]"
	check "block device: a write" bash -c "echo blk >'$MNT/blk' && [ \"\$(cat '$MNT/blk')\" = blk ]"
	check "block device: the kernel cannot mount it meanwhile (O_EXCL)" bash -c \
		"! mount -t ext4 -o ro '$dev' '$KMNT' 2>/dev/null"
	umount "$MNT"
	check "server exits" server_gone
	fsvc_loop_detach "$dev"
	check "block device: e2fsck -fn clean" e2fsck -fn "$WORK/img"

	# A second read-write mount of the same image file: read-only, said once.
	check "first rw mount" mount_rw
	mkdir "$WORK/mnt2"
	: >"$WORK/activator.log"
	run_helper "$WORK/img" "$WORK/mnt2" -t "fuse.$SUB"
	check "second mount: read-only" bash -c \
		"awk -v m='$WORK/mnt2' '\$5 == m {print \$6}' /proc/self/mountinfo | grep -q '^ro'"
	check "second mount: one line says why" grep -q "in use by another read-write mount; mounting read-only" \
		"$WORK/activator.log"
	umount "$WORK/mnt2"
	umount "$MNT"
	check "servers exit" server_gone
	check "e2fsck -fn clean" e2fsck -fn "$WORK/img"
}

# refused FEATURE MKFS_ARGS: readable, not written: ro with one line.
refused() {
	rm -f "$WORK/img"
	# shellcheck disable=SC2086
	mkfs.ext4 -q -F $2 "$WORK/img" 64M || { fail "mkfs $2"; return; }
	local sum
	sum=$(sha256sum <"$WORK/img")
	: >"$WORK/activator.log"
	check "$1: mounted" mount_rw
	check "$1: read-only" bash -c "[[ ,$(mount_opts_of), == *,ro,* ]]"
	check "$1: one line names it" grep -q "^ext4-service: cannot write filesystem feature $1.*: mounting read-only" \
		"$WORK/activator.log"
	umount "$MNT"
	server_gone
	check "$1: the image is unchanged" [ "$(sha256sum <"$WORK/img")" = "$sum" ]
}

t_refuse() {
	refused bigalloc "-O bigalloc -C 16384"
	refused quota "-O quota"
	refused inline_data "-O inline_data"
	refused mmp "-O mmp"
	# An unclean filesystem is not written either.
	make_image "-t ext4"
	debugfs -w -R "ssv state 0" "$WORK/img" >/dev/null 2>&1
	: >"$WORK/activator.log"
	check "unclean: mounted" mount_rw
	check "unclean: read-only" bash -c "[[ ,$(mount_opts_of), == *,ro,* ]]"
	check "unclean: one line" grep -q "not cleanly unmounted .*: mounting read-only" "$WORK/activator.log"
	umount "$MNT"
	server_gone
}

# A dirty journal (the recipe of oracle.sh): recovered to the device
# before a read-write mount serves anything; norecovery serves read-only.
t_journal() {
	make_image "-t ext4 -b 4096 -I 256"
	local dev old
	exec 9>/run/lock/fsvc-dirty-writeback.lock
	flock 9
	old=$(sysctl -n vm.dirty_writeback_centisecs)
	sysctl -q vm.dirty_writeback_centisecs=0
	fsvc_loop_attach dev "$WORK/img" || { fail "losetup"; finish; }
	mount -t ext4 "$dev" "$KMNT" && echo "in the journal" >"$KMNT/d/j" && mkdir "$KMNT/jd" &&
		python3 -c "import os, sys; os.fsync(os.open(sys.argv[1], os.O_RDONLY))" "$KMNT/d/j" &&
		cp --sparse=always "$WORK/img" "$WORK/dirty.img"
	umount "$KMNT"
	fsvc_loop_detach "$dev"
	sysctl -q vm.dirty_writeback_centisecs="$old"
	flock -u 9
	exec 9>&-
	mv "$WORK/dirty.img" "$WORK/img"
	check "the image needs recovery" bash -c "dumpe2fs -h '$WORK/img' 2>/dev/null | grep -q needs_recovery"
	local sum
	sum=$(sha256sum <"$WORK/img")
	: >"$WORK/activator.log"
	check "norecovery: mounted" mount_rw -o norecovery
	check "norecovery: read-only" bash -c "[[ ,$(mount_opts_of), == *,ro,* ]]"
	check "norecovery: one line" grep -q "norecovery, and the journal needs recovery: mounting read-only" \
		"$WORK/activator.log"
	umount "$MNT"
	server_gone
	check "norecovery: the image is unchanged" [ "$(sha256sum <"$WORK/img")" = "$sum" ]
	: >"$WORK/activator.log"
	check "mounted read-write" mount_rw
	check "read-write" bash -c "[[ ,$(mount_opts_of), == *,rw,* ]]"
	check "one line: recovered to the device" grep -q "^ext4-service: recovered the journal: 1 transactions" \
		"$WORK/activator.log"
	check "the journalled change is there" [ "$(cat "$MNT/d/j")" = "in the journal" ]
	check "a write after recovery" bash -c "echo after >'$MNT/jd/after'"
	check "snapshot" python3 "$HERE/rw_ops.py" snapshot "$MNT" "$WORK/snap"
	after_unmount
	check "no longer needs recovery" bash -c "! dumpe2fs -h '$WORK/img' 2>/dev/null | grep -q needs_recovery"
}

# Damaged images (test/ext4_hostile/corrupt.py) mounted read-write and
# written all over: any request may fail, but the server answers every one
# (or its watchdog ends it, with its line), never crashes, and the mount
# comes down.
t_hostile() {
	local kind target
	for kind in inode-csum extent-out-of-range extent-overlap extent-loop extent-header \
		dir-reclen0 dir-reclen-past-block htree-node xattr-block xattr-csum gdt-csum; do
		rm -rf "$WORK/tree" "$WORK/img"
		mkdir -p "$WORK/tree/small" "$WORK/tree/dir"
		head -c 40000 /dev/urandom >"$WORK/tree/victim"
		head -c 1024 /dev/urandom >"$WORK/tree/two"
		head -c 1024 /dev/urandom | dd of="$WORK/tree/two" bs=1024 seek=8 conv=notrunc status=none
		: >"$WORK/tree/frag"
		for i in $(seq 0 9); do
			head -c 1024 /dev/urandom | dd of="$WORK/tree/frag" bs=1024 seek=$((i * 3)) conv=notrunc status=none
		done
		echo "has a big xattr" >"$WORK/tree/xa"
		setfattr -n user.big -v "$(head -c 700 /dev/zero | tr '\0' v)" "$WORK/tree/xa"
		for i in $(seq 1 400); do echo "$i" >"$WORK/tree/dir/entry-with-a-rather-long-name-$i"; done
		ln -s "$(printf 'x%.0s' $(seq 1 100))" "$WORK/tree/link"
		mkfs.ext4 -q -F -E root_owner=0:0 -t ext4 -b 1024 -I 256 -d "$WORK/tree" "$WORK/img" 16M ||
			{ fail "mkfs"; continue; }
		e2fsck -fyD "$WORK/img" >/dev/null 2>&1 # index /dir (htree), as ext4_hostile does
		target=$(python3 "$HERE/../ext4_hostile/corrupt.py" "$WORK/img" "$kind") || { fail "corrupt.py $kind"; continue; }
		: >"$WORK/activator.log"
		run_helper "$WORK/img" "$MNT" -t "fuse.$SUB" -o watchdog=20
		if [ "$RC" != 0 ]; then
			check "$kind: refused with one line" grep -q "^ext4-service: " "$WORK/activator.log"
			continue
		fi
		timeout -k 5 150 python3 "$HERE/rw_ops.py" hostile "$MNT"
		local rc=$?
		check "$kind ($target): the writes end (rc $rc)" [ $rc != 124 ] && [ $rc != 137 ]
		if ! stat "$MNT" >/dev/null 2>&1; then
			check "$kind: the server ended only by its watchdog" grep -q "^ext4-service: watchdog" "$WORK/activator.log"
		else
			echo "ok: $kind: the server still answers"
		fi
		check "$kind: every log line is one prefixed line" bash -c \
			"! grep -v -e '^ext4-service: ' -e '^Connection from PID' -e '^Spawned .* as PID' \
				-e '^Execing ' -e '^Communication attempt' -e '^Child .* died with code [01]\$' \
				'$WORK/activator.log' | grep . >&2"
		umount "$MNT" 2>/dev/null || umount -l "$MNT"
		check "$kind: the server exits" server_gone
	done
}

case $CASE in
ops-4k) ops_case "-t ext4 -b 4096 -I 256" ;;
ops-1k) OPS_FLAGS=--no-ns ops_case "-t ext4 -b 1024 -I 128" ;;
ops-ext3) OPS_FLAGS=--no-extents ops_case "-t ext3 -b 4096 -I 256" ;;
ops-ext2) OPS_FLAGS="--no-extents --no-ns" ops_case "-t ext2 -b 1024 -I 128" ;;
ops-nobody)
	ROOT_OWNER=$(id -u nobody):$(id -g nobody) make_image "-t ext4 -b 4096 -I 256"
	chown nobody "$WORK/img" "$MNT"
	chmod 0755 "$WORK"
	check "nobody mounts its own image read-write" mount_rw nobody
	check "the mount is rw" bash -c "[[ ,$(mount_opts_of), == *,rw,* ]]"
	check "every operation, as nobody" as_nobody /usr/bin/python3 "$HERE/rw_ops.py" ops "$MNT" --nobody
	mkdir "$WORK/nb" && chown nobody "$WORK/nb"
	check "snapshot (as nobody: the mount is not allow_other)" \
		as_nobody /usr/bin/python3 "$HERE/rw_ops.py" snapshot "$MNT" "$WORK/nb/snap"
	mv "$WORK/nb/snap" "$WORK/snap"
	after_unmount
	;;
htree) t_htree ;;
journal) t_journal ;;
hostile) t_hostile ;;
modes) t_modes ;;
refuse) t_refuse ;;
*)
	echo "unknown case $CASE"
	exit 2
	;;
esac
finish
