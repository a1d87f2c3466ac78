# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
# Sourced by the real-systemd test scripts (run-units.sh, run-ext4.sh,
# run-limits.sh) after sd-harness.sh: how a check reports, and how a run
# ends. A run counts its failed checks and, at exit, verifies that the
# harness left nothing behind before it passes.

failures=0

say() { printf '== %s\n' "$*"; }
ok() { printf 'ok   %s\n' "$*"; }
bad()
{
	printf 'FAIL %s\n' "$*"
	failures=$((failures + 1))
}
die()
{
	bad "$*"
	exit 1
}

# The EXIT trap of every run: tear the private systemd down, then nothing
# may survive it (no cgroup in cgroup2 or a v1 hierarchy, no mount, no
# files), and the run passes only when no check failed.
sd_finish()
{
	local cg=$SD_CGROUP work=$SD_WORK run
	run=$(basename "${SD_WORK:-none}")
	sd_teardown
	[ -n "$cg" ] && [ -d "$cg" ] && bad "teardown: cgroup $cg is still there"
	if [ -n "$(find /sys/fs/cgroup -maxdepth 6 -type d -name "fsvc-test-$run" 2>/dev/null)" ]; then
		bad "teardown: a v1 cgroup fsvc-test-$run is still there"
	fi
	[ -n "$work" ] && grep -qF "$work" /proc/mounts && bad "teardown: mounts under $work are left on the host"
	[ -n "$work" ] && [ -e "$work" ] && bad "teardown: $work is still there"
	if [ "$failures" -ne 0 ]; then
		echo "$failures check(s) failed"
		exit 1
	fi
	echo "all checks passed"
	exit 0
}
