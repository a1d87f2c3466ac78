#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The resource limits of the example units, in force under a real systemd.
#
# Boots systemd 252 in fresh namespaces (sd-harness.sh) with the controllers
# it needs to enforce MemoryMax=/TasksMax=: the cgroup2 ones when the machine
# has them, else its v1 hierarchies (SD_CGROUP_V1=yes: MemoryMax= becomes
# memory.limit_in_bytes, TasksMax= pids.max). Then, through the real setuid
# fuservicemount3 and mount(8):
#   - on each live server, its cgroup's memory and pids limits and its
#     RLIMIT_NOFILE are the unit's MemoryMax=, TasksMax= and LimitNOFILE=;
#     a drop-in's MemoryMax= replaces the default;
#   - MaxConnections=2: two concurrent mounts work, the third is refused
#     with the helper's message naming the limit and leaves nothing mounted,
#     and once one mount ends the next one works;
#   - MaxConnectionsPerSource=1 is loaded but does not limit AF_UNIX peers:
#     the same user mounts twice at once (systemd 252 counts sources only
#     for AF_INET, AF_INET6 and AF_VSOCK peers);
#   - a server pushed past its MemoryMax= is killed by the kernel: that
#     mount gives ENOTCONN, another mount of the same subtype keeps working,
#     and the next mount works.
#
# usage: run-limits.sh BUILD_DIR SOURCE_DIR
# Exit: 0 pass, 1 fail, 77 skip.
set -uo pipefail

build=$(cd "${1:?usage: run-limits.sh BUILD_DIR SOURCE_DIR}" && pwd)
src=$(cd "${2:?usage: run-limits.sh BUILD_DIR SOURCE_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=sd-harness.sh
. "$here/sd-harness.sh"
# shellcheck source=checks.sh
. "$here/checks.sh"

if ! reason=$(sd_check_machine); then
	echo "SKIP: $reason"
	exit 77
fi

check()
{
	local what=$1
	shift
	if "$@"; then ok "$what"; else bad "$what"; fi
}

if ! sd_pick_controllers; then
	echo "SKIP: no memory and pids controllers, in cgroup2 or v1"
	exit 77
fi
echo "controllers: $([ "$SD_CGROUP_V1" = yes ] && echo 'cgroup v1 hierarchies' || echo cgroup2)"


sd_init "$build"
trap sd_finish EXIT
trap 'exit 1' INT TERM
sd_stage_examples "$src" "" build || die "cannot stage the example units"
units=$SD_STAGE/etc/systemd/system

# Drop-ins of the test: a smaller MemoryMax= for service_hl (a drop-in
# replaces the default), MaxConnections=2 for service_ll, and
# MaxConnectionsPerSource=1 for null.
dropin_memory=48M
mkdir -p "$units/service_hl@.service.d" "$units/service_ll.socket.d" "$units/null.socket.d"
printf '[Service]\nMemoryMax=%s\n' "$dropin_memory" >"$units/service_hl@.service.d/70-memory.conf"
printf '[Socket]\nMaxConnections=2\n' >"$units/service_ll.socket.d/70-max.conf"
printf '[Socket]\nMaxConnectionsPerSource=1\n' >"$units/null.socket.d/70-per-source.conf"

data=$SD_STAGE/srv/fsvc
mkdir -p "$data"/mnt{1,2,3,4}
head -c 1048576 /dev/urandom >"$data/img"
chmod 0600 "$data/img"
touch "$data/zeros1" "$data/zeros2"

say "booting systemd in fresh namespaces"
sd_boot fsvc-examples.target || die "systemd did not boot"
ok "systemd is running"
sd_run chmod 0666 /dev/fuse

limit_file()
{
	case $2 in
	memory) sd_cgroup_file "$1" memory memory.max ;;
	pids) sd_cgroup_file "$1" pids pids.max ;;
	esac
}
bytes() { numfmt --from=iec "$1"; }
unit_value() { sed -n "s/^$2=//p" "$build/example/$1" | tail -n 1; }

