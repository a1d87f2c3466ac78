# shellcheck shell=bash disable=SC2034 # sets variables for helper_tests.sh
# Shared setup for the helper's integration tests (sourced by helper_tests.sh).
#
# Every test gets its own work directory, its own subtype (hence socket) and
# cleans up in every path: mounts under the work directory are detached,
# socket activators and their servers are killed, the socket is removed.
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../common/loop.sh"

: "${BUILD:?}"
HELPER=$BUILD/util/fuservicemount3-test
FRONTEND=$BUILD/util/mount.fuse-service-test
SERVER=$BUILD/test/helper/fsvc-test-server
SHIM=$BUILD/test/helper/fsvc-fstat-fail-shim.so
NO_CLOSE_RANGE=$BUILD/test/helper/fsvc-no-close-range
SOCKDIR=$BUILD/test-run/filesystems
CONF=$BUILD/test-run/fuse.conf

WORK=$(mktemp -d /tmp/fsvc-helper.XXXXXX)
chmod 755 "$WORK"
ACTIVATORS=()
SUBTYPES=()
PIDS=()  # helper processes of a test (sleepers holding a cwd...)
FAILED=0

cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	fsvc_unmount_under "$WORK"
	fsvc_loop_detach_all
	fsvc_stop_activators "${ACTIVATORS[@]}"
	local s
	for s in "${SUBTYPES[@]}"; do
		rm -f "$SOCKDIR/$s"
	done
	[ -n "${CONF_WRITTEN:-}" ] && rm -f "$CONF"
	rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	FAILED=1
}

check() { # check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@"; then
		echo "ok: $what"
	else
		fail "$what"
	fi
}

# start_activator SUBTYPE SOCKMODE COMMAND... : serve SUBTYPE with COMMAND, one process per connection.
start_activator() {
	local sub=$1 mode=$2
	shift 2
	mkdir -p "$SOCKDIR"
	SUBTYPES+=("$sub")
	fsvc_start_activator "$SOCKDIR/$sub" "$WORK/activator.log" "$@"
	local listening=$?
	ACTIVATORS+=("$FSVC_ACTIVATOR")
	[ $listening -eq 0 ] || { fail "activator for $sub did not start"; exit 1; }
	chmod "$mode" "$SOCKDIR/$sub"
}

# start_server SUBTYPE SOCKMODE [ARGS...]: serve SUBTYPE with the test server,
# which reports what it saw (hello flags, argv, file requests) to $WORK/report.
start_server() {
	local sub=$1 mode=$2
	shift 2
	: >"$WORK/report"
	start_activator "$sub" "$mode" "$SERVER" --report="$WORK/report" "$@"
}

# The setuid copy of the helper, reachable by nobody.
setuid_helper() {
	if [ ! -x "$WORK/bin/fuservicemount3" ]; then
		mkdir -p "$WORK/bin"
		chmod 755 "$WORK/bin"
		cp "$HELPER" "$WORK/bin/fuservicemount3"
		chown root:root "$WORK/bin/fuservicemount3"
		chmod 4755 "$WORK/bin/fuservicemount3"
	fi
	echo "$WORK/bin/fuservicemount3"
}

# strace ARGS...: LeakSanitizer cannot run under ptrace, so in a sanitized
# build a traced helper keeps ASan and UBSan but skips its leak check.
traced() {
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" strace "$@"
}

as_nobody() {
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"
}

# run_helper ARGS... (as root); run_helper_nobody ARGS... (setuid copy, as nobody)
# Sets RC, and $WORK/err holds stderr. FSVC_HELPER_WRAPPER (e.g. a valgrind
# command line, see test/run-valgrind.sh) wraps the root runs; a setuid copy
# cannot run under a wrapper with its privileges.
run_helper() {
	# shellcheck disable=SC2086 # the wrapper is a command line
	timeout 120 ${FSVC_HELPER_WRAPPER:-} "$HELPER" "$@" >"$WORK/out" 2>"$WORK/err"
	RC=$?
}
run_helper_nobody() {
	local h
	h=$(setuid_helper)
	chmod 0666 /dev/fuse
	timeout 120 setpriv --reuid=nobody --regid=nogroup --clear-groups "$h" "$@" \
		>"$WORK/out" 2>"$WORK/err"
	RC=$?
}

# start_in_dir DIR COMMAND...: run COMMAND (as root) in the background with DIR as its cwd.
# Sets BG_PID; the process is killed at cleanup.
start_in_dir() {
	local dir=$1 i
	shift
	(cd "$dir" && exec "$@") &
	BG_PID=$!
	PIDS+=("$BG_PID")
	for i in $(seq 1 200); do
		[ "$(readlink "/proc/$BG_PID/cwd")" = "$dir" ] && return 0
		sleep 0.05
	done
	fail "$* did not start in $dir"
	exit 1
}

write_conf() {
	CONF_WRITTEN=1
	mkdir -p "$(dirname "$CONF")"
	printf '%s\n' "$@" >"$CONF"
}

is_mounted() { awk -v m="$1" '$5 == m {f=1} END {exit !f}' /proc/self/mountinfo; }
mount_opts() { awk -v m="$1" '$5 == m {print $6 "," $(NF)}' /proc/self/mountinfo; }

err_has() { grep -qF -- "$1" "$WORK/err" || { echo "stderr was:" >&2; cat "$WORK/err" >&2; false; }; }
report_has() { grep -qxF -- "$1" "$WORK/report" || { echo "server report was:" >&2; cat "$WORK/report" >&2; false; }; }

# nothing_left: no mount under $WORK and no server process of ours alive.
nothing_left() {
	local i p alive
	if awk -v w="$WORK" '$5 ~ "^"w {f=1} END {exit !f}' /proc/self/mountinfo; then
		echo "a mount was left under $WORK" >&2
		return 1
	fi
	for i in $(seq 1 200); do
		alive=0
		for p in "${ACTIVATORS[@]}"; do
			# Children of the activator (servers) share its process group.
			[ "$(pgrep -g "$p" | grep -vx "$p" | wc -l)" -gt 0 ] && alive=1
		done
		[ $alive = 0 ] && return 0
		sleep 0.05
	done
	echo "a server process is still running" >&2
	return 1
}

finish() {
	[ $FAILED = 0 ] && exit 0
	exit 1
}
