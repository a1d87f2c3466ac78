#!/bin/bash
# The whole test suite, as CI runs it: build, style, every meson suite, the
# suite again under ASan+UBSan, bounded fuzzing, and the helper under valgrind.
# Usage: scripts/run-tests.sh [--quick]   (--quick: only the plain build's suites)
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
quick=0
[ "${1:-}" = "--quick" ] && quick=1

"$top/scripts/install-deps.sh" || exit 1

failed_stages=()
stage() {
	local name=$1
	shift
	echo
	echo "=== $name"
	local start=$SECONDS
	if "$@"; then
		echo "=== $name: ok ($((SECONDS - start)) s)"
	else
		echo "=== $name: FAILED ($((SECONDS - start)) s)"
		failed_stages+=("$name")
	fi
}

build_dirs=()
meson_suites() {
	local dir=$1
	shift
	build_dirs+=("$dir")
	meson test -C "$dir" --print-errorlogs "$@"
}

plain_build() {
	rm -rf build-ci
	meson setup build-ci -Dbuildtype=debugoptimized >/dev/null && meson compile -C build-ci
}

style() {
	# Judged by clang-format's exit status: with -Werror it reports
	# violations as errors, so counting "warning" lines could never fail.
	local out
	if ! out=$(git ls-files -z '*.c' '*.cpp' '*.h' '*.hpp' | xargs -0 clang-format --dry-run -Werror 2>&1); then
		printf '%s\n' "$out" | head -20
		return 1
	fi
}

stage "build (gcc, -Werror, hardening)" plain_build || true
stage "clang-format" style
stage "shellcheck" bash scripts/check-shell.sh
stage "tests" meson_suites build-ci --no-suite fuzz

if [ $quick -eq 0 ]; then
	[ -x test/run-sanitizers.sh ] && stage "tests under ASan+UBSan+LSan" test/run-sanitizers.sh build-asan && build_dirs+=(build-asan)
	[ -x test/fuzz/run.sh ] && stage "fuzzing (bounded)" test/fuzz/run.sh -j 2 "${FUZZ_SECONDS:-20}"
	[ -x test/run-valgrind.sh ] && stage "helper tests under valgrind" test/run-valgrind.sh build-valgrind && build_dirs+=(build-valgrind)
fi

# One closing line for every meson test that ran, in every build. A test
# that reports TAP subtests (hostile: one per case) counts each subtest, read
# from meson's JUnit log; a failure of such a test outside its subtests (a
# crash, a timeout, a wrong plan) counts once more.
python3 - "${build_dirs[@]}" <<'PY'
import json, sys, os
import xml.etree.ElementTree as ET
ok = fail = skip = 0
for d in sys.argv[1:]:
    log = os.path.join(d, "meson-logs", "testlog.json")
    if not os.path.exists(log):
        continue
    subtests = {}
    junit = os.path.join(d, "meson-logs", "testlog.junit.xml")
    if os.path.exists(junit):
        for suite in ET.parse(junit).getroot().iter("testsuite"):
            cases = suite.findall("testcase")
            # a test with subtests is a testsuite of its own, named project.test
            name = suite.get("name", "")
            if "." in name and cases and all(c.get("classname") == name for c in cases):
                counts = [0, 0, 0]
                for c in cases:
                    if c.find("skipped") is not None:
                        counts[2] += 1
                    elif c.find("failure") is not None or c.find("error") is not None:
                        counts[1] += 1
                    else:
                        counts[0] += 1
                subtests[name.split(".", 1)[1]] = counts
    for line in open(log):
        entry = json.loads(line)
        r = entry.get("result", "")
        good = r in ("OK", "EXPECTEDFAIL")
        sub = subtests.get(entry.get("name", ""))
        if sub:
            ok += sub[0]
            fail += sub[1] + (0 if good or r == "SKIP" or sub[1] else 1)
            skip += sub[2]
        elif good:
            ok += 1
        elif r == "SKIP":
            skip += 1
        else:
            fail += 1
print(f"\ntests: {ok} passed, {fail} failed, {skip} skipped")
PY

if [ ${#failed_stages[@]} -ne 0 ]; then
	echo "FAILED stages: ${failed_stages[*]}"
	exit 1
fi
echo "all stages passed"