main_pid_of_mount()
{
	# The instance whose helper connection made this mount: the newest one.
	local unit
	unit=$(sd_run systemctl list-units --plain --no-legend --state=running "$1@*.service" |
		awk '{print $1}' | tail -n 1)
	[ -n "$unit" ] && sd_run systemctl show -P MainPID "$unit"
}
running_instances() { sd_run systemctl list-units --plain --no-legend --state=running "$1@*.service" | wc -l; }
wait_instances()
{
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$(running_instances "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
mounted() { sd_run findmnt -n -o FSTYPE --mountpoint "$1"; }

# --- the limits on live servers ---------------------------------------------
check_limits()
{
	local n=$1 pid=$2 memory=$3 tasks nofile f
	tasks=$(unit_value "$n@.service" TasksMax)
	nofile=$(unit_value "$n@.service" LimitNOFILE)
	f=$(limit_file "$pid" memory)
	check "$n: memory limit $memory ($(basename "$f") of its cgroup)" \
		[ "$(sd_run cat "$f")" = "$(bytes "$memory")" ]
	f=$(limit_file "$pid" pids)
	check "$n: pids.max $tasks" [ "$(sd_run cat "$f")" = "$tasks" ]
	check "$n: RLIMIT_NOFILE $nofile (soft and hard, /proc/PID/limits)" \
		eval '[ "$(sd_run awk "/^Max open files/ {print \$4, \$5}" "/proc/$pid/limits")" = "$nofile $nofile" ]'
}

say "limits of live servers"
if sd_run mount -t fuse.service_ll /srv/fsvc/img /srv/fsvc/mnt1; then
	pid=$(main_pid_of_mount service_ll)
	check_limits service_ll "$pid" "$(unit_value service_ll@.service MemoryMax)"
else
	bad "mount -t fuse.service_ll /srv/fsvc/img /srv/fsvc/mnt1"
fi
if sd_run mount -t fuse.service_hl -o ro /srv/fsvc/img /srv/fsvc/mnt3; then
	pid=$(main_pid_of_mount service_hl)
	check "service_hl: the drop-in's MemoryMax= is what systemd loaded" \
		[ "$(sd_run systemctl show -P MemoryMax service_hl@x.service)" = "$(bytes "$dropin_memory")" ]
	check_limits service_hl "$pid" "$dropin_memory"
	check "service_hl: still scores <= 0.1 with the limits" \
		eval 'sd_run systemd-analyze security --threshold=1 --no-pager service_hl@x.service >/dev/null 2>&1'
	sd_run umount /srv/fsvc/mnt3 || bad "umount /srv/fsvc/mnt3"
else
	bad "mount -t fuse.service_hl /srv/fsvc/img /srv/fsvc/mnt3"
fi

# --- MaxConnections= ----------------------------------------------------------
say "service_ll.socket with MaxConnections=2"
check "systemd loaded MaxConnections=2" \
	[ "$(sd_run systemctl show -P MaxConnections service_ll.socket)" = 2 ]
if sd_run mount -t fuse.service_ll -o ro /srv/fsvc/img /srv/fsvc/mnt2; then
	ok "second concurrent mount works"
else
	bad "second concurrent mount"
fi
check "two service_ll instances run" [ "$(running_instances service_ll)" = 2 ]
if sd_run mount -t fuse.service_ll -o ro /srv/fsvc/img /srv/fsvc/mnt4 2>"$SD_WORK/third.err"; then
	bad "a third concurrent mount past MaxConnections=2 worked"
else
	ok "the third concurrent mount is refused: $(head -n 1 "$SD_WORK/third.err")"
fi
check "the helper's message names the limit" \
	grep -q "fuservicemount3: service_ll service hung up before answering (too many mounts at once: the socket's MaxConnections= limit" "$SD_WORK/third.err"
check "the message is one line" [ "$(wc -l <"$SD_WORK/third.err")" = 1 ]
check "refused: nothing mounted" eval '[ -z "$(mounted /srv/fsvc/mnt4)" ]'
check "systemd logged the refusal" \
	eval 'sd_run journalctl -b -o cat --no-pager -u service_ll.socket | grep -q "Too many incoming connections"'
check "the two mounts still work" \
	eval 'sd_run cmp /srv/fsvc/mnt1/image /srv/fsvc/img && sd_run cmp /srv/fsvc/mnt2/image /srv/fsvc/img'
sd_run umount /srv/fsvc/mnt2 || bad "umount /srv/fsvc/mnt2"
wait_instances service_ll 1
if sd_run mount -t fuse.service_ll -o ro /srv/fsvc/img /srv/fsvc/mnt4; then
	ok "after one mount ended, the next one works"
	check "it reads back the source" sd_run cmp /srv/fsvc/mnt4/image /srv/fsvc/img
	sd_run umount /srv/fsvc/mnt4 || bad "umount /srv/fsvc/mnt4"
	wait_instances service_ll 1
else
	bad "mount after one ended"
fi

# --- MaxConnectionsPerSource= and AF_UNIX -------------------------------------
say "null.socket with MaxConnectionsPerSource=1: not applied to AF_UNIX peers"
check "systemd loaded MaxConnectionsPerSource=1" \
	[ "$(sd_run systemctl show -P MaxConnectionsPerSource null.socket)" = 1 ]
if sd_run mount -t fuse.null none /srv/fsvc/zeros1 && sd_run mount -t fuse.null none /srv/fsvc/zeros2; then
	ok "root mounted null twice at once through one AF_UNIX socket: the per-source cap does not apply"
	check "two null instances run" [ "$(running_instances null)" = 2 ]
else
	bad "two concurrent null mounts by one user (would mean MaxConnectionsPerSource= applies to AF_UNIX)"
fi
sd_run umount /srv/fsvc/zeros1 2>/dev/null
sd_run umount /srv/fsvc/zeros2 2>/dev/null

# --- a server past MemoryMax= --------------------------------------------------
# Two mounts of service_ll; the first one's instance (only that one) gets a
# MemoryMax= just above what it uses now, through a runtime drop-in
# (systemctl set-property --runtime), and a write that grows its source file
# (on the namespace's tmpfs, so its pages are charged to the server and
# cannot be reclaimed) pushes it past the limit.
say "service_ll: a server pushed past MemoryMax= is killed, only that mount is lost"
sd_run umount /srv/fsvc/mnt1 || bad "umount /srv/fsvc/mnt1"
wait_instances service_ll 0
# A sparse source on the namespace's tmpfs: writes into its holes allocate
# pages the server is charged for.
sd_run truncate -s 64M /srv/fsvc/big
# The victim is mnt1's server: the only instance right after that mount.
if sd_run mount -t fuse.service_ll /srv/fsvc/big /srv/fsvc/mnt1 &&
	victim_unit=$(sd_run systemctl list-units --plain --no-legend --state=running \
		'service_ll@*.service' | awk '{print $1}') &&
	sd_run mount -t fuse.service_ll -o ro /srv/fsvc/img /srv/fsvc/mnt2; then
	victim_pid=$(sd_run systemctl show -P MainPID "$victim_unit")
	usage_file=$(sd_cgroup_file "$victim_pid" memory memory.current)
	usage=$(sd_run cat "$usage_file")
	small=$((usage + 4 * 1048576))
	check "set MemoryMax=$small (its usage $usage + 4 MiB) on $victim_unit only" \
		sd_run systemctl set-property --runtime "$victim_unit" MemoryMax="$small"
	check "the limit is in force on its cgroup" \
		[ "$(sd_run cat "$(limit_file "$victim_pid" memory)")" = "$small" ]
	sd_run dd if=/dev/zero of=/srv/fsvc/mnt1/image bs=1M count=64 conv=notrunc,fsync status=none \
		2>"$SD_WORK/oom.err"
	check "the writer got an error ($(head -n 1 "$SD_WORK/oom.err"))" [ -s "$SD_WORK/oom.err" ]
	for ((i = 0; i < 100; i++)); do
		sd_run kill -0 "$victim_pid" 2>/dev/null || break
		sleep 0.1
	done
	check "the server is gone" eval '! sd_run kill -0 "$victim_pid" 2>/dev/null'
	check "the kernel killed it (SIGKILL, journal)" \
		eval 'sd_run journalctl -b -o cat --no-pager -u "$victim_unit" | grep -Eq "code=killed, status=9/KILL|killed by the OOM killer"'
	sd_run stat /srv/fsvc/mnt1/image >/dev/null 2>"$SD_WORK/enotconn.err"
	check "its mount gives ENOTCONN ($(head -n 1 "$SD_WORK/enotconn.err"))" \
		grep -q "Transport endpoint is not connected" "$SD_WORK/enotconn.err"
	check "the other service_ll mount keeps working" sd_run cmp /srv/fsvc/mnt2/image /srv/fsvc/img
	sd_run umount /srv/fsvc/mnt1 || bad "umount the dead mount /srv/fsvc/mnt1"
	if sd_run mount -t fuse.service_ll -o ro /srv/fsvc/img /srv/fsvc/mnt4; then
		ok "the next mount works"
		check "its server has the unit's MemoryMax= again" \
			[ "$(sd_run cat "$(limit_file "$(main_pid_of_mount service_ll)" memory)")" = \
			"$(bytes "$(unit_value service_ll@.service MemoryMax)")" ]
	else
		bad "the next mount after the kill"
	fi
else
	bad "mount the sparse source on mnt1 and the image on mnt2"
fi

# --- unmount ------------------------------------------------------------------
say "unmounting"
for m in /srv/fsvc/mnt1 /srv/fsvc/mnt2 /srv/fsvc/mnt3 /srv/fsvc/mnt4; do
	[ -n "$(mounted "$m")" ] && { sd_run umount "$m" || bad "umount $m"; }
done
check "no fuse mount is left in the namespace" \
	eval '[ -z "$(sd_run awk "\$3 ~ /^fuse(blk)?([.]|\$)/" /proc/mounts)" ]'
