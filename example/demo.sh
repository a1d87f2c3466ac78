#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# See a contained FUSE server at work, without touching this machine:
#
#     example/demo.sh BUILD_DIR          (as root, after: meson compile -C BUILD_DIR)
#
# Boots a real systemd in private namespaces over a throw-away overlay of /,
# installs the example units from the build tree, mounts a disk image with
#     mount -t fuse.service_ll /srv/demo/disk.img /mnt/demo
# shows the files and the sandbox the server runs in, unmounts and powers
# the private systemd off. Nothing is left behind.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
build=${1:-}
if [ -z "$build" ] || [ ! -x "$build/example/service_ll" ] || [ ! -x "$build/util/fuservicemount3" ]; then
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

step "Staging the example units, the setuid helper and a disk image"
sd_stage_examples "$src" "" build || exit 1
mkdir -p "$SD_STAGE/srv/demo" "$SD_STAGE/mnt/demo"
{
	echo "Hello from a contained FUSE server!"
	echo "These bytes live in /srv/demo/disk.img; the server never opened that file:"
	echo "fuservicemount3 opened it for the user who ran mount(8) and passed it over."
} >"$SD_STAGE/srv/demo/disk.img"
chmod 0600 "$SD_STAGE/srv/demo/disk.img"

step "Booting systemd in private namespaces (an overlay of /; the host is not touched)"
sd_boot fsvc-examples.target || exit 1
show systemctl list-sockets --no-pager 'service_*' 'null*'

step "Mounting: the socket starts one contained server for this mount"
show mount -t fuse.service_ll /srv/demo/disk.img /mnt/demo || exit 1
show findmnt /mnt/demo

step "The files it serves"
show ls -l /mnt/demo
show cat /mnt/demo/image

step "The server's sandbox, as the kernel sees it"
unit=$(sd_run systemctl list-units --plain --no-legend --state=running 'service_ll@*.service' |
	awk 'NR == 1 {print $1}')
pid=$(sd_run systemctl show -P MainPID "$unit")
echo "$unit, pid $pid:"
sd_run grep -E '^(Uid|Gid|CapEff|CapBnd|NoNewPrivs|Seccomp):' "/proc/$pid/status" | sed 's/^/    /'
echo "    root directory: $SD_ROOT_DIR ($(sd_run ls "/proc/$pid/root" | tr '\n' ' '))"
show systemd-analyze security --no-pager "$unit" | tail -n 1

step "Unmounting: the server exits with it"
show umount /mnt/demo
for ((i = 0; i < 100; i++)); do
	[ -z "$(sd_run systemctl list-units --plain --no-legend 'service_ll@*.service')" ] && break
	sleep 0.1
done
show journalctl -b --no-pager -o short-monotonic -u "$unit"
