#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The example servers without systemd:
#   - classic mode (not socket-activated): each says so and mounts itself;
#   - service mode under systemd-socket-activate, mounted by the test twin of
#     the helper (fuservicemount3-test: its socket directory is in the build
#     tree): read/write, read-only, a file mountpoint for null, the read-only
#     fallback for a user who may not write the source (setuid helper run as
#     nobody), and a block device (-o blockdev,blocksize=) including the EBUSY
#     retry when the device is held exclusively by another mount;
#   - tarfs (the C++ example): a pax, a GNU and a ustar archive served
#     read-only (files, directories, symlinks, hard links, long names), for
#     root and for nobody through the setuid helper, and refusals with one
#     line and no mount for a corrupt, a truncated, an empty, a missing and an
#     unreadable archive.
# The sandbox is not in play here; run-units.sh tests the units.
#
# usage: examples-direct.sh BUILD_DIR
# Exit: 0 pass, 1 fail, 77 skip (not root / no /dev/fuse).
set -uo pipefail
. "$(dirname "$0")/../common/activator.sh"

build=$(cd "${1:?usage: examples-direct.sh BUILD_DIR}" && pwd)
helper=$build/util/fuservicemount3-test
sockdir=$build/test-run/filesystems
failures=0

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root (real mounts, a setuid helper copy, loop devices)"
	exit 77
fi
if [ ! -c /dev/fuse ]; then
	echo "SKIP: no /dev/fuse"
	exit 77
fi

ok() { printf 'ok   %s\n' "$*"; }
bad()
{
	printf 'FAIL %s\n' "$*"
	failures=$((failures + 1))
}
check()
{
	local what=$1
	shift
	if "$@"; then ok "$what"; else bad "$what"; fi
}

work=$(mktemp -d /tmp/fsvc-examples.XXXXXX)
chmod 0755 "$work"
activators=()
sockets=()
loopdev=

cleanup()
{
	local p
	fsvc_unmount_under "$work"
	fsvc_stop_activators "${activators[@]}"
	for p in "${sockets[@]}"; do
		rm -f "$p"
	done
	[ -n "$loopdev" ] && losetup -d "$loopdev"
	rm -rf "$work"
	if [ "$failures" -ne 0 ]; then
		echo "$failures check(s) failed"
		exit 1
	fi
	echo "all checks passed"
	exit 0
}
trap cleanup EXIT
trap 'failures=$((failures + 1)); exit 1' INT TERM

mounted() { findmnt -n -o FSTYPE,OPTIONS --mountpoint "$1"; }
# Wait until nothing is mounted on $1 any more (the server unmounted/exited).
unmount()
{
	umount "$1" || return 1
	[ -z "$(mounted "$1")" ]
}

head -c 1048576 /dev/urandom >"$work/img"
mkdir -p "$work/mnt" "$work/mnt2" "$work/mnt-user"
touch "$work/zeros"

# --- classic mode ------------------------------------------------------------
# classic LOG ARGS...: run an example in the foreground, wait for its mount.
classic_pid=
classic()
{
	local log=$1 mnt=${*: -1} i
	shift
	"$@" >"$log" 2>&1 &
	classic_pid=$!
	for ((i = 0; i < 200; i++)); do
		[ -n "$(mounted "$mnt")" ] && return 0
		kill -0 "$classic_pid" 2>/dev/null || break
		sleep 0.05
	done
	return 1
}
# classic_done MNT: unmount, and the server must exit with status 0.
classic_done()
{
	fusermount3 -u "$1" || return 1
	wait "$classic_pid"
}
for prog in service_ll service_hl; do
	if classic "$work/classic-$prog.log" "$build/example/$prog" -f "$work/img" "$work/mnt"; then
		check "$prog (classic): says it is not socket-activated" \
			grep -q "not started by socket activation" "$work/classic-$prog.log"
		check "$prog (classic): reads back the file" cmp "$work/mnt/image" "$work/img"
		check "$prog (classic): unmounts, exits 0" classic_done "$work/mnt"
	else
		bad "$prog (classic): mount failed: $(cat "$work/classic-$prog.log")"
	fi
