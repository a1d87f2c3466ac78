#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# PID 1 of the fresh namespaces made by sd-harness.sh (run through
# `unshare --pid --fork --mount --cgroup ...`). Builds a throw-away root --
# an overlay of the host root on a tmpfs, with its own /proc, /sys, cgroup2,
# /dev, /run and /tmp -- copies the staged files onto it, pivots into it and
# becomes systemd.
#
# usage: ns-init.sh WORK BUILD TARGET
#   WORK    the run's work directory (WORK/stage is copied onto the new root,
#           WORK/console receives the console output)
#   BUILD   the meson build directory, bound read-only at /opt/fsvc-build
#   TARGET  the unit systemd starts (--unit=)
set -euo pipefail

work=$1
build=$2
target=$3

[ "$$" -eq 1 ] || { echo "ns-init.sh: must run as PID 1 of a new PID namespace" >&2; exit 1; }

# Nothing we mount may propagate back to the host.
mount --make-rprivate /

# The new root: an overlay of the host root whose upper layer is a tmpfs, so
# whatever systemd (tmpfiles, journald) or the test writes vanishes with it.
mkdir -p "$work/ovl"
mount -t tmpfs -o mode=0755 fsvc-ovl "$work/ovl"
mkdir -p "$work/ovl/upper" "$work/ovl/work" "$work/ovl/root"
mount -t overlay overlay \
	-o "lowerdir=/,upperdir=$work/ovl/upper,workdir=$work/ovl/work" "$work/ovl/root"
root=$work/ovl/root

mount -t proc -o nosuid,nodev,noexec proc "$root/proc"
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$root/sys"
# This namespace's cgroup root is the run's own cgroup (see sd-harness.sh).
if [ -z "${FSVC_CGROUP_V1:-}" ]; then
	mount -t cgroup2 -o nosuid,nodev,noexec,nsdelegate cgroup2 "$root/sys/fs/cgroup"
else
	# systemd's hybrid layout (its "v232" variant): cgroup2 at
	# /sys/fs/cgroup/systemd for its bookkeeping, and the v1 controller
	# hierarchies ("DIR:OPTS;..." from sd-harness.sh), each rooted at the
	# run's own v1 cgroup, for the limits.
	mount -t tmpfs -o mode=0755,nosuid,nodev,noexec fsvc-cgroup "$root/sys/fs/cgroup"
	mkdir "$root/sys/fs/cgroup/systemd"
	mount -t cgroup2 -o nosuid,nodev,noexec,nsdelegate cgroup2 "$root/sys/fs/cgroup/systemd"
	IFS=';' read -ra hierarchies <<<"$FSVC_CGROUP_V1"
	for h in "${hierarchies[@]}"; do
		[ -n "$h" ] || continue
		dir=$root/sys/fs/cgroup/$(basename "${h%%:*}")
		mkdir -p "$dir"
		mount -t cgroup -o "nosuid,nodev,noexec,${h#*:}" cgroup "$dir"
	done
	mount -o remount,ro,nosuid,nodev,noexec "$root/sys/fs/cgroup"
	unset FSVC_CGROUP_V1
fi

# A minimal /dev: the usual character devices and /dev/fuse, nothing else.
mount -t tmpfs -o mode=0755,nosuid,noexec fsvc-dev "$root/dev"
for node in null zero full random urandom tty fuse; do
	touch "$root/dev/$node"
	mount --bind "/dev/$node" "$root/dev/$node"
done
mkdir -p "$root/dev/pts" "$root/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$root/dev/pts"
ln -s pts/ptmx "$root/dev/ptmx"
ln -s /proc/self/fd "$root/dev/fd"
ln -s /proc/self/fd/0 "$root/dev/stdin"
ln -s /proc/self/fd/1 "$root/dev/stdout"
ln -s /proc/self/fd/2 "$root/dev/stderr"
mount -t tmpfs -o mode=1777,nosuid,nodev fsvc-shm "$root/dev/shm"
# systemd writes its status to /dev/console: collect it in a file.
touch "$work/console" "$root/dev/console"
mount --bind "$work/console" "$root/dev/console"

mount -t tmpfs -o mode=0755,nosuid,nodev fsvc-run "$root/run"
mount -t tmpfs -o mode=1777,nosuid,nodev fsvc-tmp "$root/tmp"

# The build tree, read-only, outside /tmp, /home and /root (which the units
# hide) so a DynamicUser service can execute from it.
mkdir -p "$root/opt/fsvc-build"
mount --bind "$build" "$root/opt/fsvc-build"
mount -o remount,bind,ro "$root/opt/fsvc-build"

# Units, drop-ins, the setuid helper, ...: prepared by the harness.
if [ -d "$work/stage" ]; then
	cp -a "$work/stage/." "$root/"
fi

cd "$root"
mkdir -p .fsvc-oldroot
pivot_root . .fsvc-oldroot
umount -l /.fsvc-oldroot
rmdir /.fsvc-oldroot

exec env -i container=fsvc-test PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	/lib/systemd/systemd --unit="$target" --log-target=journal --show-status=no
