#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Run the libFuzzer targets for a bounded time each.
#
#   test/fuzz/run.sh [-b BUILDDIR] [-j JOBS] SECONDS_PER_TARGET [TARGET...]
#       Build BUILDDIR (default build-fuzz, configured with clang if missing)
#       and run every target (or the named ones: decode_hello, roundtrip...)
#       from the checked-in seeds. Prints executions per target and a total;
#       exits nonzero if any target found a crash, leak or oracle failure.
#       Findings are kept in BUILDDIR/test/fuzz/artifacts/<target>/.
#   test/fuzz/run.sh --one FUZZER SEEDDIR WORKDIR SECONDS
#       One target (what the meson 'fuzz' suite runs).
#
# The checked-in corpus is never written to: new inputs go to a work
# directory in the build tree, so runs stay reproducible from the seeds.
set -u
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)

# run_one FUZZER SEEDDIR WORKDIR SECONDS LOG -> exit status of the fuzzer
run_one() {
	local fuzzer=$1 seeds=$2 work=$3 secs=$4 log=$5
	mkdir -p "$work/corpus" "$work/artifacts"
	# -rss_limit_mb: argv memfd caps allow 2 MiB files, stay far from OOM.
	"$fuzzer" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$work/artifacts/" \
		"$work/corpus" "$seeds" >"$log" 2>&1
}

execs_of() {
	sed -n 's/^stat::number_of_executed_units: *//p' "$1" | tail -n1
}

if [ "${1:-}" = "--one" ]; then
	[ $# -eq 5 ] || { echo "usage: $0 --one FUZZER SEEDDIR WORKDIR SECONDS" >&2; exit 2; }
	log="$4/log.txt"
	mkdir -p "$4"
	run_one "$2" "$3" "$4" "$5" "$log"
	rc=$?
	echo "$(basename "$2"): $(execs_of "$log") executions, exit $rc"
	if [ $rc -ne 0 ]; then
		tail -n 40 "$log"
		ls "$4/artifacts"
	fi
	exit $rc
fi

build=$src/build-fuzz
jobs=1
while getopts "b:j:" opt; do
	case $opt in
	b) build=$(realpath -m "$OPTARG") ;;
	j) jobs=$OPTARG ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || { echo "usage: $0 [-b BUILDDIR] [-j JOBS] SECONDS [TARGET...]" >&2; exit 2; }
secs=$1
shift

if [ ! -f "$build/build.ninja" ]; then
	CC=clang CXX=clang++ meson setup "$build" "$src" -Dfuzzing=true -Dexamples=false \
		>/dev/null || exit 1
fi
ninja -C "$build" >/dev/null || { ninja -C "$build"; exit 1; }

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
	for f in "$build"/test/fuzz/fuzz_*; do
		[ -x "$f" ] && [ -f "$f" ] && targets+=("$(basename "$f" | sed 's/^fuzz_//')")
	done
fi

out=$build/test/fuzz/runs
mkdir -p "$out"
# Run up to $jobs targets at once; each writes its own log.
pids=()
for t in "${targets[@]}"; do
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
		wait -n
	done
	run_one "$build/test/fuzz/fuzz_$t" "$here/corpus/$t" "$out/$t" "$secs" \
		"$out/$t/log.txt" &
	pids+=($!)
done
status=0
i=0
for t in "${targets[@]}"; do
	wait "${pids[$i]}"
	rc=$?
	i=$((i + 1))
	[ $rc -eq 0 ] || status=1
done

total=0
for t in "${targets[@]}"; do
	n=$(execs_of "$out/$t/log.txt")
	n=${n:-0}
	total=$((total + n))
	findings=$(find "$out/$t/artifacts" -type f | wc -l)
	printf '%-22s %12s executions  %s findings\n' "$t" "$n" "$findings"
done
printf '%-22s %12s executions\n' total "$total"
[ $status -eq 0 ] || echo "FAILED: see $out/<target>/log.txt and artifacts/" >&2
exit $status
