#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# What a distribution and a filesystem author see of libfuse_service:
#  - only fuse_service_* symbols are exported;
#  - it links the system libfuse3.so.3, and neither libsystemd (socket
#    activation is ours: lib/activation.cpp) nor a shared libstdc++;
#  - a C server that includes only <fuse_lowlevel.h> and <fuse_service.h>
#    builds with nothing but `cc server.c $(pkg-config --cflags --libs
#    fuse3-service)`, and mounts through a socket-activated connection with
#    the real helper, its data reading back through /dev/fuse.
#
#  - a C++20 program using <fuse_service.hpp> builds the same way with
#    `c++ -std=c++20 -fno-exceptions`, and without socket activation
#    accept() says "not activated".
#
# usage: abi_test.sh LIB PKGCONFIG_DIR INSTALLED_PC SERVER_C HELPER SOCKET_DIR CXX_PROGRAM
set -u
lib=$1 pcdir=$2 installed_pc=$3 server_c=$4 helper=$5 sockdir=$6 cxx_program=$7
fails=0
ok() { echo "ok - $*"; }
fail() {
	echo "FAIL - $*"
	fails=$((fails + 1))
}

# 1. exported symbols
exported=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' | sed 's/@.*//')
others=$(echo "$exported" | grep -v '^fuse_service_' || true)
if [ -n "$exported" ] && [ -z "$others" ]; then
	ok "exports only fuse_service_* ($(echo "$exported" | wc -l) symbols)"
else
	fail "unexpected exported symbols: $others"
fi
for f in accept can_allow_other can_fuseblk release destroy append_args cmdline \
	parse_cmdline_opts request_file request_blockdev receive_file \
	finish_file_requests expect_mount_format session_mount send_goodbye exit main_real; do
	echo "$exported" | grep -qx "fuse_service_$f" || fail "fuse_service_$f is not exported"
	expected_count=$((${expected_count:-0} + 1))
done
# Exactly those: the C++ API is header-only and adds nothing to the ABI.
count=$(echo "$exported" | sort -u | wc -l)
if [ "$count" -eq "$expected_count" ]; then
	ok "exactly the $expected_count symbols of the C API"
else
	fail "$count symbols exported, the C API has $expected_count"
fi

# 2. what it links
deps=$(ldd "$lib")
line=$(echo "$deps" | grep "libfuse3.so.3 =>" || true)
case "$line" in
*"=> /lib/"* | *"=> /usr/lib/"*) ok "links the system libfuse3.so.3" ;;
*) fail "does not link the system libfuse3.so.3: '$line'" ;;
esac
# Each costs every server start-up (README, Dependencies). A sanitized
# build keeps the C++ runtime shared (its runtimes expect that).
unwanted_libs="libsystemd.so libstdc++.so"
echo "$deps" | grep -q libasan && unwanted_libs=libsystemd.so
for unwanted in $unwanted_libs; do
	if echo "$deps" | grep -q "$unwanted"; then
		fail "links $unwanted"
	else
		ok "does not link $unwanted"
	fi
done

# 3. the installed pkg-config file is well-formed and names the module
PKG_CONFIG_PATH='' pkg-config --validate "$installed_pc" && ok "installed fuse3-service.pc validates" ||
	fail "installed fuse3-service.pc does not validate"
grep -q '^Requires: fuse3' "$installed_pc" || fail "installed .pc does not require fuse3"

# 4. build a server with the pkg-config line, then mount through the socket
work=$(mktemp -d /tmp/fsvc-abi.XXXXXX)
subtype=abi_$$
act=
. "$(dirname "$0")/../common/activator.sh"
cleanup() {
	fsvc_unmount_under "$work"
	[ -n "$act" ] && fsvc_stop_activators "$act"
	rm -f "$sockdir/$subtype"
	rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/mnt" "$sockdir"

flags=$(PKG_CONFIG_PATH=$pcdir pkg-config --cflags --libs fuse3-service) ||
	{ fail "pkg-config does not find fuse3-service"; exit 1; }
# A sanitized library needs its runtime in the program that loads it.
sanitize=
ldd "$lib" | grep -q libasan && sanitize="-fsanitize=address,undefined"
# shellcheck disable=SC2086 # word splitting of the flags is the point
if cc -Wall -Wextra -Werror $sanitize -o "$work/server" "$server_c" $flags 2>"$work/cc.log"; then
	ok "cc server.c \$(pkg-config --cflags --libs fuse3-service)"
else
	cat "$work/cc.log"
	fail "the server does not build with the pkg-config line"
	exit 1
fi
ldd "$work/server" | grep -q "libfuse_service.so.1 => $(dirname "$lib")" ||
	fail "the server does not load the library under test"

# shellcheck disable=SC2086
if c++ -std=c++20 -fno-exceptions -Wall -Wextra -Wpedantic -Werror $sanitize \
	-o "$work/cxx" "$cxx_program" $flags 2>"$work/cxx.log"; then
	ok "c++ -std=c++20 -fno-exceptions program.cpp \$(pkg-config --cflags --libs fuse3-service)"
	out=$(env -u LISTEN_FDS -u LISTEN_PID "$work/cxx" a b 2>&1)
	if [ "$out" = "not activated, 3 argument(s)" ]; then
		ok "C++ accept() without activation: not activated"
	else
		fail "C++ program without activation printed '$out'"
	fi
else
	cat "$work/cxx.log"
	fail "the C++ program does not build with the pkg-config line"
fi

echo "read back through /dev/fuse" >"$work/backing"
fsvc_start_activator "$sockdir/$subtype" "$work/activator.log" "$work/server" ||
	fail "the activator does not listen"
act=$FSVC_ACTIVATOR

if "$helper" "$work/backing" "$work/mnt" -t "fuse.$subtype" -o "backing=$work/backing" \
	2>"$work/helper.log"; then
	ok "mounted through the socket"
	grep -q " $work/mnt .* - fuse.$subtype " /proc/self/mountinfo ||
		fail "mountinfo has no fuse.$subtype entry on $work/mnt"
	if [ "$(cat "$work/mnt/data")" = "read back through /dev/fuse" ]; then
		ok "data reads back"
	else
		fail "data does not read back: '$(cat "$work/mnt/data" 2>&1)'"
	fi
	umount "$work/mnt" || fail "umount"
else
	cat "$work/helper.log" "$work/activator.log"
	fail "the helper could not mount"
fi
mountpoint -q "$work/mnt" && fail "mount left behind"

[ $fails -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
