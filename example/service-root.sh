#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Create the empty root directory the example units chroot into
# (RootDirectory=): mount points for the API file systems and for /usr, and
# the merged-/usr links (bin, lib, lib64, sbin -> usr/...), so that the
# dynamic loader and the libraries under the read-only /usr bind are found.
# Nothing else lives there.
#
# usage: service-root.sh DIR
#   As a meson install script, DIR is relative to the installation's
#   DESTDIR (MESON_INSTALL_DESTDIR_PREFIX is honoured).
set -eu

[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
dir=$1
if [ -n "${MESON_INSTALL_DESTDIR_PREFIX:-}" ] && [ -n "${DESTDIR:-}" ]; then
	dir="$DESTDIR$dir"
fi

mkdir -p "$dir"
for d in usr dev proc sys run tmp var/tmp etc home root; do
	mkdir -p "$dir/$d"
done
for l in bin sbin lib lib32 lib64 libx32; do
	# Mirror only what the host has, and only as links into /usr.
	if [ -L "/$l" ]; then
		target=$(readlink "/$l")
		case "$target" in
		usr/* | /usr/*) ln -sfn "${target#/}" "$dir/$l" ;;
		*) echo "$0: /$l -> $target is not a link into /usr" >&2; exit 1 ;;
		esac
	elif [ -e "/$l" ]; then
		echo "$0: /$l is not a link into /usr: the units need a merged-/usr system" >&2
		exit 1
	fi
done
chmod 0755 "$dir"
