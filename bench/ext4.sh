#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Benchmark of ext4-service against the kernel's ext4 (loop device) and
# Debian's fuse2fs (classic, -o ro), same image, same run.
#
#   bench/ext4.sh BUILD_DIR [ROUNDS]
#
# Workload: 10000 files of 100 B to 120 KiB in 100 directories plus one
# 512 MiB file. Figures (medians over ROUNDS, each on a fresh mount with
# caches dropped before each cold figure):
#   walk      find MNT -printf '%s %m %u\n'
#   readall   cat of every small file
#   seq-cold  cat of the 512 MiB file
#   seq-warm  the same again, page cache warm
# and the ratios ours/kernel, fuse2fs/kernel, ours/fuse2fs, plus the
# contained server's RSS after a walk. Needs root. Nothing is asserted.
set -euo pipefail

build=$(cd "${1:?usage: bench/ext4.sh BUILD_DIR [ROUNDS]}" && pwd)
rounds=${2:-5}
server=$build/fs/ext4/ext4-service
helper=$build/util/fuservicemount3-test
sockdir=$build/test-run/filesystems
subtype=bench_ext4_$$
work=$(mktemp -d /tmp/fsvc-bench-ext4.XXXXXX)
act_pid=
loopdev=
. "$(dirname "$0")/../test/common/activator.sh"
cleanup() {
	set +e
	fsvc_unmount_under "$work"
	[ -n "$loopdev" ] && losetup -d "$loopdev"
	[ -n "$act_pid" ] && fsvc_stop_activators "$act_pid"
	rm -f "$sockdir/$subtype"
	rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/tree" "$work/mnt" "$sockdir"
echo "bench: building the image..." >&2
python3 - "$work/tree" <<'EOF'
import os, random, sys
root = sys.argv[1]
rnd = random.Random(42)
for d in range(100):
    os.mkdir(os.path.join(root, "d%03d" % d))
    for f in range(100):
        size = rnd.randint(100, 120 * 1024)
        with open(os.path.join(root, "d%03d" % d, "f%03d" % f), "wb") as fh:
            fh.write(rnd.randbytes(size))
EOF
dd if=/dev/urandom of="$work/tree/big" bs=1M count=512 status=none
mkfs.ext4 -q -F -b 4096 -d "$work/tree" "$work/img" 2G
rm -rf "$work/tree"

fsvc_start_activator "$sockdir/$subtype" "$work/activator.log" "$server"
act_pid=$FSVC_ACTIVATOR
loopdev=$(losetup -f --show -r "$work/img")

mnt=$work/mnt
mount_sys() {
	case $1 in
	kernel) mount -t ext4 -o ro "$loopdev" "$mnt" ;;
	ours) "$helper" "$work/img" "$mnt" -t "fuse.$subtype" -o ro >/dev/null ;;
	fuse2fs) fuse2fs "$work/img" "$mnt" -o ro >/dev/null 2>&1 ;;
	esac
	for _ in $(seq 500); do
		mountpoint -q "$mnt" && return 0
		sleep 0.01
	done
	echo "bench: $1 did not mount" >&2
	return 1
}
umount_sys() {
	umount "$mnt"
	# Let a FUSE server exit before the next mount of the image.
	sleep 0.2
}
drop() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
}
secs() { # secs COMMAND...: wall seconds
	local t0 t1
	t0=$(date +%s%N)
	"$@" >/dev/null
	t1=$(date +%s%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.4f\n", (b - a) / 1e9}'
}
walk() { find "$mnt" -printf '%s %m %u\n'; }
readall() { find "$mnt" -path "$mnt/d*" -type f -print0 | xargs -0 cat; }
seqread() { dd if="$mnt/big" of=/dev/null bs=1M status=none; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
server_rss_kib() {
	local pid
	pid=$(pgrep -P "$act_pid" | head -1)
	[ -n "$pid" ] && awk '/^VmRSS/ {print $2}' "/proc/$pid/status"
}

declare -A res
systems=(kernel ours fuse2fs)
for r in $(seq "$rounds"); do
	echo "bench: round $r/$rounds" >&2
	for s in "${systems[@]}"; do
		mount_sys "$s"
		drop
		res[$s.walk]+="$(secs walk) "
		[ "$s" = ours ] && res[rss]+="$(server_rss_kib) "
		umount_sys
		mount_sys "$s"
		drop
		res[$s.readall]+="$(secs readall) "
		umount_sys
		mount_sys "$s"
		drop
		res[$s.seqcold]+="$(secs seqread) "
		res[$s.seqwarm]+="$(secs seqread) "
		umount_sys
	done
done

med() { tr ' ' '\n' <<<"${res[$1]}" | grep . | median; }
printf '\n%-10s %10s %10s %10s   %8s %8s %8s\n' figure kernel ours fuse2fs \
	ours/k f2fs/k ours/f2fs
for f in walk readall seqcold seqwarm; do
	k=$(med kernel.$f) o=$(med ours.$f) g=$(med fuse2fs.$f)
	# Ratios of speed (time_kernel / time_x): 1.0 = as fast as the kernel.
	awk -v f="$f" -v k="$k" -v o="$o" -v g="$g" 'BEGIN {
		printf "%-10s %9.3fs %9.3fs %9.3fs   %7.2fx %7.2fx %7.2fx\n", f, k, o, g, k/o, k/g, g/o }'
done
echo "ours: server RSS after the walk: $(med rss) KiB (median)"
echo "seq-cold MB/s: kernel $(awk -v t="$(med kernel.seqcold)" 'BEGIN{printf "%.0f", 512/t}')," \
	"ours $(awk -v t="$(med ours.seqcold)" 'BEGIN{printf "%.0f", 512/t}')," \
	"fuse2fs $(awk -v t="$(med fuse2fs.seqcold)" 'BEGIN{printf "%.0f", 512/t}')"
