#!/bin/bash
# The mount path's benchmark: latency, concurrency, footprint and start-up
# of a contained mount against the classic one, in one run on one machine.
#
#   bench/mount.sh BUILD_DIR [ROUNDS]      (root; a release build, see README)
#
# Prints the machine, then medians over ROUNDS (default 31) and ratios to the
# baseline measured in the same run:
#   - mount+umount cycle of service_ll: contained (fuservicemount3 + one
#     Accept=yes socket under systemd-socket-activate + the server) against
#     classic (the same service_ll mounting itself as root through libfuse)
#     and the floor (bench/fuse_floor.c: fsopen/fsmount, answers FUSE_INIT);
#   - 1, 8 and 64 concurrent mount cycles: mounts/s, failures, p50, p99;
#   - the helper's peak RSS, and the RSS our library adds to a server;
#   - per-exec start-up: the helper, a program linking our library, one
#     linking only libfuse, plain C.
# Modes alternate round by round, so drift hits both sides alike. Nothing
# is asserted: this measures, the tests check.
set -euo pipefail

build=$(cd "${1:?usage: bench/mount.sh BUILD_DIR [ROUNDS]}" && pwd)
rounds=${2:-31}
server=$build/example/service_ll
helper=$build/util/fuservicemount3-test
cyc=$build/bench/mount_cycle
floor=$build/bench/fuse_floor
sockdir=$build/test-run/filesystems
subtype=bench_ll_$$

work=$(mktemp -d /tmp/fsvc-bench.XXXXXX)
act_pid=
. "$(dirname "$0")/../test/common/activator.sh"
cleanup() {
	set +e
	fsvc_unmount_under "$work"
	[ -n "$act_pid" ] && fsvc_stop_activators "$act_pid"
	rm -f "$sockdir/$subtype"
	rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/m" "$sockdir"
dd if=/dev/zero of="$work/disk.img" bs=1M count=1 status=none

# stats: reads latencies (us), prints "median p99 count".
stats() { sort -n | awk '{a[NR]=$1} END {if (!NR) {print "- - 0"; exit}
	m = (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2
	i = int(NR*0.99 + 0.999); if (i > NR) i = NR; print m, a[i], NR}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}'; }

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), kernel $(uname -r), $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "build:   $build ($(meson introspect --buildoptions "$build" 2>/dev/null |
	python3 -c 'import json,sys; o={x["name"]:x["value"] for x in json.load(sys.stdin)}; print(o["buildtype"], o["b_sanitize"])' 2>/dev/null || echo '?'))"

fsvc_start_activator "$sockdir/$subtype" /dev/null "$server" ||
	{ echo "bench: the activator does not listen" >&2; exit 1; }
act_pid=$FSVC_ACTIVATOR

# The three commands, read through namerefs (declare -n) below.
# shellcheck disable=SC2034
contained=(helper "$helper" "$work/disk.img" "{}" -t "fuse.$subtype")
classic=(server "$server" -f "$work/disk.img" "{}")
# shellcheck disable=SC2034
floorcmd=(server "$floor" "{}")

# One mount cycle, one worker: alternate the modes round by round.
declare -A lat fail
for m in contained classic floor; do : >"$work/$m.lat"; fail[$m]=0; done
for _ in $(seq "$rounds"); do
	for m in contained classic floor; do
		declare -n cmd=${m/floor/floorcmd}
		out=$("$cyc" cycle 1 1 "$work/m" "${cmd[@]}" 2>>"$work/errors")
		fail[$m]=$((fail[$m] + $(head -1 <<<"$out" | cut -d' ' -f2)))
		tail -n +2 <<<"$out" >>"$work/$m.lat"
	done
done
for m in contained classic floor; do lat[$m]=$(stats <"$work/$m.lat"); done
echo
printf '%-44s %10s %10s %8s %6s\n' "mount+umount cycle ($rounds rounds)" "median us" "p99 us" "x classic" "failed"
for m in contained classic floor; do
	read -r med p99 _ <<<"${lat[$m]}"
	printf '%-44s %10s %10s %8s %6s\n' "$m" "$med" "$p99" "$(ratio "$med" "${lat[classic]%% *}")" "${fail[$m]}"
