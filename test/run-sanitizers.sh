#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The whole test suite in an ASan + UBSan build (LeakSanitizer included).
#
#   test/run-sanitizers.sh [BUILDDIR] [meson test args...]   (default: build-sanitize)
#
# Every binary of the build is instrumented: the library, the helper (and its
# test twin), the servers, the hostile peer and the tests. Sanitizer reports
# abort the process (abort_on_error), so a finding in a helper that was
# expected to fail still fails its test: the hostile and helper suites treat
# death by a signal, or any stderr line that is not the helper's own
# "fuservicemount3: " message, as a failure.
#
# The setuid helper: the test suites run a root-owned setuid copy of the
# helper as nobody. The copy is the same ASan binary; glibc runs it in secure
# mode (AT_SECURE), which the sanitizer runtimes support, and the helper
# clears its environment only after they have read their options. The
# helper runs as its caller by default; in a sanitizer build only, it takes
# root back at exit so that its leak check may ptrace it. If a sanitizer cannot run
# in that setting the case fails loudly rather than being skipped.
#
# The 'systemd' suite runs too: the example servers run sanitized under
# their hardened units. There SystemCallFilter=~@debug forbids the ptrace(2)
# LeakSanitizer needs at exit, so the test harness adds a drop-in with
# ASAN_OPTIONS=detect_leaks=0 to the sanitized units (and only to those);
# the same servers are leak-checked in the 'examples', 'helper', 'hostile'
# and 'load' suites, outside the sandbox.
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build-sanitize}
shift || true
build=$(realpath -m "$build")

if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" "$src" -Db_sanitize=address,undefined -Db_lundef=true \
		-Dexamples=true >/dev/null || exit 1
fi
ninja -C "$build" >/dev/null || { ninja -C "$build"; exit 1; }

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:halt_on_error=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1:print_summary=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:abort_on_error=1:print_summary=1
export LSAN_OPTIONS=print_suppressions=0
# Sanitized binaries are several times slower.
meson test -C "$build" --no-rebuild --print-errorlogs --timeout-multiplier 4 "$@"