done
if classic "$work/classic-null.log" "$build/example/null" -f "$work/zeros"; then
	check "null (classic): reads zeros" \
		[ "$(head -c 4 "$work/zeros" | od -An -tx1)" = " 00 00 00 00" ]
	check "null (classic): unmounts, exits 0" classic_done "$work/zeros"
else
	bad "null (classic): mount failed: $(cat "$work/classic-null.log")"
fi

# --- service mode, socket-activated --------------------------------------------
# serve SUBTYPE PROGRAM: one PROGRAM per connection to $sockdir/SUBTYPE.
serve()
{
	local sub=$1 prog=$2
	mkdir -p "$sockdir"
	sockets+=("$sockdir/$sub")
	fsvc_start_activator "$sockdir/$sub" "$work/$sub.log" "$build/example/$prog"
	local listening=$?
	activators+=("$FSVC_ACTIVATOR")
	[ $listening -eq 0 ] || { bad "no socket for $sub"; exit 1; }
	chmod 0666 "$sockdir/$sub"
}
ll=exll$$
hl=exhl$$
nl=exnull$$
tf=extar$$
serve "$ll" service_ll
serve "$hl" service_hl
serve "$nl" null
serve "$tf" tarfs

if "$helper" "$work/img" "$work/mnt" -t "fuse.$ll"; then
	check "service_ll: mounted as fuse.$ll" eval '[[ "$(mounted "$work/mnt")" == "fuse.$ll "* ]]'
	check "service_ll: reads back the file" cmp "$work/mnt/image" "$work/img"
	check "service_ll: writes reach the file" sh -c "
		printf served | dd of='$work/mnt/image' bs=1 seek=100 conv=notrunc,fsync status=none &&
		[ \"\$(dd if='$work/img' bs=1 skip=100 count=6 status=none)\" = served ]"
	check "service_ll: unmounts" unmount "$work/mnt"
else
	bad "service_ll: mount failed"
fi

if "$helper" "$work/img" "$work/mnt" -t "fuse.$hl" -o ro; then
	check "service_hl -o ro: the mount is read-only" \
		eval '[[ ",$(mounted "$work/mnt" | awk "{print \$2}")," == *,ro,* ]]'
	check "service_hl: reads back the file" cmp "$work/mnt/image" "$work/img"
	check "service_hl: unmounts" unmount "$work/mnt"
else
	bad "service_hl -o ro: mount failed"
fi

if "$helper" none "$work/zeros" -t "fuse.$nl"; then
	check "null: a 4 GiB regular file of zeros" \
		[ "$(stat -c '%F %s' "$work/zeros")" = "regular file 4294967296" ]
	check "null: unmounts" unmount "$work/zeros"
else
	bad "null: mount failed"
fi

# A user who may read the source but not write it gets a read-only mount.
setuid_dir=$work/bin
mkdir -p "$setuid_dir"
install -m 4755 -o root -g root "$helper" "$setuid_dir/"
chmod 0644 "$work/img"
chown nobody:nogroup "$work/mnt-user"
chmod 0666 /dev/fuse
if setpriv --reuid=nobody --regid=nogroup --clear-groups -- \
	"$setuid_dir/fuservicemount3-test" "$work/img" "$work/mnt-user" -t "fuse.$ll" \
	2>"$work/user.err"; then
	check "fallback: the mount is read-only" \
		eval '[[ ",$(mounted "$work/mnt-user" | awk "{print \$2}")," == *,ro,* ]]'
	check "fallback: the server says why" \
		grep -q "read-write refused (Permission denied), serving it read-only" "$work/$ll.log"
	check "fallback: nobody reads the file" \
		setpriv --reuid=nobody --regid=nogroup --clear-groups -- cmp "$work/mnt-user/image" "$work/img"
	check "fallback: writes are refused" \
		eval '! setpriv --reuid=nobody --regid=nogroup --clear-groups -- sh -c "echo x >>$work/mnt-user/image" 2>/dev/null'
	check "fallback: unmounts" unmount "$work/mnt-user"
else
	bad "fallback: nobody could not mount: $(cat "$work/user.err")"
fi

# --- tarfs: the C++ example ----------------------------------------------------
tree=$work/tree
long_dir=$(printf 'd%.0s' {1..120})
long_file=$(printf 'f%.0s' {1..200})
mkdir -p "$tree/dir/empty" "$tree/$long_dir"
echo "hello from the archive" >"$tree/a.txt"
head -c 300000 /dev/urandom >"$tree/dir/big.bin"
ln -s ../a.txt "$tree/dir/link"
ln "$tree/a.txt" "$tree/dir/hard"
echo long >"$tree/$long_dir/$long_file"
chmod 0640 "$tree/dir/big.bin"
touch -h -d @1000000000 "$tree/a.txt" "$tree/dir/link"
for fmt in pax gnu; do
	tar --format=$fmt -cf "$work/$fmt.tar" -C "$tree" .
done
# ustar cannot hold the long name: the rest of the tree.
tar --format=ustar -cf "$work/ustar.tar" -C "$tree" a.txt dir
chmod 0644 "$work"/*.tar

# tar_mount ARCHIVE MNT [helper...]: mount ARCHIVE with tarfs.
tar_mount()
{
	local archive=$1 mnt=$2
	shift 2
	"${@:-$helper}" "$archive" "$mnt" -t "fuse.$tf"
}
for fmt in pax gnu ustar; do
	if tar_mount "$work/$fmt.tar" "$work/mnt" 2>"$work/tar-$fmt.err"; then
		check "tarfs $fmt: mounted read-only as fuse.$tf" \
			eval '[[ "$(mounted "$work/mnt")" == "fuse.$tf "*ro,* ]]'
		if [ $fmt = ustar ]; then
			check "tarfs $fmt: the tree reads back" \
				eval 'diff -r "$tree/dir" "$work/mnt/dir" && cmp "$tree/a.txt" "$work/mnt/a.txt"'
		else
			check "tarfs $fmt: the tree reads back (long names too)" diff -r "$tree" "$work/mnt"
		fi
		check "tarfs $fmt: a hard link is the same inode, link count 2" \
			eval '[ "$(stat -c "%i %h" "$work/mnt/a.txt")" = "$(stat -c "%i %h" "$work/mnt/dir/hard")" ] &&
				[ "$(stat -c %h "$work/mnt/a.txt")" = 2 ]'
		check "tarfs $fmt: the symlink's target" [ "$(readlink "$work/mnt/dir/link")" = ../a.txt ]
		check "tarfs $fmt: modes and times as archived" \
			eval '[ "$(stat -c "%a %Y" "$work/mnt/dir/big.bin" "$work/mnt/a.txt")" = "$(stat -c "%a %Y" "$tree/dir/big.bin" "$tree/a.txt")" ]'
		check "tarfs $fmt: writes are refused" \
			eval '! sh -c "echo x >>\"$work/mnt/a.txt\"" 2>/dev/null'
		check "tarfs $fmt: unmounts" unmount "$work/mnt"
	else
		bad "tarfs $fmt: mount failed: $(cat "$work/tar-$fmt.err")"
	fi
done

# An unprivileged user, through the setuid helper.
if tar_mount "$work/pax.tar" "$work/mnt-user" setpriv --reuid=nobody --regid=nogroup \
	--clear-groups -- "$setuid_dir/fuservicemount3-test" 2>"$work/tar-user.err"; then
	check "tarfs as nobody: reads the archive" \
		setpriv --reuid=nobody --regid=nogroup --clear-groups -- \
		cmp "$work/mnt-user/a.txt" "$tree/a.txt"
	check "tarfs as nobody: unmounts" unmount "$work/mnt-user"
else
	bad "tarfs as nobody: mount failed: $(cat "$work/tar-user.err")"
fi

# tar_refused NAME ARCHIVE LINE [helper...]: the mount fails, nothing is
# mounted, and the server said LINE (a fixed string), exactly once.
tar_refused()
{
	local name=$1 archive=$2 line=$3
	shift 3
	if tar_mount "$archive" "$work/mnt" "$@" 2>"$work/tar-$name.err"; then
		bad "tarfs: the $name archive was mounted"
		unmount "$work/mnt"
		return
	fi
	ok "tarfs: the $name archive is refused"
	check "tarfs: nothing mounted after the $name archive" [ -z "$(mounted "$work/mnt")" ]
	check "tarfs: one line for the $name archive: $line" \
		[ "$(grep -cF -- "$line" "$work/$tf.log")" = 1 ]
}
head -c 700 "$work/pax.tar" >"$work/truncated.tar"
cp "$work/gnu.tar" "$work/corrupt.tar"
# The first member is "./" without data: the second header is at 512, and
# a changed byte in its name breaks its checksum.
printf 'Z' | dd of="$work/corrupt.tar" bs=1 seek=512 conv=notrunc status=none
: >"$work/empty.tar"
cp "$work/pax.tar" "$work/secret.tar"
chmod 0600 "$work/secret.tar"
chmod 0644 "$work/truncated.tar" "$work/corrupt.tar" "$work/empty.tar"
tar_refused truncated "$work/truncated.tar" \
	"tarfs: $work/truncated.tar: not a valid tar archive: offset 0: entry data runs past the end of the archive (truncated?)"
tar_refused corrupt "$work/corrupt.tar" \
	"tarfs: $work/corrupt.tar: not a valid tar archive: offset 512: bad header checksum"
tar_refused empty "$work/empty.tar" "tarfs: $work/empty.tar: not a valid tar archive: an empty file"
tar_refused missing "$work/missing.tar" \
	"tarfs: cannot open $work/missing.tar: No such file or directory"
tar_refused unreadable "$work/secret.tar" \
	"tarfs: cannot open $work/secret.tar: Permission denied" \
	setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$setuid_dir/fuservicemount3-test"

# --- a block device ------------------------------------------------------------
if loopdev=$(losetup -f --show "$work/img" 2>/dev/null); then
	if "$helper" "$loopdev" "$work/mnt" -t "fuse.$ll" -o blockdev,blocksize=4096; then
		check "blockdev: reads back the device" cmp "$work/mnt/image" "$work/img"
		check "blockdev: block size 4096" [ "$(stat -c %o "$work/mnt/image")" = 4096 ]
		# The first server holds the device with O_EXCL: a second mount
		# gets EBUSY, asks again a few times, then gives up.
		if "$helper" "$loopdev" "$work/mnt2" -t "fuse.$ll" -o blockdev 2>"$work/busy.err"; then
			bad "blockdev: a second exclusive mount of the same device worked"
			unmount "$work/mnt2"
		else
			ok "blockdev: a second exclusive mount is refused"
			check "blockdev: the server retried while the device was busy" \
				grep -q "$loopdev is busy, asking again (5/5)" "$work/$ll.log"
		fi
		check "blockdev: unmounts" unmount "$work/mnt"
		# Released: the same request now succeeds.
		if "$helper" "$loopdev" "$work/mnt2" -t "fuse.$ll" -o blockdev; then
			ok "blockdev: mounts once the device is free"
			check "blockdev: unmounts" unmount "$work/mnt2"
		else
			bad "blockdev: mount after release failed"
		fi
		check "blockdev: a regular file is refused with -o blockdev" \
			eval '! "$helper" "$work/img" "$work/mnt2" -t "fuse.$ll" -o blockdev 2>/dev/null'
	else
		bad "blockdev: mount of $loopdev failed"
	fi
else
	echo "note: no loop device available: block device checks not run"
fi
# Every server has exited on its own by now (or soon): then nothing in their
# logs may come from a sanitizer (in sanitized builds) or a crash.
servers_running()
{
	local p
	for p in "${activators[@]}"; do
		pgrep -P "$p" >/dev/null && return 0
	done
	return 1
}
for ((i = 0; i < 200; i++)); do
	servers_running || break
	sleep 0.05
done
check "every socket-activated server has exited" eval '! servers_running'
check "no sanitizer report or crash in any server's log" \
	eval '! grep -E "Sanitizer|runtime error:|Segmentation|Aborted" "$work"/*.log'
check "no mount is left" eval '[ -z "$(awk -v w="$work" "index(\$5, w) == 1" /proc/self/mountinfo)" ]'
