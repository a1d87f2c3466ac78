#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Fail when a generated service unit is more exposed than we promise:
#   systemd-analyze security --offline=yes --threshold=N UNIT
# N is on systemd's 0..100 scale (1 = an overall exposure of 0.1).
# As a control, the same unit without its main sandbox directives must fail
# the same threshold, so the check cannot pass vacuously.
#
# usage: security-score.sh UNIT_FILE THRESHOLD
# Exit: 0 pass, 1 fail, 77 skip (no systemd-analyze).
set -uo pipefail

unit=${1:?usage: security-score.sh UNIT_FILE THRESHOLD}
threshold=${2:?usage: security-score.sh UNIT_FILE THRESHOLD}

if ! command -v systemd-analyze >/dev/null; then
	echo "SKIP: systemd-analyze is not installed"
	exit 77
fi

analyze()
{
	systemd-analyze security --offline=yes --threshold="$threshold" --no-pager "$1" 2>&1
}

out=$(analyze "$unit")
rc=$?
grep -F 'Overall exposure' <<<"$out"
if [ "$rc" -ne 0 ]; then
	echo "FAIL: $(basename "$unit") is above the threshold $threshold (0..100 scale):"
	grep '✗' <<<"$out"
	exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed -e '/^DynamicUser=/d' -e '/^RootDirectory=/d' -e '/^PrivateDevices=/d' \
	-e '/^CapabilityBoundingSet=/d' "$unit" >"$tmp/$(basename "$unit")"
if analyze "$tmp/$(basename "$unit")" >/dev/null; then
	echo "FAIL: control: the unit without DynamicUser/RootDirectory/PrivateDevices/CapabilityBoundingSet still passes the threshold"
	exit 1
fi
echo "ok: $(basename "$unit") is within threshold $threshold; the weakened control is not"