done

# Concurrency: W workers at once, each its own mountpoint, all against the
# one Accept=yes socket (contained) or each its own server (classic).
echo
printf '%-44s %10s %10s %10s %6s\n' "concurrent cycles" "mounts/s" "p50 us" "p99 us" "failed"
for w in 1 8 64; do
	per=$(( w == 1 ? rounds : (w == 8 ? 8 : 2) ))
	for m in contained classic; do
		declare -n cmd=$m
		out=$("$cyc" cycle "$w" "$per" "$work/m" "${cmd[@]}" 2>>"$work/errors")
		read -r _ failed wall <<<"$(head -1 <<<"$out")"
		read -r p50 p99 n <<<"$(tail -n +2 <<<"$out" | stats)"
		printf '%-44s %10s %10s %10s %6s\n' "$m, $w at once ($((w * per)) mounts)" \
			"$(awk -v n="$n" -v t="$wall" 'BEGIN{printf "%.0f", n*1e6/t}')" "$p50" "$p99" "$failed"
	done
done

if [ -s "$work/errors" ]; then
	echo "failures:"
	sort "$work/errors" | uniq -c | sort -rn | head -5
fi

# Footprint. The helper's peak RSS (wait4's ru_maxrss: the helper and the
# root-only utab child it may fork), mounting as root; the RSS our library
# adds: a program linking it against one linking libfuse alone.
echo
rss() { "$cyc" maxrss "$@"; }
h=()
for _ in $(seq 9); do
	h+=("$(rss "$helper" "$work/disk.img" "$work/m/0" -t "fuse.$subtype")")
	umount "$work/m/0"
done
hrss=$(printf '%s\n' "${h[@]}" | stats | cut -d' ' -f1)
s=() f=()
for _ in $(seq 9); do
	s+=("$(rss "$build/bench/start_service")")
	f+=("$(rss "$build/bench/start_fuse")")
done
srss=$(printf '%s\n' "${s[@]}" | stats | cut -d' ' -f1)
frss=$(printf '%s\n' "${f[@]}" | stats | cut -d' ' -f1)
printf '%-44s %10s\n' "footprint (median of 9)" "peak KiB"
printf '%-44s %10s\n' "helper, one mount as root" "$hrss"
printf '%-44s %10s\n' "server start: libfuse_service + libfuse" "$srss"
printf '%-44s %10s\n' "server start: libfuse alone" "$frss"
printf '%-44s %10s\n' "what our library adds" "$((srss - frss))"

# Start-up: fork+exec+exit, alternated program by program.
echo
n=$((rounds * 10))
for p in plain fuse service helper; do : >"$work/x.$p"; done
for _ in $(seq 10); do
	"$cyc" exec "$rounds" "$build/bench/start_plain" >>"$work/x.plain"
	"$cyc" exec "$rounds" "$build/bench/start_fuse" >>"$work/x.fuse"
	"$cyc" exec "$rounds" "$build/bench/start_service" >>"$work/x.service"
	"$cyc" exec "$rounds" "$helper" --version >>"$work/x.helper"
done
declare -A st
for p in plain fuse service helper; do st[$p]=$(stats <"$work/x.$p" | cut -d' ' -f1); done
printf '%-44s %10s %10s %10s\n' "start-up, fork+exec+exit ($n each)" "median us" "- plain" "x plain"
for p in plain fuse service helper; do
	case $p in
	plain) label="plain C (libc only)" ;;
	fuse) label="server linking libfuse alone" ;;
	service) label="server linking libfuse_service" ;;
	helper) label="fuservicemount3 --version" ;;
	esac
	printf '%-44s %10s %10s %10s\n' "$label" "${st[$p]}" \
		"$(awk -v a="${st[$p]}" -v b="${st[plain]}" 'BEGIN{print a-b}')" "$(ratio "${st[$p]}" "${st[plain]}")"
done
printf '%-44s %10s\n' "our library over libfuse alone (us)" \
	"$(awk -v a="${st[service]}" -v b="${st[fuse]}" 'BEGIN{print a-b}')"
