#!/bin/bash
# Benchmarks: what running contained costs, against the same server run the
# classic way (it mounts for itself) in the same run, on the same image.
#
#   bench/run.sh BUILD_DIR [ROUNDS]
#
# Prints medians and the ratio contained/classic for
#   - mount latency: from starting the mount to a usable mountpoint, through
#     umount (service: fuservicemount3 + socket activation + helper; classic:
#     service_ll started by hand);
#   - sequential read throughput of a 64 MiB image through the mount, caches
#     dropped before each read.
# Needs root. Nothing is asserted: this measures, the tests check.
set -euo pipefail

build=$(cd "${1:?usage: bench/run.sh BUILD_DIR [ROUNDS]}" && pwd)
rounds=${2:-15}
server=$build/example/service_ll
helper=$build/util/fuservicemount3-test
sockdir=$build/test-run/filesystems
subtype=bench_ll_$$

work=$(mktemp -d /tmp/fsvc-bench.XXXXXX)
act_pid=
. "$(dirname "$0")/../test/common/activator.sh"
cleanup() {
	# No set -e in here: a killed activator's wait status must not stop the rest.
	set +e
	fsvc_unmount_under "$work"
	[ -n "$act_pid" ] && fsvc_stop_activators "$act_pid"
	rm -f "$sockdir/$subtype"
	rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/mnt" "$sockdir"
dd if=/dev/urandom of="$work/disk.img" bs=1M count=64 status=none

now_us() { echo $(($(date +%s%N) / 1000)); }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

wait_mounted() {
	for _ in $(seq 1000); do
		mountpoint -q "$work/mnt" && return 0
		sleep 0.002
	done
	echo "bench: mount did not appear" >&2
	return 1
}
wait_gone() {
	for _ in $(seq 1000); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.002
	done
}

read_mbps() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
	local t0 t1
	t0=$(now_us)
	cat "$work/mnt/image" >/dev/null
	t1=$(now_us)
	echo $((64 * 1000000 / (t1 - t0)))
}

classic_mount() { "$server" -f "$work/disk.img" "$work/mnt" 2>/dev/null & srv=$!; wait_mounted; }
classic_umount() { umount "$work/mnt"; wait_gone "$srv"; }
service_mount() { "$helper" "$work/disk.img" "$work/mnt" -t "fuse.$subtype"; }
service_umount() { umount "$work/mnt"; }

fsvc_start_activator "$sockdir/$subtype" /dev/null "$server" ||
	{ echo "bench: the activator does not listen" >&2; exit 1; }
act_pid=$FSVC_ACTIVATOR

declare -A lat mbps
for mode in classic service; do
	samples=()
	for _ in $(seq "$rounds"); do
		t0=$(now_us)
		"${mode}_mount"
		t1=$(now_us)
		"${mode}_umount"
		samples+=($((t1 - t0)))
	done
	lat[$mode]=$(printf '%s\n' "${samples[@]}" | median)

	"${mode}_mount"
	samples=()
	for _ in $(seq 5); do samples+=("$(read_mbps)"); done
	"${mode}_umount"
	mbps[$mode]=$(printf '%s\n' "${samples[@]}" | median)
done

printf '%-28s %12s %12s %8s\n' "benchmark (median)" classic contained ratio
printf '%-28s %10s us %10s us %8.2f\n' "mount latency ($rounds rounds)" \
	"${lat[classic]}" "${lat[service]}" "$(awk -v a="${lat[service]}" -v b="${lat[classic]}" 'BEGIN{print a/b}')"
printf '%-28s %9s MB/s %9s MB/s %8.2f\n' "read 64 MiB, cold (5 runs)" \
	"${mbps[classic]}" "${mbps[service]}" "$(awk -v a="${mbps[service]}" -v b="${mbps[classic]}" 'BEGIN{print a/b}')"
