#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# A contained mount must look exactly like the one libfuse makes for itself.
# For each option set, the example service_ll is mounted twice on the same
# image: once classically (the server mounts with the system libfuse's own
# fuse_session_mount) and once as a service (socket activation, the library
# computes type/source/options/flags, the helper mounts). The two
# /proc/self/mountinfo entries must agree on mount options, source and super
# options, and on the fs type too, except where the protocol decides it
# differently: the helper mounts the type the user asked for (-t
# fuse.SUBTYPE), so a server's own -o subtype= or -o fsname= (with which
# libfuse mounts "fuse.OTHER" or plain "fuse") changes only the source.
#
# usage: mountinfo_parity.sh SERVICE_LL HELPER SOCKET_DIR
set -u
server=$1 helper=$2 sockdir=$3
[ "$(id -u)" -eq 0 ] || { echo "needs root"; exit 77; }

work=$(mktemp -d /tmp/fsvc-parity.XXXXXX)
subtype=parity_$$
act='' srv=''
. "$(dirname "$0")/../common/activator.sh"
cleanup() {
	fsvc_unmount_under "$work"
	[ -n "$srv" ] && kill "$srv" 2>/dev/null && wait "$srv" 2>/dev/null
	[ -n "$act" ] && fsvc_stop_activators "$act"
	rm -f "$sockdir/$subtype"
	rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/mnt" "$sockdir"
echo "parity" >"$work/img"

# The classic server names its subtype after its program: give it ours.
ln -s "$server" "$work/$subtype"

# mount options, fs type, source, super options of the mount on $work/mnt
entry() {
	awk -v m="$work/mnt" '$5 == m {
		for (i = 7; $i != "-"; i++) ;
		print $6, $(i + 1), $(i + 2), $(i + 3) }' /proc/self/mountinfo
}
wait_mounted() {
	for _ in $(seq 500); do
		mountpoint -q "$work/mnt" && return 0
		sleep 0.01
	done
	return 1
}

fsvc_start_activator "$sockdir/$subtype" "$work/activator.log" "$server" ||
	{ echo "FAIL - the activator does not listen"; exit 1; }
act=$FSVC_ACTIVATOR

fails=0
check() {
	local opts=$1 classic service
	local -a o=()
	[ -n "$opts" ] && o=(-o "$opts")

	"$work/$subtype" -f "${o[@]}" "$work/img" "$work/mnt" 2>"$work/classic.log" &
	srv=$!
	if ! wait_mounted; then
		cat "$work/classic.log"
		echo "FAIL - [$opts] the classic server did not mount"
		fails=$((fails + 1))
		return
	fi
	classic=$(entry)
	umount "$work/mnt"
	wait "$srv" 2>/dev/null
	srv=

	if ! "$helper" "$work/img" "$work/mnt" -t "fuse.$subtype" "${o[@]}" 2>"$work/helper.log"; then
		cat "$work/helper.log"
		echo "FAIL - [$opts] the service did not mount"
		fails=$((fails + 1))
		return
	fi
	service=$(entry)
	umount "$work/mnt"

	# The type the user asked for, whatever the server's options say.
	case "$opts" in
	*subtype=* | *fsname=*)
		classic=$(echo "$classic" | awk -v t="fuse.$subtype" '{ $2 = t; print }')
		;;
	esac
	if [ "$classic" = "$service" ]; then
		echo "ok - [$opts] $service"
	else
		echo "FAIL - [$opts] classic: $classic"
		echo "       [$opts] service: $service"
		fails=$((fails + 1))
	fi
}

check ""
check "ro"
check "allow_other,default_permissions"
check "noexec,sync,dirsync,noatime"
check "fsname=myimage"
check "subtype=othername"
check "fsname=myimage,subtype=othername"
check "nosuid,nodev,exec"
check "suid,dev"
check "rw,allow_other,noexec"

mountpoint -q "$work/mnt" && { echo "FAIL - mount left behind"; fails=$((fails + 1)); }
[ $fails -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
