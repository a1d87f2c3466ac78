#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The example units under a real systemd.
#
# Boots systemd 252 as PID 1 of fresh namespaces (sd-harness.sh), installs the
# generated .socket and @.service units of every example -- with a drop-in
# that only points ExecStart at the build tree -- and then, through the real
# setuid fuservicemount3 and mount(8):
#   - mounts each example as root and reads (and writes) the data back;
#   - mounts as an unprivileged user that SocketMode/SocketGroup allow, and
#     checks that the same user without the group is refused;
#   - checks the read-only fallback when the user may not write the source;
#   - mounts tarfs (the C++ example) on a tar archive as root and as the
#     unprivileged user, compares the tree, and checks that a corrupt archive
#     is refused with one line in the journal and no mount;
#   - asserts, on each running server process, that the sandbox holds: a
#     DynamicUser uid, no capabilities, NoNewPrivs, a seccomp filter, the
#     unit's RootDirectory and its own network namespace; and, from the
#     server's own log (-o probe_sandbox), that it could not open /dev/fuse,
#     the source file or an AF_INET socket itself;
#   - unmounts, and checks every server exited cleanly.
# Teardown (EXIT trap) powers systemd off and removes the cgroup and the work
# directory; the test then checks nothing was left behind.
#
# usage: run-units.sh BUILD_DIR SOURCE_DIR [build|installed]
#   build      (default) the generated units, ExecStart pointed at the build
#              tree by a drop-in
#   installed  everything as "meson install --destdir" installs it, units
#              untouched (ExecStart, RootDirectory, rpath, setuid helper)
# Exit: 0 pass, 1 fail, 77 skip (the machine lacks cgroup2/overlayfs/root).
set -uo pipefail

build=$(cd "${1:?usage: run-units.sh BUILD_DIR SOURCE_DIR}" && pwd)
src=$(cd "${2:?usage: run-units.sh BUILD_DIR SOURCE_DIR}" && pwd)
layout=${3:-build}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=sd-harness.sh
. "$here/sd-harness.sh"
# shellcheck source=checks.sh
. "$here/checks.sh"

group=fsvc-mount

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

echo "layout: $layout"
for f in util/fuservicemount3 util/mount.fuse-service; do
	[ -x "$build/$f" ] || die "$build/$f is not built"
done
for n in "${SD_EXAMPLES[@]}"; do
	for f in "example/$n" "example/$n.socket" "example/$n@.service"; do
		[ -e "$build/$f" ] || die "$build/$f is not built"
	done
done


sd_init "$build"
trap sd_finish EXIT
trap 'exit 1' INT TERM

# --- stage the new root ------------------------------------------------------
sd_stage_examples "$src" "$group" "$layout" || die "cannot stage the example units ($layout)"
root_dir=$SD_ROOT_DIR

# Test data. Root's image is 0600: the contained server (a dynamic user)
# could never open it itself. The user's are owned by nobody.
data=$SD_STAGE/srv/fsvc
mkdir -p "$data/mnt-ll" "$data/mnt-hl" "$data/mnt-fstab" "$data/mnt-user" "$data/mnt-user-ro" "$data/mnt-denied"
head -c 1048576 /dev/urandom >"$data/img"
cp "$data/img" "$data/img-user"
cp "$data/img" "$data/img-ro"
chmod 0600 "$data/img" "$data/img-user"
chmod 0644 "$data/img-ro"
touch "$data/zeros"
chown nobody:nogroup "$data/img-user" "$data/mnt-user" "$data/mnt-user-ro" "$data/mnt-denied"
# tarfs: an archive of a small tree (hard link, symlink, subdirectories),
# 0600 for root and for nobody, and a copy with a broken second header.
mkdir -p "$data/tree/dir/sub" "$data/mnt-tar" "$data/mnt-tar-user" "$data/mnt-tar-bad"
echo "served from a tar archive" >"$data/tree/a.txt"
head -c 200000 /dev/urandom >"$data/tree/dir/b.bin"
ln "$data/tree/a.txt" "$data/tree/dir/hard"
ln -s ../a.txt "$data/tree/dir/link"
tar --format=pax -cf "$data/archive.tar" -C "$data/tree" .
cp "$data/archive.tar" "$data/archive-user.tar"
tar --format=gnu -cf "$data/corrupt.tar" -C "$data/tree" .
printf 'Z' | dd of="$data/corrupt.tar" bs=1 seek=512 conv=notrunc status=none
chmod 0600 "$data/archive.tar" "$data/archive-user.tar"
chmod 0644 "$data/corrupt.tar"
chown nobody:nogroup "$data/archive-user.tar" "$data/mnt-tar-user"

