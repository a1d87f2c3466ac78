#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The helper under valgrind (memcheck): every hostile-server case that runs
# the helper as root, with the helper started as
#   valgrind --error-exitcode=99 --leak-check=full --track-fds=yes ...
# through FSVC_HELPER_WRAPPER (honoured by test/hostile for root runs). A
# memcheck error makes the helper exit 99, which fails the case; afterwards
# every valgrind log is checked for errors, and --track-fds for fds left open
# at exit: only 0-2 may be (this covers the cases where the helper gives up,
# which the fake server's fd table checks cannot see).
#
#   test/run-valgrind.sh [BUILDDIR]        (default: build-valgrind)
#
# Not covered, on purpose: the cases run as nobody use a setuid-root copy of
# the helper, and valgrind cannot run a setuid program with its privileges;
# they run unwrapped. valgrind 3.19 does not know fsopen(2) (syscall 430): it
# fails with ENOSYS and the helper takes its mount(2) fallback, so under
# valgrind the new-mount-API path is not exercised (the sanitizer run covers
# it). Needs root.
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build-valgrind}
build=$(realpath -m "$build")
logs=$build/valgrind-logs

command -v valgrind >/dev/null || { echo "valgrind not installed" >&2; exit 77; }
[ "$(id -u)" -eq 0 ] || { echo "needs root" >&2; exit 77; }
if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" "$src" -Dbuildtype=debug -Dexamples=false >/dev/null || exit 1
fi
ninja -C "$build" >/dev/null || { ninja -C "$build"; exit 1; }

rm -rf "$logs"
mkdir -p "$logs"
export FSVC_HELPER_WRAPPER="valgrind --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --track-fds=yes --log-file=$logs/helper.%p.log"
suites=(--suite hostile)
# The helper suite joins once its runner honours the same variable.
if grep -q FSVC_HELPER_WRAPPER "$src/test/helper/lib.sh" 2>/dev/null; then
	suites+=(--suite helper)
else
	echo "note: test/helper does not honour FSVC_HELPER_WRAPPER yet; running 'hostile' only"
fi
meson test -C "$build" "${suites[@]}" --num-processes 2 --timeout-multiplier 4 --no-rebuild
status=$?

n=$(find "$logs" -name 'helper.*.log' | wc -l)
bad=$(grep -L "ERROR SUMMARY: 0 errors" "$logs"/helper.*.log 2>/dev/null | wc -l)
echo "valgrind: $n helper runs, $bad with errors (logs: $logs)"
if [ "$n" -eq 0 ]; then
	echo "FAIL: no helper ran under valgrind" >&2
	exit 1
fi
if [ "$bad" -ne 0 ]; then
	grep -L "ERROR SUMMARY: 0 errors" "$logs"/helper.*.log | head -5 | xargs tail -n 30
	exit 1
fi
fdleaks=$(grep -L "FILE DESCRIPTORS: 3 open (3 std) at exit" "$logs"/helper.*.log | wc -l)
echo "valgrind: $fdleaks helper runs with fds other than 0-2 open at exit"
if [ "$fdleaks" -ne 0 ]; then
	grep -L "FILE DESCRIPTORS: 3 open (3 std) at exit" "$logs"/helper.*.log | head -5 |
		xargs grep -A12 "FILE DESCRIPTORS"
	exit 1
fi
exit $status
