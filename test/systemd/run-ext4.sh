#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# ext4-service and its units under a real systemd.
#
# Boots systemd 252 in fresh namespaces (sd-harness.sh) with ext4-service.socket
# (ext2, ext3, ext4) and ext4-service@.service, and through the real setuid
# fuservicemount3 and mount(8):
#   - root mounts an image made by "mkfs.ext4 -d" (mount -t fuse.ext4), and
#     an ext2 and an ext3 one, and one through an fstab line (mount -T);
#     every path, type, mode, owner, size, mtime, symlink target and content
#     reads back as in the source tree;
#   - nobody, admitted by the socket's group, mounts through the setuid
#     helper and reads the files its modes allow (default_permissions: a
#     root-only file stays closed to it); without the group it is refused;
#   - on each live server: a DynamicUser uid, no capabilities, NoNewPrivs, a
#     seccomp filter, the unit's RootDirectory without /dev/fuse or the
#     image, its own network namespace, and the unit's resource limits;
#   - a server pushed past MemoryMax= (a runtime drop-in on that instance,
#     a walk of a directory of many inodes) is killed: ENOTCONN on that
#     mount only, another ext4 mount keeps working, and the next mount works;
#   - MaxConnections=2 (a drop-in) bounds the three subtypes together: an
#     ext2 mount next to an ext4 and an ext3 one is refused with the
#     helper's message, and works once one of them ends;
#   - every mount comes off and every server exits.
#
# usage: run-ext4.sh BUILD_DIR SOURCE_DIR [build|installed]
# Exit: 0 pass, 1 fail, 77 skip.
set -uo pipefail

build=$(cd "${1:?usage: run-ext4.sh BUILD_DIR SOURCE_DIR}" && pwd)
src=$(cd "${2:?usage: run-ext4.sh BUILD_DIR SOURCE_DIR}" && pwd)
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
for tool in mkfs.ext4 numfmt; do
	command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done
# MemoryMax= needs a memory controller (cgroup2's or a v1 hierarchy).
have_limits=yes
sd_pick_controllers || have_limits=no

check()
{
	local what=$1
	shift
	if "$@"; then ok "$what"; else bad "$what"; fi
}

echo "layout: $layout"
for f in util/fuservicemount3 util/mount.fuse-service fs/ext4/ext4-service \
	fs/ext4/units/ext4-service.socket fs/ext4/units/ext4-service@.service; do
	[ -e "$build/$f" ] || die "$build/$f is not built"
done


sd_init "$build"
trap sd_finish EXIT
trap 'exit 1' INT TERM

# --- the images ------------------------------------------------------------------
# A source tree with the usual kinds of files; mkfs.ext4 -d copies it with
# modes, owners and times.
tree=$SD_WORK/tree
mkdir -p "$tree/dir/sub/deeper" "$tree/empty-dir"
printf 'hello, contained ext4\n' >"$tree/hello.txt"
head -c 300000 /dev/urandom >"$tree/dir/random.bin"
head -c 5000000 /dev/urandom >"$tree/dir/sub/big.bin"
: >"$tree/empty"
for i in $(seq 1 200); do printf 'file %d\n' "$i" >"$tree/dir/sub/deeper/f$i"; done
ln -s hello.txt "$tree/fast-link"
ln -s "dir/sub/deeper/$(printf 'x%.0s' $(seq 1 80))/../../../../hello.txt" "$tree/slow-link"
ln "$tree/hello.txt" "$tree/dir/hard-link"
printf 'root only\n' >"$tree/secret"
chmod 0600 "$tree/secret"
printf 'owned by nobody\n' >"$tree/nobodys"
chown nobody:nogroup "$tree/nobodys"
chmod 0640 "$tree/nobodys"
touch -d '2001-02-03 04:05:06' "$tree/hello.txt"

