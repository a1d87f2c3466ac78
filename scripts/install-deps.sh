#!/bin/bash
# Install the Debian packages fuse-service needs to build, test and demo.
# Runs apt-get only when something is missing, so repeated runs are cheap.
set -euo pipefail

packages=(
	meson ninja-build g++ pkg-config	# build
	g++-multilib				# portability check: the helper compiles for -m32
	libfuse3-dev fuse3			# the system libfuse3 we build on, fusermount3
	libsystemd-dev				# socket activation (sd_listen_fds)
	libmount-dev				# mtab/utab records in the helper
	libgtest-dev				# unit tests
	clang libclang-rt-14-dev		# libFuzzer targets, sanitizer runtime
	valgrind				# helper tests under memcheck
	systemd util-linux procps psmisc	# systemd-analyze, unshare/nsenter/setpriv, pgrep
	clang-format shellcheck			# style checks
	libext2fs-dev e2fsprogs			# ext4-service: libext2fs, mkfs.ext4 -d for its tests
	acl attr fuse2fs python3		# ext4 tests (setfacl, getfattr), bench baseline
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: need root to install: ${missing[*]}" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
