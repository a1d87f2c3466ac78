#!/bin/bash
# The main job, end to end: build everything, boot a throw-away systemd in
# private namespaces with our units, mount an ext4 image (mkfs.ext4 -d) through
# the contained ext4-service and the setuid helper, show the files, unmount.
# Needs root (it mounts and boots a namespaced systemd); touches nothing of
# the host's /run/filesystems, fstab or mount table.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
"$top/scripts/install-deps.sh"

echo "--- building (build-demo)"
[ -d build-demo ] || meson setup build-demo -Dbuildtype=debugoptimized >/dev/null
meson compile -C build-demo >/dev/null
echo "--- built $(ls build-demo/lib/libfuse_service.so* | head -1) and build-demo/util/fuservicemount3"

exec "$top/example/demo.sh" "$top/build-demo"