# --- boot --------------------------------------------------------------------
say "booting systemd in fresh namespaces"
sd_boot fsvc-examples.target || die "systemd did not boot"
ok "systemd is running"
# The helper opens /dev/fuse as the calling user (distributions ship 0666).
sd_run chmod 0666 /dev/fuse

# What systemd actually runs: the installed unit untouched, or the build tree.
for n in "${SD_EXAMPLES[@]}"; do
	dropins=$(sd_run systemctl show -P DropInPaths "$n@x.service" |
		tr ' ' '\n' | grep -v "/$SD_SANITIZER_DROPIN\$" | tr -d '\n')
	# shellcheck disable=SC2034 # read by the eval'd checks below
	execstart=$(sd_run systemctl show -P ExecStart "$n@x.service")
	if [ "$layout" = installed ]; then
		check "$n@.service: no drop-in, the installed unit as is" [ -z "$dropins" ]
		check "$n@.service: runs the installed $n" \
			eval '[[ "$execstart" == *"path=$(sd_run sed -n "s/^ExecStart=//p" "/$(sd_run systemctl show -P FragmentPath "$n@x.service")") "* ]]'
	else
		check "$n@.service: runs the build tree's $n" \
			eval '[[ "$execstart" == *"path=/opt/fsvc-build/example/$n "* ]]'
	fi
done