# What a tree looks like: path, type, mode, uid, gid, mtime (seconds; not
# the root's, which mkfs sets when it adds lost+found), symlink target, and
# the content hash of every file.
listing()
{
	(cd "$1" && find . -printf '%p %y %m %U %G %T@ %l\n' |
		awk '{ split($6, t, "."); $6 = ($1 == ".") ? "-" : t[1]; print }' | sort &&
		find . -type f -exec sha256sum {} + | sort -k 2)
}
listing "$tree" >"$SD_WORK/tree.list"

data=$SD_STAGE/srv/fsvc
mkdir -p "$data"
mkfs.ext4 -q -F -d "$tree" "$data/img.ext4" 16M >/dev/null || die "mkfs.ext4 -d"
mkfs.ext4 -q -F -t ext2 -d "$tree" "$data/img.ext2" 16M >/dev/null || die "mkfs.ext4 -t ext2 -d"
mkfs.ext4 -q -F -t ext3 -d "$tree" "$data/img.ext3" 16M >/dev/null || die "mkfs.ext4 -t ext3 -d"
chmod 0600 "$data"/img.ext*
cp "$data/img.ext4" "$data/img-user.ext4"
cp "$data/img.ext4" "$data/img-rw.ext4"
chown nobody:nogroup "$data/img-user.ext4"
# Many inodes, for the memory test: 100 directories of 200 files (mkfs.ext4
# -d slows down with the square of a directory's size).
many=$SD_WORK/many
mkdir -p "$many"
(cd "$many" && seq -f 'd%03g' 1 100 | xargs mkdir &&
	for d in d*; do seq -f "$d/a-file-with-a-longish-name-%06g" 1 200; done | xargs touch)
mkfs.ext4 -q -F -N 30000 -d "$many" "$data/many.ext4" 64M >/dev/null || die "mkfs.ext4 -d (many inodes)"
many_count=$(cd "$many" && find . | wc -l)
sha256sum "$data"/img.ext* "$data/many.ext4" >"$SD_WORK/images.sha256"
for m in root ext2 ext3 fstab user denied many other next rw; do mkdir -p "$data/mnt-$m"; done
chown nobody:nogroup "$data/mnt-user" "$data/mnt-denied"

# --- boot ------------------------------------------------------------------------
sd_stage_examples "$src" "$group" "$layout" || die "cannot stage the units ($layout)"
sd_stage_ext4 "$group" "$layout" || die "cannot stage the ext4 units ($layout)"
root_dir=$SD_ROOT_DIR
say "booting systemd in fresh namespaces (controllers: $([ "$SD_CGROUP_V1" = yes ] && echo 'cgroup v1' || echo cgroup2))"
sd_boot fsvc-ext4.target || die "systemd did not boot"
ok "systemd is running"
sd_run chmod 0666 /dev/fuse

