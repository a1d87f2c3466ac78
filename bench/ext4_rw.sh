#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Write benchmark of ext4-service (read-write, contained) against the
# kernel's ext4 (loop device) and Debian's fuse2fs (classic, -o rw), same
# empty image, same run.
#
#   bench/ext4_rw.sh BUILD_DIR [ROUNDS]
#
# Each round, for each system in turn, on a fresh copy of one empty 4 GiB
# ext4 image (4 KiB blocks, inode tables already zeroed):
#   untar   tar -x of a 10 000-file tree (100 directories of 100 files,
#           100 B to 32 KiB, 160 MiB), then syncfs
#   seq     dd of 1 GiB in 1 MiB writes, conv=fsync
#   rand    16 384 writes of 4 KiB at random aligned offsets of a 256 MiB
#           file (written beforehand, untimed), then fsync
#   rm      rm -rf of the tree, then syncfs
# Prints the machine, medians over ROUNDS (default 3), the speed ratios
# ours/kernel, fuse2fs/kernel, ours/fuse2fs and the issue's targets. Needs
# root. Nothing is asserted.
set -euo pipefail

build=$(cd "${1:?usage: bench/ext4_rw.sh BUILD_DIR [ROUNDS]}" && pwd)
rounds=${2:-3}
server=$build/fs/ext4/ext4-service
helper=$build/util/fuservicemount3-test
sockdir=$build/test-run/filesystems
subtype=bench_ext4rw_$$
work=$(mktemp -d /tmp/fsvc-bench-ext4rw.XXXXXX)
act_pid=
f2fs_pid=
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../test/common/activator.sh"
. "$here/../test/common/loop.sh"
cleanup() {
	set +e
	fsvc_unmount_under "$work"
	fsvc_loop_detach_all
	[ -n "$f2fs_pid" ] && kill "$f2fs_pid" 2>/dev/null
	[ -n "$act_pid" ] && fsvc_stop_activators "$act_pid"
	rm -f "$sockdir/$subtype"
	rm -rf "$work"
}
trap cleanup EXIT

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), kernel $(uname -r), $(date -u '+%Y-%m-%d %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg)"
mkdir -p "$work/tree" "$work/mnt" "$sockdir"
echo "bench: building the tree and the image..." >&2
python3 - "$work/tree" <<'EOF'
import os, random, sys
root = sys.argv[1]
rnd = random.Random(42)
for d in range(100):
    os.mkdir(os.path.join(root, "d%03d" % d))
    for f in range(100):
        with open(os.path.join(root, "d%03d" % d, "f%03d" % f), "wb") as fh:
            fh.write(rnd.randbytes(rnd.randint(100, 32 * 1024)))
EOF
tar -C "$work/tree" -cf "$work/tree.tar" .
rm -rf "$work/tree"
mkfs.ext4 -q -F -b 4096 -E lazy_itable_init=0,lazy_journal_init=0 "$work/empty.img" 4G

fsvc_start_activator "$sockdir/$subtype" "$work/activator.log" "$server"
act_pid=$FSVC_ACTIVATOR

mnt=$work/mnt
img=$work/img
loopdev=
mount_sys() {
	cp --sparse=always "$work/empty.img" "$img"
	case $1 in
	kernel)
		fsvc_loop_attach loopdev "$img"
		mount -t ext4 "$loopdev" "$mnt"
		;;
	ours) "$helper" "$img" "$mnt" -t "fuse.$subtype" -o rw >/dev/null ;;
	fuse2fs)
		fuse2fs -f "$img" "$mnt" -o rw,fakeroot >/dev/null 2>&1 &
		f2fs_pid=$!
		;;
	esac
	for _ in $(seq 500); do
		mountpoint -q "$mnt" && break
		sleep 0.01
	done
	mountpoint -q "$mnt" || { echo "bench: $1 did not mount" >&2; return 1; }
	if [ "$1" != kernel ] && awk -v m="$mnt" '$5 == m {print $6}' /proc/self/mountinfo | grep -qw ro; then
		echo "bench: $1 mounted read-only" >&2
		umount_sys "$1"
		return 1
	fi
}
# The image is complete only once the server has exited.
umount_sys() {
	umount "$mnt"
	case $1 in
	kernel) fsvc_loop_detach "$loopdev" ;;
	fuse2fs) wait "$f2fs_pid" || true; f2fs_pid= ;;
	ours)
		for _ in $(seq 600); do
			[ "$(pgrep -g "$act_pid" | grep -cvx "$act_pid")" = 0 ] && break
			sleep 0.05
		done
		;;
	esac
}
secs() { # secs COMMAND...: wall seconds
	local t0 t1
	t0=$(date +%s%N)
	"$@" >/dev/null
	t1=$(date +%s%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.4f\n", (b - a) / 1e9}'
}
untar() { mkdir "$mnt/t" && tar -C "$mnt/t" -xf "$work/tree.tar" && sync -f "$mnt"; }
seqwrite() { dd if=/dev/zero of="$mnt/seq" bs=1M count=1024 conv=fsync status=none; }
randprep() { dd if=/dev/zero of="$mnt/rand" bs=1M count=256 conv=fsync status=none; }
randwrite() {
	python3 - "$mnt/rand" <<'EOF'
import os, random, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
rnd = random.Random(7)
buf = rnd.randbytes(4096)
for _ in range(16384):
    os.pwrite(fd, buf, rnd.randrange(65536) * 4096)
os.fsync(fd)
os.close(fd)
EOF
}
rmtree() { rm -rf "$mnt/t" && sync -f "$mnt"; }
median() { sort -n | awk '{a[NR]=$1} END {if (NR) print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

declare -A res
systems=(kernel ours fuse2fs)
figures=(untar seq rand rm)
for r in $(seq "$rounds"); do
	echo "bench: round $r/$rounds" >&2
	for s in "${systems[@]}"; do
		if ! mount_sys "$s"; then
			res[$s.failed]=1
			continue
		fi
		res[$s.untar]+="$(secs untar || echo fail) "
		res[$s.seq]+="$(secs seqwrite || echo fail) "
		randprep || true
		res[$s.rand]+="$(secs randwrite || echo fail) "
		res[$s.rm]+="$(secs rmtree || echo fail) "
		umount_sys "$s"
	done
done

med() { tr ' ' '\n' <<<"${res[$1]:-}" | { grep -E '^[0-9.]+$' || true; } | median; }
printf '\n%-6s %10s %10s %10s   %8s %8s %9s   %s\n' figure kernel ours fuse2fs \
	ours/k f2fs/k ours/f2fs "target ours/k"
declare -A target=([untar]=0.3 [seq]=0.6 [rand]=0.3 [rm]=0.3)
for f in "${figures[@]}"; do
	k=$(med "kernel.$f") o=$(med "ours.$f") g=$(med "fuse2fs.$f")
	# Ratios of speed (time_kernel / time_x): 1.0 = as fast as the kernel.
	awk -v f="$f" -v k="$k" -v o="$o" -v g="$g" -v t="${target[$f]}" '
	function sec(x) { return x == "" ? "     n/a" : sprintf("%9.3fs", x) }
	function ratio(a, b) { return (a == "" || b == "") ? "     n/a" : sprintf("%7.2fx", a / b) }
	BEGIN { printf "%-6s %10s %10s %10s   %8s %8s %9s   >= %sx\n", f, sec(k), sec(o), sec(g),
		ratio(k, o), ratio(k, g), ratio(g, o), t }'
done
for s in "${systems[@]}"; do
	[ -n "${res[$s.failed]:-}" ] && echo "$s: could not mount read-write (no figures)"
done
k=$(med kernel.seq) o=$(med ours.seq) g=$(med fuse2fs.seq)
awk -v k="$k" -v o="$o" -v g="$g" 'function mbs(t) { return t == "" ? "n/a" : sprintf("%.0f", 1024 / t) }
	BEGIN { printf "seq MB/s: kernel %s, ours %s, fuse2fs %s\n", mbs(k), mbs(o), mbs(g) }'
