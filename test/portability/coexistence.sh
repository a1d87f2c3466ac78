#!/bin/bash
# Configure-time coexistence with upstream libfuse >= 3.19 (suite
# "portability"): the top-level meson.build is configured (never built)
# against fake pkg-config directories whose fuse3 advertises a version and
# maybe a fuse_service.h of its own, and what meson would install is read
# back from `meson introspect --installed`.
#   coexistence.sh MESON SOURCE_DIR
set -uo pipefail
meson=$1
src=$2
work=$(mktemp -d /tmp/fsvc-coexist.XXXXXX)
trap 'rm -rf "$work"' EXIT
failed=0

check() { # check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@"; then
		echo "ok: $what"
	else
		echo "FAIL: $what" >&2
		failed=1
	fi
}

# fake_fuse3 NAME VERSION HEADER: a pkg-config dir whose fuse3 has VERSION;
# HEADER is none, upstream (a fuse_service.h of upstream's) or ours (one
# carrying our marker, as an earlier install of this project leaves).
fake_fuse3() {
	local dir=$work/$1
	mkdir -p "$dir/include"
	case $3 in
	upstream) echo '/* upstream */' >"$dir/include/fuse_service.h" ;;
	ours) echo '#define FUSE_SERVICE_FSVC 1' >"$dir/include/fuse_service.h" ;;
	esac
	cat >"$dir/fuse3.pc" <<PC
Name: fuse3
Description: fake fuse3 for the coexistence test
Version: $2
Cflags: -I$dir/include $(pkg-config --cflags fuse3)
Libs: $(pkg-config --libs fuse3)
PC
	echo "$dir"
}

# layout PKGDIR [MESON_OPTIONS...]: configure, print "HEADER_DIR HELPER_PATH"
# (where fuse_service.h and fuservicemount3 would be installed) and the
# helper path compiled into the front end.
layout() {
	local pc=$1 b
	shift
	b=$(mktemp -d "$work/build.XXXXXX")
	if ! PKG_CONFIG_PATH=$pc${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH} "$meson" setup "$b" "$src" \
		-Dtests=false -Dexamples=false --prefix=/usr "$@" >"$b.log" 2>&1; then
		echo "meson setup failed:" >&2
		tail -20 "$b.log" >&2
		echo "setup-failed"
		return
	fi
	"$meson" introspect --installed "$b" | python3 -c '
import json, os, sys
inst = json.load(sys.stdin)
header = [d for s, d in inst.items() if os.path.basename(s) == "fuse_service.h"]
helper = [d for s, d in inst.items() if os.path.basename(s) == "fuservicemount3"]
print(" ".join([os.path.dirname(header[0]) if header else "none",
                helper[0] if helper else "none"]))'
	sed -n 's/^#define FSVC_HELPER_PATH "\(.*\)"$/\1/p' "$b/fsvc_config.h"
}

standard="/usr/include/fuse3 /usr/bin/fuservicemount3
/usr/bin/fuservicemount3"
coexisting="/usr/include/fuse3-service /usr/libexec/fuse-service/fuservicemount3
/usr/libexec/fuse-service/fuservicemount3"

got=$(layout "" )
check "system libfuse3 $(pkg-config --modversion fuse3): our names are the standard ones" [ "$got" = "$standard" ]
got=$(layout "$(fake_fuse3 v319 3.19.0 none)")
check "fuse3 3.19: headers in fuse3-service/, the helper in libexec (got: $got)" [ "$got" = "$coexisting" ]
got=$(layout "$(fake_fuse3 v318up 3.18.1 upstream)")
check "an older fuse3 that has upstream's fuse_service.h: coexist (got: $got)" [ "$got" = "$coexisting" ]
got=$(layout "$(fake_fuse3 v318ours 3.18.1 ours)")
check "a fuse_service.h of ours installed earlier is not upstream's (got: $got)" [ "$got" = "$standard" ]
got=$(layout "$work/v319" -Dupstream_service_api=absent)
check "-Dupstream_service_api=absent overrides the detection (got: $got)" [ "$got" = "$standard" ]
got=$(layout "" -Dupstream_service_api=present)
check "-Dupstream_service_api=present forces the coexisting names (got: $got)" [ "$got" = "$coexisting" ]
exit $failed