as_user() { sd_run setpriv --reuid=nobody --regid=nogroup --groups="$group" -- "$@"; }
as_other() { sd_run setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"; }
mounted() { sd_run findmnt -n -o FSTYPE,OPTIONS --mountpoint "$1"; }
unit_value() { sed -n "s/^$1=//p" "$build/fs/ext4/units/ext4-service@.service" | tail -n 1; }

# shellcheck disable=SC2034 # read by the eval below
execstart=$(sd_run systemctl show -P ExecStart ext4-service@x.service)
if [ "$layout" = installed ]; then
	check "ext4-service@.service runs the installed server ($(unit_value ExecStart))" \
		eval '[[ "$execstart" == *"path=$(unit_value ExecStart) "* ]]'
else
	check "ext4-service@.service runs the build tree's server" \
		eval '[[ "$execstart" == *"path=/opt/fsvc-build/fs/ext4/ext4-service "* ]]'
fi
socket_mode=$(sed -n 's/^SocketMode=//p' "$build/fs/ext4/units/ext4-service.socket")
for subtype in ext2 ext3 ext4; do
	check "ext4-service.socket listens at /run/filesystems/$subtype, mode $socket_mode, group $group" \
		[ "$(sd_run stat -c '%F %a %U %G' "/run/filesystems/$subtype" 2>&1)" = \
		"socket $(printf %o "$((8#$socket_mode))") root $group" ]
done

known_pids=" "
# Sets new_pid to the one ext4-service instance that appeared since the last call.
new_instance()
{
	local unit pid
	new_pid=
	for unit in $(sd_run systemctl list-units --plain --no-legend --state=running \
		'ext4-service@*.service' | awk '{print $1}'); do
		pid=$(sd_run systemctl show -P MainPID "$unit")
		case "$known_pids" in *" $pid "*) continue ;; esac
		[ -z "$new_pid" ] || { echo "more than one new instance" >&2; return 1; }
		new_pid=$pid
		new_unit=$unit
	done
	[ -n "$new_pid" ] || { echo "no new ext4-service instance" >&2; return 1; }
	known_pids="$known_pids$new_pid "
}

check_contained()
{
	local label=$1 pid=$2 status uids caps u in_range=true
	status=$(sd_run cat "/proc/$pid/status") || { bad "$label: no process $pid"; return; }
	uids=$(awk '/^Uid:/ {print $2, $3, $4, $5}' <<<"$status")
	for u in $uids; do
		[ "$u" -ge 61184 ] && [ "$u" -le 65519 ] || in_range=false
	done
	check "$label: runs as a DynamicUser uid (Uid: $uids)" $in_range
	caps=$(awk '/^Cap(Inh|Prm|Eff|Bnd|Amb):/ {print $2}' <<<"$status" | sort -u)
	check "$label: no capabilities at all" [ "$caps" = 0000000000000000 ]
	check "$label: NoNewPrivs" grep -qx $'NoNewPrivs:\t1' <<<"$status"
	check "$label: seccomp filter active" grep -qx $'Seccomp:\t2' <<<"$status"
	check "$label: its root is the unit's RootDirectory ($root_dir)" \
		[ "$(sd_run stat -L -c %d:%i "/proc/$pid/root/")" = "$(sd_run stat -c %d:%i "$root_dir/")" ]
	check "$label: no /dev/fuse in its /dev" eval '! sd_run test -e "/proc/$pid/root/dev/fuse"'
	check "$label: the images are not in its file system view" \
		eval '! sd_run test -e "/proc/$pid/root/srv/fsvc"'
	if [ "$SD_CGROUP_V1" = yes ]; then
		# DevicePolicy=closed through the v1 devices controller (on cgroup2
		# systemd attaches a BPF program instead, not readable here).
		check "$label: its devices cgroup allows no /dev/fuse (c 10:229) and no wildcard" \
			eval '! sd_run cat "$(sd_cgroup_file "$pid" devices devices.list)" | grep -Eq "^(a|c 10:229|c \*:\*|c 10:\*) "'
	fi
	check "$label: it holds /dev/fuse only as the descriptor the helper passed" \
		eval 'sd_run ls -l "/proc/$pid/fd" | grep -q "/dev/fuse"'
	check "$label: own network namespace" \
		[ "$(sd_run readlink "/proc/$pid/ns/net")" != "$(sd_run readlink /proc/1/ns/net)" ]
	check "$label: RLIMIT_NOFILE $(unit_value LimitNOFILE)" \
		eval '[ "$(sd_run awk "/^Max open files/ {print \$4}" "/proc/$pid/limits")" = "$(unit_value LimitNOFILE)" ]'
	if [ "$have_limits" = yes ]; then
		check "$label: memory limit $(unit_value MemoryMax) on its cgroup" \
			[ "$(sd_run cat "$(sd_cgroup_file "$pid" memory memory.max)")" = \
			"$(numfmt --from=iec "$(unit_value MemoryMax)")" ]
		check "$label: pids.max $(unit_value TasksMax)" \
			[ "$(sd_run cat "$(sd_cgroup_file "$pid" pids pids.max)")" = "$(unit_value TasksMax)" ]
	fi
}

same_tree()
{
	local label=$1 mnt=$2 runner=${3:-sd_run}
	# mkfs makes lost+found; the source tree has none.
	$runner bash -c "$(declare -f listing); listing $mnt" 2>"$SD_WORK/mnt.err" |
		grep -v '^\./lost+found ' >"$SD_WORK/mnt.list"
	if diff -u "$SD_WORK/tree.list" "$SD_WORK/mnt.list" >"$SD_WORK/diff"; then
		ok "$label: every path, type, mode, owner, mtime, link target and content as in the source tree"
	else
		bad "$label: the mount differs from the source tree:"
		head -n 20 "$SD_WORK/diff" | sed 's/^/    /'
		head -n 5 "$SD_WORK/mnt.err" | sed 's/^/    /'
	fi
}

# --- root, mount(8) -------------------------------------------------------------
for subtype in ext4 ext2 ext3; do
	mnt=/srv/fsvc/mnt-$([ "$subtype" = ext4 ] && echo root || echo "$subtype")
	say "root: mount -t fuse.$subtype /srv/fsvc/img.$subtype $mnt"
	if sd_run mount -t "fuse.$subtype" -o ro "/srv/fsvc/img.$subtype" "$mnt"; then
		ok "mount -t fuse.$subtype"
		opts=$(mounted "$mnt")
		check "$subtype: mounted as fuse.$subtype, read-only, default_permissions ($opts)" \
			eval '[[ "$opts" == "fuse.$subtype "* && ",${opts#* }," == *,ro,* && ",${opts#* }," == *,default_permissions,* ]]'
		same_tree "$subtype (root)" "$mnt"
		check "$subtype: writes are refused" eval '! sd_run touch "$mnt/new" 2>/dev/null'
		if new_instance; then
			check_contained "$subtype (root)" "$new_pid"
		else
			bad "$subtype: no server instance found"
		fi
	else
		bad "mount -t fuse.$subtype /srv/fsvc/img.$subtype $mnt"
	fi
done

# --- an fstab line, through mount -T ---------------------------------------------
say "root: an fstab line (mount -T)"
sd_run sh -c 'echo "/srv/fsvc/img.ext4 /srv/fsvc/mnt-fstab fuse.ext4 noauto,allow_other,ro 0 0" >/etc/fstab.fsvc'
if sd_run mount -T /etc/fstab.fsvc /srv/fsvc/mnt-fstab; then
	ok "mount -T /etc/fstab.fsvc /srv/fsvc/mnt-fstab"
	check "fstab: allow_other as the line asks" \
		eval '[[ ",$(mounted /srv/fsvc/mnt-fstab | awk "{print \$2}")," == *,allow_other,* ]]'
	check "fstab: another user reads a world-readable file" \
		eval '[ "$(as_other cat /srv/fsvc/mnt-fstab/hello.txt)" = "hello, contained ext4" ]'
	check "fstab: but not the root-only one (default_permissions)" \
		eval '! as_other cat /srv/fsvc/mnt-fstab/secret 2>/dev/null'
	same_tree "fstab" /srv/fsvc/mnt-fstab
	new_instance || bad "fstab: no server instance found"
else
	bad "mount -T /etc/fstab.fsvc /srv/fsvc/mnt-fstab"
fi

# --- an unprivileged user ----------------------------------------------------------
say "nobody (in group $group) mounts through the setuid helper"
if as_user fuservicemount3 /srv/fsvc/img-user.ext4 /srv/fsvc/mnt-user -t fuse.ext4 -o ro; then
	ok "nobody: fuservicemount3 /srv/fsvc/img-user.ext4 /srv/fsvc/mnt-user -t fuse.ext4 -o ro"
	check "nobody: the mount belongs to uid 65534, no allow_other" \
		eval '[[ ",$(mounted /srv/fsvc/mnt-user | awk "{print \$2}")," == *,user_id=65534,* && ",$(mounted /srv/fsvc/mnt-user | awk "{print \$2}")," != *,allow_other,* ]]'
	check "nobody: reads a file back" \
		[ "$(as_user cat /srv/fsvc/mnt-user/hello.txt)" = "hello, contained ext4" ]
	check "nobody: reads the big file back" \
		eval 'as_user sha256sum /srv/fsvc/mnt-user/dir/sub/big.bin | cut -d" " -f1 | grep -qx "$(sha256sum "$tree/dir/sub/big.bin" | cut -d" " -f1)"'
	check "nobody: reads its own 0640 file" [ "$(as_user cat /srv/fsvc/mnt-user/nobodys)" = "owned by nobody" ]
	check "nobody: the root-only file stays closed (default_permissions)" \
		eval '! as_user cat /srv/fsvc/mnt-user/secret 2>/dev/null'
	if new_instance; then
		check_contained "ext4 (nobody)" "$new_pid"
	else
		bad "nobody: no server instance found"
	fi
else
	bad "nobody: fuservicemount3 ... -t fuse.ext4"
fi
if (((8#$socket_mode) & 8#002)); then
	echo "note: SocketMode=$socket_mode admits every user: the refusal is not checked"
else
	if as_other fuservicemount3 /srv/fsvc/img-user.ext4 /srv/fsvc/mnt-denied -t fuse.ext4 -o ro \
		2>"$SD_WORK/denied.err"; then
		bad "nobody without the group could mount"
	else
		ok "nobody without the group cannot mount ($(head -n 1 "$SD_WORK/denied.err"))"
	fi
	check "refused: nothing mounted" eval '[ -z "$(mounted /srv/fsvc/mnt-denied)" ]'
fi

check "ext4-service@.service as loaded ($layout layout) scores <= 0.1" \
	eval 'sd_run systemd-analyze security --threshold=1 --no-pager ext4-service@x.service >/dev/null 2>&1'

# --- a server past MemoryMax= -------------------------------------------------------
if [ "$have_limits" = no ]; then
	echo "note: no memory controller on this machine: the MemoryMax= kill is not checked"
else
	say "a server pushed past MemoryMax= is killed; only its mount is lost"
	if sd_run mount -t fuse.ext4 -o ro /srv/fsvc/many.ext4 /srv/fsvc/mnt-many && new_instance &&
		victim_pid=$new_pid && victim_unit=$new_unit &&
		sd_run mount -t fuse.ext4 -o ro /srv/fsvc/many.ext4 /srv/fsvc/mnt-other && new_instance; then
		other_pid=$new_pid
		usage=$(sd_run cat "$(sd_cgroup_file "$victim_pid" memory memory.current)")
		small=$((usage + 2 * 1048576))
		check "MemoryMax=$small (its usage $usage + 2 MiB) on $victim_unit only" \
			sd_run systemctl set-property --runtime "$victim_unit" MemoryMax="$small"
		# Every inode of the image into the server's cache.
		sd_run find /srv/fsvc/mnt-many -printf '%s %m %U\n' >/dev/null 2>"$SD_WORK/walk.err"
		for ((i = 0; i < 100; i++)); do
			sd_run kill -0 "$victim_pid" 2>/dev/null || break
			sleep 0.1
		done
		if sd_run kill -0 "$victim_pid" 2>/dev/null; then
			bad "the server survived the walk (usage now $(sd_run cat "$(sd_cgroup_file "$victim_pid" memory memory.current)"))"
		else
			ok "the server is gone"
			check "the kernel killed it (SIGKILL, journal)" \
				eval 'sd_run journalctl -b -o cat --no-pager -u "$victim_unit" | grep -Eq "code=killed, status=9/KILL|killed by the OOM killer"'
			sd_run stat /srv/fsvc/mnt-many/d001 >/dev/null 2>"$SD_WORK/enotconn.err"
			check "its mount gives ENOTCONN ($(head -n 1 "$SD_WORK/enotconn.err"))" \
				grep -q "Transport endpoint is not connected" "$SD_WORK/enotconn.err"
		fi
		check "the other ext4 mount of the same image keeps working" \
			eval '[ "$(sd_run find /srv/fsvc/mnt-other | grep -vc "/lost+found$")" = "$many_count" ]'
		echo "note: the other server, after walking $many_count entries, is charged" \
			"$(($(sd_run cat "$(sd_cgroup_file "$other_pid" memory memory.current)") / 1024)) KiB" \
			"(limit $(unit_value MemoryMax))"
		check "unmount the dead mount" sd_run umount /srv/fsvc/mnt-many
		if sd_run mount -t fuse.ext4 -o ro /srv/fsvc/many.ext4 /srv/fsvc/mnt-next; then
			ok "the next mount works"
			check "and walks the whole image" \
				eval '[ "$(sd_run find /srv/fsvc/mnt-next | grep -vc "/lost+found$")" = "$many_count" ]'
			new_instance || bad "next: no server instance found"
		else
			bad "the next mount after the kill"
		fi
	else
		bad "two mounts of /srv/fsvc/many.ext4"
	fi
fi

# --- unmount: every server exits ------------------------------------------------------
say "unmounting"
check "nobody unmounts its own mount (fusermount3 -u)" as_user fusermount3 -u /srv/fsvc/mnt-user
for m in root ext2 ext3 fstab many other next; do
	if [ -n "$(mounted "/srv/fsvc/mnt-$m")" ]; then
		check "umount /srv/fsvc/mnt-$m" sd_run umount "/srv/fsvc/mnt-$m"
	fi
done
servers_left() { sd_run systemctl list-units --plain --no-legend 'ext4-service@*.service' --state=active,activating,deactivating; }
for ((i = 0; i < 200; i++)); do
	[ -z "$(servers_left)" ] && break
	sleep 0.1
done
check "every server instance has gone" eval '[ -z "$(servers_left)" ]'
check "no server exited with an error (the killed one aside)" \
	eval '! sd_run journalctl -b -o cat --no-pager | grep -v "${victim_unit:-none}" | grep -E "^ext4-service@.*: Main process exited, code=(exited|dumped), status=[1-9]"'
# --- one MaxConnections= for the three subtypes --------------------------------------
say "ext4-service.socket: MaxConnections=2 bounds ext2, ext3 and ext4 together"
sd_run mkdir -p /etc/systemd/system/ext4-service.socket.d
sd_run sh -c 'printf "[Socket]\nMaxConnections=2\n" >/etc/systemd/system/ext4-service.socket.d/70-max.conf'
sd_run systemctl daemon-reload
check "systemd loaded MaxConnections=2" \
	[ "$(sd_run systemctl show -P MaxConnections ext4-service.socket)" = 2 ]
if sd_run mount -t fuse.ext4 -o ro /srv/fsvc/img.ext4 /srv/fsvc/mnt-root &&
	sd_run mount -t fuse.ext3 -o ro /srv/fsvc/img.ext3 /srv/fsvc/mnt-ext3; then
	ok "an ext4 and an ext3 mount at once"
	if sd_run mount -t fuse.ext2 -o ro /srv/fsvc/img.ext2 /srv/fsvc/mnt-ext2 2>"$SD_WORK/third.err"; then
		bad "a third mount (ext2) past MaxConnections=2 worked"
	else
		ok "the third, an ext2 mount, is refused: $(head -n 1 "$SD_WORK/third.err")"
	fi
	check "the helper's message names the limit" \
		grep -q "ext2 service hung up before answering (too many mounts at once: the socket's MaxConnections= limit" "$SD_WORK/third.err"
	check "refused: nothing mounted" eval '[ -z "$(mounted /srv/fsvc/mnt-ext2)" ]'
	sd_run umount /srv/fsvc/mnt-ext3 || bad "umount /srv/fsvc/mnt-ext3"
	for ((i = 0; i < 100; i++)); do
		[ "$(sd_run systemctl list-units --plain --no-legend --state=running 'ext4-service@*.service' | wc -l)" = 1 ] && break
		sleep 0.1
	done
	if sd_run mount -t fuse.ext2 -o ro /srv/fsvc/img.ext2 /srv/fsvc/mnt-ext2; then
		ok "after one mount ended, the ext2 mount works"
		same_tree "ext2 (after the limit)" /srv/fsvc/mnt-ext2
	else
		bad "the ext2 mount after one ended"
	fi
else
	bad "an ext4 and an ext3 mount at once"
fi
for m in root ext2 ext3; do
	[ -n "$(mounted "/srv/fsvc/mnt-$m")" ] && { sd_run umount "/srv/fsvc/mnt-$m" || bad "umount /srv/fsvc/mnt-$m"; }
done

# --- read-write, in the unit's sandbox ----------------------------------------------
say "root: a read-write mount (mount -t fuse.ext4 without -o ro)"
# The instances above first (MaxConnections=2 is still in force).
for ((i = 0; i < 200; i++)); do
	[ "$(sd_run systemctl list-units --plain --no-legend --state=running 'ext4-service@*.service' | wc -l)" = 0 ] && break
	sleep 0.1
done
if sd_run mount -t fuse.ext4 /srv/fsvc/img-rw.ext4 /srv/fsvc/mnt-rw; then
	opts=$(mounted /srv/fsvc/mnt-rw)
	check "rw: mounted read-write ($opts)" eval '[[ ",${opts#* }," == *,rw,* ]]'
	check "rw: the sandboxed server writes, renames, reads back" sd_run sh -c \
		'set -e; echo contained >/srv/fsvc/mnt-rw/new; mv /srv/fsvc/mnt-rw/new /srv/fsvc/mnt-rw/renamed
		 mkdir /srv/fsvc/mnt-rw/made-here; rmdir /srv/fsvc/mnt-rw/made-here; [ "$(cat /srv/fsvc/mnt-rw/renamed)" = contained ]' 2>&1
	sd_run umount /srv/fsvc/mnt-rw || bad "umount /srv/fsvc/mnt-rw"
	# The server writes back after the unmount, then its instance stops.
	for ((i = 0; i < 200; i++)); do
		[ "$(sd_run systemctl list-units --plain --no-legend --state=running 'ext4-service@*.service' | wc -l)" = 0 ] && break
		sleep 0.1
	done
	check "rw: e2fsck -fn finds the image clean" sd_run e2fsck -fn /srv/fsvc/img-rw.ext4
	check "rw: the file is in the image" eval \
		'sd_run debugfs -R "cat /renamed" /srv/fsvc/img-rw.ext4 2>/dev/null | grep -qx contained'
else
	bad "mount -t fuse.ext4 /srv/fsvc/img-rw.ext4 (read-write)"
	sd_run journalctl -b -o cat --no-pager | grep -E "ext4-service" | tail -n 8 | sed 's/^/    /'
fi

check "no fuse mount is left in the namespace" \
	eval '[ -z "$(sd_run awk "\$3 ~ /^fuse(blk)?([.]|\$)/" /proc/mounts)" ]'
check "the images are byte for byte unchanged" \
	eval 'sed "s|$data|$SD_STAGE/srv/fsvc|" "$SD_WORK/images.sha256" >/dev/null; sd_run sh -c "cd / && sha256sum ${data#"$SD_STAGE"}/img.ext2 ${data#"$SD_STAGE"}/img.ext3 ${data#"$SD_STAGE"}/img.ext4 ${data#"$SD_STAGE"}/many.ext4" | awk "{print \$1}" | diff - <(awk "{print \$1}" "$SD_WORK/images.sha256") >/dev/null'