as_user() { sd_run setpriv --reuid=nobody --regid=nogroup --groups="$group" -- "$@"; }
as_other() { sd_run setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"; }

# Socket path and mode as generated from the build options.
socket_mode=$(sed -n 's/^SocketMode=//p' "$build/example/service_ll.socket")
for n in "${SD_EXAMPLES[@]}"; do
	path=$(sed -n 's/^ListenSequentialPacket=//p' "$build/example/$n.socket")
	check "$n.socket listens at $path, mode $socket_mode, group $group" \
		[ "$(sd_run stat -c '%F %a %U %G' "$path" 2>&1)" = \
		"socket $(printf %o "$((8#$socket_mode))") root $group" ]
done

# MainPIDs of the running instances of a template.
instance_pids()
{
	local unit
	for unit in $(sd_run systemctl list-units --plain --no-legend --state=running \
		"$1@*.service" | awk '{print $1}'); do
		sd_run systemctl show -P MainPID "$unit"
	done
}
known_pids=" "
# Sets new_pid to the one instance of $1 that appeared since the last call.
new_instance()
{
	local pid
	new_pid=
	for pid in $(instance_pids "$1"); do
		case "$known_pids" in *" $pid "*) continue ;; esac
		[ -z "$new_pid" ] || { echo "more than one new $1 instance" >&2; return 1; }
		new_pid=$pid
	done
	[ -n "$new_pid" ] || { echo "no new $1 instance" >&2; return 1; }
	known_pids="$known_pids$new_pid "
}

# The sandbox, as the kernel sees the real server process.
check_contained()
{
	local label=$1 pid=$2 status
	status=$(sd_run cat "/proc/$pid/status") || { bad "$label: no process $pid"; return; }
	local uids caps
	uids=$(awk '/^Uid:/ {print $2, $3, $4, $5}' <<<"$status")
	local u in_range=true
	for u in $uids; do
		[ "$u" -ge 61184 ] && [ "$u" -le 65519 ] || in_range=false
	done
	check "$label: runs as a DynamicUser uid (Uid: $uids)" $in_range
	caps=$(awk '/^Cap(Inh|Prm|Eff|Bnd|Amb):/ {print $2}' <<<"$status" | sort -u)
	check "$label: no capabilities at all (CapInh/Prm/Eff/Bnd/Amb)" \
		[ "$caps" = 0000000000000000 ]
	check "$label: NoNewPrivs" grep -qx $'NoNewPrivs:\t1' <<<"$status"
	check "$label: seccomp filter active" grep -qx $'Seccomp:\t2' <<<"$status"
	check "$label: its root is the unit's RootDirectory ($root_dir)" \
		[ "$(sd_run stat -L -c %d:%i "/proc/$pid/root/")" = \
		"$(sd_run stat -c %d:%i "$root_dir/")" ]
	check "$label: the host's /srv is not in its file system view" \
		eval '! sd_run test -e "/proc/$pid/root/srv/fsvc"'
	check "$label: own network namespace" \
		[ "$(sd_run readlink "/proc/$pid/ns/net")" != "$(sd_run readlink /proc/1/ns/net)" ]
}

# The server's own log, through the journal. The lines were written before
# the mount completed; journald may still be reading them.
journal_of_pid()
{
	sd_run journalctl -b -o cat --no-pager "_PID=$1"
}
wait_journal_line()
{
	local pid=$1 pattern=$2 i
	for ((i = 0; i < 100; i++)); do
		journal_of_pid "$pid" | grep -qF -- "$pattern" && return 0
		sleep 0.1
	done
	return 1
}
check_probe()
{
	local label=$1 pid=$2 prog=$3 source=$4
	check "$label: the server could not open /dev/fuse itself" \
		wait_journal_line "$pid" "$prog: sandbox-probe open /dev/fuse: refused"
	check "$label: the server could not open $source itself" \
		wait_journal_line "$pid" "$prog: sandbox-probe open $source: refused"
	check "$label: the server could not create an AF_INET socket" \
		wait_journal_line "$pid" "$prog: sandbox-probe socket AF_INET: refused"
	check "$label: nothing the probe tried was allowed" \
		eval '! journal_of_pid "$pid" | grep -q "not contained"'
}

mounted() { sd_run findmnt -n -o FSTYPE,OPTIONS --mountpoint "$1"; }

# --- service_ll as root, through mount(8) --------------------------------------
say "service_ll: root mounts through mount(8)"
if sd_run mount -t fuse.service_ll -o probe_sandbox /srv/fsvc/img /srv/fsvc/mnt-ll; then
	ok "mount -t fuse.service_ll /srv/fsvc/img /srv/fsvc/mnt-ll"
	check "service_ll: mounted as fuse.service_ll" \
		eval '[[ "$(mounted /srv/fsvc/mnt-ll)" == fuse.service_ll* ]]'
	check "service_ll: lists its file" [ "$(sd_run ls /srv/fsvc/mnt-ll)" = image ]
	check "service_ll: reads back the source's bytes" \
		sd_run cmp /srv/fsvc/mnt-ll/image /srv/fsvc/img
	check "service_ll: writes reach the source" sd_run sh -c '
		printf contained | dd of=/srv/fsvc/mnt-ll/image bs=1 seek=4096 conv=notrunc,fsync status=none &&
		[ "$(dd if=/srv/fsvc/img bs=1 skip=4096 count=9 status=none)" = contained ]'
	if new_instance service_ll; then
		pid=$new_pid
		check_contained "service_ll (root)" "$pid"
		check_probe "service_ll (root)" "$pid" service_ll /srv/fsvc/img
	else
		bad "service_ll: no server instance found"
	fi
else
	bad "mount -t fuse.service_ll /srv/fsvc/img /srv/fsvc/mnt-ll"
fi

# --- service_hl as root, read-only, through the helper -------------------------
say "service_hl: root mounts read-only through fuservicemount3"
if sd_run fuservicemount3 /srv/fsvc/img /srv/fsvc/mnt-hl -t fuse.service_hl -o ro,probe_sandbox; then
	ok "fuservicemount3 /srv/fsvc/img /srv/fsvc/mnt-hl -t fuse.service_hl -o ro"
	check "service_hl: the mount is read-only" \
		eval '[[ ",$(mounted /srv/fsvc/mnt-hl | awk "{print \$2}")," == *,ro,* ]]'
	check "service_hl: reads back the source's bytes" \
		sd_run cmp /srv/fsvc/mnt-hl/image /srv/fsvc/img
	check "service_hl: refuses writes" \
		eval '! sd_run sh -c "echo x >>/srv/fsvc/mnt-hl/image" 2>/dev/null'
	if new_instance service_hl; then
		pid=$new_pid
		check_contained "service_hl (root)" "$pid"
		check_probe "service_hl (root)" "$pid" service_hl /srv/fsvc/img
	else
		bad "service_hl: no server instance found"
	fi
else
	bad "fuservicemount3 ... -t fuse.service_hl -o ro"
fi

# --- null, on a regular file -------------------------------------------------
say "null: root mounts over a regular file"
if sd_run mount -t fuse.null none /srv/fsvc/zeros; then
	ok "mount -t fuse.null none /srv/fsvc/zeros"
	check "null: 4 GiB of zeros" \
		[ "$(sd_run sh -c 'stat -c %s /srv/fsvc/zeros; head -c 8 /srv/fsvc/zeros | od -An -tx1')" = \
		"$(printf '4294967296\n 00 00 00 00 00 00 00 00')" ]
	check "null: swallows writes" sd_run sh -c 'echo hello | dd of=/srv/fsvc/zeros conv=notrunc status=none'
	if new_instance null; then
		pid=$new_pid
		check_contained "null" "$pid"
	else
		bad "null: no server instance found"
	fi
else
	bad "mount -t fuse.null none /srv/fsvc/zeros"
fi

# --- an fstab line -------------------------------------------------------------
say "service_hl: root mounts an fstab line"
sd_run sh -c 'echo "/srv/fsvc/img /srv/fsvc/mnt-fstab fuse.service_hl noauto,ro 0 0" >>/etc/fstab'
if sd_run mount /srv/fsvc/mnt-fstab; then
	ok "mount /srv/fsvc/mnt-fstab (fstab: /srv/fsvc/img /srv/fsvc/mnt-fstab fuse.service_hl noauto,ro)"
	check "fstab: reads back the source's bytes" sd_run cmp /srv/fsvc/mnt-fstab/image /srv/fsvc/img
	new_instance service_hl || bad "fstab: no server instance found"
else
	bad "mount /srv/fsvc/mnt-fstab (fstab line)"
fi

# --- an unprivileged user ----------------------------------------------------
say "service_ll: nobody (in group $group) mounts through the setuid helper"
if as_user fuservicemount3 /srv/fsvc/img-user /srv/fsvc/mnt-user -t fuse.service_ll -o probe_sandbox; then
	ok "nobody: fuservicemount3 /srv/fsvc/img-user /srv/fsvc/mnt-user -t fuse.service_ll"
	check "nobody: the mount belongs to uid 65534" \
		eval '[[ ",$(mounted /srv/fsvc/mnt-user | awk "{print \$2}")," == *,user_id=65534,* ]]'
	check "nobody: reads back the source's bytes" \
		as_user cmp /srv/fsvc/mnt-user/image /srv/fsvc/img-user
	if new_instance service_ll; then
		pid=$new_pid
		check_contained "service_ll (nobody)" "$pid"
		check_probe "service_ll (nobody)" "$pid" service_ll /srv/fsvc/img-user
	else
		bad "service_ll (nobody): no server instance found"
	fi
else
	bad "nobody: fuservicemount3 ... -t fuse.service_ll"
fi

say "service_ll: nobody may read but not write the source: read-only fallback"
if as_user fuservicemount3 /srv/fsvc/img-ro /srv/fsvc/mnt-user-ro -t fuse.service_ll; then
	ok "nobody: fuservicemount3 /srv/fsvc/img-ro /srv/fsvc/mnt-user-ro -t fuse.service_ll"
	check "fallback: the mount is read-only" \
		eval '[[ ",$(mounted /srv/fsvc/mnt-user-ro | awk "{print \$2}")," == *,ro,* ]]'
	check "fallback: the file is served read-only" \
		[ "$(as_user stat -c %A /srv/fsvc/mnt-user-ro/image)" = "-r--r--r--" ]
	check "fallback: reads back the source's bytes" \
		as_user cmp /srv/fsvc/mnt-user-ro/image /srv/fsvc/img-ro
	new_instance service_ll || bad "fallback: no server instance found"
else
	bad "nobody: fuservicemount3 /srv/fsvc/img-ro ... (read-only fallback)"
fi

if (((8#$socket_mode) & 8#002)); then
	echo "note: SocketMode=$socket_mode admits every user: the refusal is not checked"
else
	say "service_hl: nobody without group $group is refused by SocketMode=$socket_mode"
	if as_other fuservicemount3 /srv/fsvc/img-user /srv/fsvc/mnt-denied -t fuse.service_hl \
		2>"$SD_WORK/denied.err"; then
		bad "nobody without the group could mount"
	else
		ok "nobody without the group cannot mount ($(head -n1 "$SD_WORK/denied.err"))"
	fi
	check "refused: nothing mounted" eval '[ -z "$(mounted /srv/fsvc/mnt-denied)" ]'
	check "refused: no server was started" eval '! new_instance service_hl 2>/dev/null'
fi

# --- tarfs, the C++ example ----------------------------------------------------
say "tarfs: root mounts a tar archive through mount(8)"
if sd_run mount -t fuse.tarfs -o probe_sandbox /srv/fsvc/archive.tar /srv/fsvc/mnt-tar; then
	ok "mount -t fuse.tarfs /srv/fsvc/archive.tar /srv/fsvc/mnt-tar"
	check "tarfs: mounted read-only as fuse.tarfs" \
		eval '[[ "$(mounted /srv/fsvc/mnt-tar)" == fuse.tarfs*ro,* ]]'
	check "tarfs: the tree reads back" sd_run diff -r /srv/fsvc/tree /srv/fsvc/mnt-tar
	check "tarfs: the hard link is one inode" \
		[ "$(sd_run stat -c %i /srv/fsvc/mnt-tar/a.txt)" = "$(sd_run stat -c %i /srv/fsvc/mnt-tar/dir/hard)" ]
	if new_instance tarfs; then
		pid=$new_pid
		check_contained "tarfs (root)" "$pid"
		check_probe "tarfs (root)" "$pid" tarfs /srv/fsvc/archive.tar
	else
		bad "tarfs: no server instance found"
	fi
else
	bad "mount -t fuse.tarfs /srv/fsvc/archive.tar /srv/fsvc/mnt-tar"
fi

say "tarfs: nobody (in group $group) mounts through the setuid helper"
if as_user fuservicemount3 /srv/fsvc/archive-user.tar /srv/fsvc/mnt-tar-user -t fuse.tarfs \
	-o probe_sandbox; then
	ok "nobody: fuservicemount3 /srv/fsvc/archive-user.tar /srv/fsvc/mnt-tar-user -t fuse.tarfs"
	check "tarfs (nobody): the mount belongs to uid 65534" \
		eval '[[ ",$(mounted /srv/fsvc/mnt-tar-user | awk "{print \$2}")," == *,user_id=65534,* ]]'
	check "tarfs (nobody): the tree reads back" as_user diff -r /srv/fsvc/tree /srv/fsvc/mnt-tar-user
	if new_instance tarfs; then
		pid=$new_pid
		check_contained "tarfs (nobody)" "$pid"
		check_probe "tarfs (nobody)" "$pid" tarfs /srv/fsvc/archive-user.tar
	else
		bad "tarfs (nobody): no server instance found"
	fi
else
	bad "nobody: fuservicemount3 ... -t fuse.tarfs"
fi

say "tarfs: a corrupt archive is refused"
if sd_run mount -t fuse.tarfs /srv/fsvc/corrupt.tar /srv/fsvc/mnt-tar-bad 2>"$SD_WORK/tar-bad.err"; then
	bad "tarfs: the corrupt archive was mounted"
else
	ok "tarfs: mount(8) fails ($(head -n1 "$SD_WORK/tar-bad.err"))"
fi
check "tarfs: nothing mounted for the corrupt archive" eval '[ -z "$(mounted /srv/fsvc/mnt-tar-bad)" ]'
tar_bad_line="tarfs: /srv/fsvc/corrupt.tar: not a valid tar archive: offset 512: bad header checksum"
journal_count()
{
	sd_run journalctl -b -o cat --no-pager | grep -cF -- "$1"
}
wait_journal_count()
{
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$(journal_count "$1")" -ge 1 ] && break
		sleep 0.1
	done
	[ "$(journal_count "$1")" = 1 ]
}
check "tarfs: one line in the journal: $tar_bad_line" wait_journal_count "$tar_bad_line"
# That instance exits with a failure status (fuse_service_exit waits ~2 s
# under systemd first); it must be the only failed instance of the run.
tar_bad_units()
{
	sd_run journalctl -b -o cat --no-pager |
		sed -n 's/^\(tarfs@[^:]*\): Main process exited, code=exited, status=1.*/\1/p'
}
for ((i = 0; i < 100; i++)); do
	[ -n "$(tar_bad_units)" ] && break
	sleep 0.1
done
tar_bad_unit=$(tar_bad_units)
check "tarfs: the refusing instance exited with status 1 (${tar_bad_unit:-none})" \
	[ "$(printf '%s\n' "$tar_bad_unit" | grep -c .)" = 1 ]

# --- the live units still score <= 0.1 with the drop-in ------------------------
# (threshold is on the 0..100 scale: 1 = an exposure of 0.1)
scores_low()
{
	sd_run systemd-analyze security --threshold=1 --no-pager "$1" >"$SD_WORK/score" 2>&1 ||
		{ grep -F 'Overall exposure' "$SD_WORK/score"; return 1; }
}
for n in "${SD_EXAMPLES[@]}"; do
	check "$n@.service as loaded ($layout layout) scores <= 0.1" \
		scores_low "$n@x.service"
done

# --- unmount: every server exits cleanly -------------------------------------
say "unmounting"
check "nobody unmounts its own mount (fusermount3 -u)" as_user fusermount3 -u /srv/fsvc/mnt-user
check "nobody unmounts its tarfs mount (fusermount3 -u)" as_user fusermount3 -u /srv/fsvc/mnt-tar-user
for m in /srv/fsvc/mnt-ll /srv/fsvc/mnt-hl /srv/fsvc/mnt-fstab /srv/fsvc/zeros /srv/fsvc/mnt-user /srv/fsvc/mnt-user-ro \
	/srv/fsvc/mnt-tar /srv/fsvc/mnt-tar-user; do
	if [ -n "$(mounted "$m")" ]; then
		check "umount $m" sd_run umount "$m"
	fi
done
servers_left()
{
	local n
	for n in "${SD_EXAMPLES[@]}"; do
		sd_run systemctl list-units --plain --no-legend "$n@*.service"
	done
}
for ((i = 0; i < 200; i++)); do
	[ -z "$(servers_left)" ] && break
	sleep 0.1
done
check "every server instance has gone" eval '[ -z "$(servers_left)" ]'
check "no server instance failed" \
	eval '! sd_run journalctl -b -o cat --no-pager |
		grep -E "^(service_ll|service_hl|null|tarfs)@.*: (Failed|Main process exited, code=(exited|killed|dumped), status=[1-9])" |
		grep -vF "${tar_bad_unit:-no such unit}: "'
check "no fuse mount is left in the namespace" \
	eval '[ -z "$(sd_run awk "\$3 ~ /^fuse(blk)?([.]|\$)/" /proc/mounts)" ]'
