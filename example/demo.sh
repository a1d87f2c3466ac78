#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# See a contained FUSE server at work, without touching this machine:
#
#     example/demo.sh BUILD_DIR          (as root, after: meson compile -C BUILD_DIR)
#
# Boots a real systemd in private namespaces over a throw-away overlay of /,
# installs the units of ext4-service from the build tree, makes an ext4 image
# with "mkfs.ext4 -d" and mounts it with
#     mount -t fuse.ext4 -o ro /srv/demo/disk.ext4 /mnt/demo
# lists and reads the files, shows the sandbox the server runs in, unmounts
# and powers the private systemd off. Nothing is left behind.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
build=${1:-}
if [ -z "$build" ] || [ ! -x "$build/fs/ext4/ext4-service" ] || [ ! -x "$build/util/fuservicemount3" ]; then
	echo "usage: $0 BUILD_DIR   (build it first: meson setup BUILD_DIR && meson compile -C BUILD_DIR)" >&2
	exit 2
fi
# shellcheck source=../test/systemd/sd-harness.sh
. "$src/test/systemd/sd-harness.sh"

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
show()
{
	printf '\033[2m# %s\033[0m\n' "$*"
	sd_run "$@"
}

if ! reason=$(sd_check_machine); then
	echo "demo.sh: cannot run here: $reason" >&2
	exit 1
fi

sd_init "$build"
trap 'step "Powering the private systemd off and cleaning up"; sd_teardown; echo done.' EXIT
trap 'exit 1' INT TERM

step "Staging the units, the setuid helper and an ext4 image made by mkfs.ext4 -d"
sd_stage_examples "$src" "" build || exit 1
sd_stage_ext4 "" build || exit 1
tree=$SD_WORK/tree
mkdir -p "$tree/photos" "$tree/docs" "$SD_STAGE/srv/demo" "$SD_STAGE/mnt/demo"
{
	echo "Hello from a contained ext4 server!"
	echo "This file is inside /srv/demo/disk.ext4. The server that reads it runs as"
	echo "a throw-away user with no capabilities and never opened the image itself:"
	echo "fuservicemount3 opened it for the user who ran mount(8) and passed it over."
} >"$tree/README.txt"
head -c 200000 /dev/urandom >"$tree/photos/beach.jpg"
seq 1 1000 >"$tree/docs/numbers.txt"
ln -s docs/numbers.txt "$tree/link-to-numbers"
mkfs.ext4 -q -F -L demo -d "$tree" "$SD_STAGE/srv/demo/disk.ext4" 8M >/dev/null || exit 1
chmod 0600 "$SD_STAGE/srv/demo/disk.ext4"
image_sum=$(sha256sum <"$SD_STAGE/srv/demo/disk.ext4")

step "Booting systemd in private namespaces (an overlay of /; the host is not touched)"
sd_boot fsvc-ext4.target || exit 1
show systemctl list-sockets --no-pager ext4-service.socket

step "Mounting: the socket starts one contained ext4-service for this mount"
show mount -t fuse.ext4 -o ro /srv/demo/disk.ext4 /mnt/demo || exit 1
show findmnt /mnt/demo

step "The files it serves"
show ls -lR /mnt/demo
show cat /mnt/demo/README.txt
show tail -n 2 /mnt/demo/link-to-numbers
printf '\033[2m# %s\033[0m\n' "cmp: the photo as mkfs.ext4 -d copied it"
if sd_run cat /mnt/demo/photos/beach.jpg | cmp - "$tree/photos/beach.jpg"; then
	echo "photos/beach.jpg: identical to the source file"
fi

step "The server's sandbox, as the kernel sees it"
unit=$(sd_run systemctl list-units --plain --no-legend --state=running 'ext4-service@*.service' |
	awk 'NR == 1 {print $1}')
pid=$(sd_run systemctl show -P MainPID "$unit")
echo "$unit, pid $pid:"
sd_run grep -E '^(Uid|Gid|CapEff|CapBnd|NoNewPrivs|Seccomp):' "/proc/$pid/status" | sed 's/^/    /'
echo "    root directory: $SD_ROOT_DIR ($(sd_run ls "/proc/$pid/root" | tr '\n' ' '))"
echo "    limits: $(sd_run systemctl show -p MemoryMax -p TasksMax -p LimitNOFILE "$unit" | tr '\n' ' ')"
show systemd-analyze security --no-pager "$unit" | tail -n 1

step "Unmounting: the server exits with it"
show umount /mnt/demo
for ((i = 0; i < 100; i++)); do
	[ -z "$(sd_run systemctl list-units --plain --no-legend 'ext4-service@*.service')" ] && break
	sleep 0.1
done
show journalctl -b --no-pager -o short-monotonic -u "$unit"
if [ "$(sd_run sh -c 'sha256sum </srv/demo/disk.ext4')" = "$image_sum" ]; then
	echo "The image is byte for byte unchanged."
fi
