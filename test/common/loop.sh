# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
# Sourced by the shell tests: loop devices that are detached exactly once.
#
# Why once: tests run in parallel, and a loop device number freed by one
# test is handed to the next test that asks. A cleanup that detaches a
# number a second time pulls the device from under whoever got it since
# (its mount then fails with "can't read superblock"). So a device is
# forgotten the moment it is detached, and the cleanup only detaches what
# is still attached on our behalf.

FSVC_LOOPS=()

# fsvc_loop_attach VAR FILE [LOSETUP-OPTION...]: attach FILE to a free loop
# device and set VAR to its path; it is detached by fsvc_loop_detach or,
# at the latest, by fsvc_loop_detach_all.
fsvc_loop_attach() {
	local _fsvc_var=$1 _fsvc_file=$2 _fsvc_dev
	shift 2
	_fsvc_dev=$(losetup -f --show "$@" "$_fsvc_file") || return 1
	FSVC_LOOPS+=("$_fsvc_dev")
	printf -v "$_fsvc_var" %s "$_fsvc_dev"
}

# fsvc_loop_detach DEV: detach DEV now (if it is mounted, the kernel
# detaches it at the unmount) and forget it.
fsvc_loop_detach() {
	local i rc=0
	losetup -d "$1" || rc=$?
	for i in "${!FSVC_LOOPS[@]}"; do
		[ "${FSVC_LOOPS[$i]}" = "$1" ] && unset 'FSVC_LOOPS[i]'
	done
	return $rc
}

# fsvc_loop_detach_all: the cleanup's share; quiet.
fsvc_loop_detach_all() {
	local d
	for d in "${FSVC_LOOPS[@]}"; do
		losetup -d "$d" 2>/dev/null
	done
	FSVC_LOOPS=()
}
