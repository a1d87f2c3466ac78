#!/bin/bash
# Integration tests of fuservicemount3 and mount.fuse-service: real socket
# activation, real mounts, the setuid helper run as nobody.
#   helper_tests.sh BUILD_DIR CASE
BUILD=$1
CASE=$2
if [ "$(id -u)" != 0 ]; then
	echo "needs root (real mounts, a setuid copy of the helper)"
	exit 77
fi
. "$(dirname "$0")/../common/activator.sh"
. "$(dirname "$0")/lib.sh"

MNT=$WORK/mnt
mkdir "$MNT"

# --- mounting as root, end to end ---------------------------------------------

t_root_mount() {
	echo "backing data" >"$WORK/backing"
	start_activator rootmount 0600 "$SERVER"
	run_helper src "$MNT" -t fuse.rootmount -o "backing=$WORK/backing"
	check "helper exits 0" [ "$RC" = 0 ]
	check "mounted as fuse.rootmount" bash -c "grep -q ' $MNT .* - fuse.rootmount ' /proc/self/mountinfo"
	check "data read back through the mount" [ "$(cat "$MNT/data")" = "backing data" ]
	echo "written" >"$MNT/data"
	check "written data reads back" [ "$(cat "$MNT/data")" = "written" ]
	check "owned by root (user_id=0)" bash -c "grep ' $MNT ' /proc/self/mountinfo | grep -q user_id=0"
	check "unmount" umount "$MNT"
	check "nothing left" nothing_left
}

t_root_file_mount() {
	echo "x" >"$WORK/file"
	start_activator rootfile 0600 "$SERVER" --file-root
	run_helper src "$WORK/file" -t fuse.rootfile
	check "helper exits 0" [ "$RC" = 0 ]
	check "regular file covered by the fs root" [ "$(cat "$WORK/file")" = "hello" ]
	check "unmount" umount "$WORK/file"
	check "nothing left" nothing_left
}

t_root_suid_dev() {
	start_activator rootsuid 0600 "$SERVER"
	run_helper src "$MNT" -t fuse.rootsuid -o suid,dev
	check "mounted" is_mounted "$MNT"
	check "root keeps suid" bash -c "! grep ' $MNT ' /proc/self/mountinfo | grep -q nosuid"
	check "no 'unsafe option' message for root" bash -c "! grep -q unsafe '$WORK/err'"
	umount "$MNT"
}

# --- mounting as another user: the non-root policy ----------------------------

t_nonroot_mount() {
	echo "user data" >"$WORK/backing"
	chown nobody "$MNT"
	start_activator nrmount 0666 "$SERVER"
	run_helper_nobody src "$MNT" -t fuse.nrmount -o "backing=$WORK/backing"
	check "helper exits 0" [ "$RC" = 0 ]
	check "owned by nobody" bash -c "grep ' $MNT ' /proc/self/mountinfo | grep -q 'user_id=65534,group_id=65534'"
	check "nobody reads the data" [ "$(as_nobody cat "$MNT/data")" = "user data" ]
	as_nobody sh -c "echo changed > '$MNT/data'"
	check "nobody writes" [ "$(as_nobody cat "$MNT/data")" = "changed" ]
	check "others (root) are kept out without allow_other" bash -c "! cat '$MNT/data' 2>/dev/null"
	check "nobody unmounts with fusermount3" as_nobody fusermount3 -u "$MNT"
	check "nothing left" nothing_left
}

t_nonroot_file_mount() {
	echo "x" >"$WORK/file"
	chown nobody "$WORK/file"
	start_activator nrfile 0666 "$SERVER" --file-root
	run_helper_nobody src "$WORK/file" -t fuse.nrfile
	check "helper exits 0" [ "$RC" = 0 ]
	check "reads through the file mount" [ "$(as_nobody cat "$WORK/file")" = "hello" ]
	umount "$WORK/file"
	check "nothing left" nothing_left
}

t_nonroot_suid_dev() {
	chown nobody "$MNT"
	start_activator nrsuid 0666 "$SERVER"
	run_helper_nobody src "$MNT" -t fuse.nrsuid -o suid,dev
	check "mounted" is_mounted "$MNT"
	check "nosuid forced" bash -c "grep ' $MNT ' /proc/self/mountinfo | grep -q nosuid"
	check "nodev forced" bash -c "grep ' $MNT ' /proc/self/mountinfo | grep -q nodev"
	check "suid message" err_has "fuservicemount3: unsafe option suid ignored"
	check "dev message" err_has "fuservicemount3: unsafe option dev ignored"
	umount "$MNT"
}

# nonroot_mount_refused SUBTYPE MOUNTPOINT MESSAGE [SERVER ARGS...]: nobody
# asks a well-behaved server to mount on MOUNTPOINT; the helper refuses.
nonroot_mount_refused() {
	local sub=$1 mnt=$2 msg=$3
	shift 3
	start_activator "$sub" 0666 "$SERVER" "$@"
	run_helper_nobody src "$mnt" -t "fuse.$sub"
	check "$sub: refused: exit 1" [ "$RC" = 1 ]
	check "$sub: message" err_has "$msg"
	check "$sub: nothing mounted" bash -c "! grep -q ' $mnt ' /proc/self/mountinfo"
}

t_nonroot_sticky_dir() {
	chmod 1777 "$MNT"
	nonroot_mount_refused nrsticky "$MNT" "mountpoint $MNT not owned by user"
}

t_nonroot_procfs() {
	setpriv --reuid=nobody --regid=nogroup --clear-groups sleep 300 &
	local pid=$!
	PIDS+=("$pid")
	# /proc/PID/comm is a regular file nobody may write: only its fs type is wrong.
	nonroot_mount_refused nrproc "/proc/$pid/comm" "mounting over filesystem type 0x00009fa0 is forbidden" --file-root
}

# the caller's rights are the effective ids, not only the filesystem ones:
# no CAP_SYS_PTRACE to walk a root process's /proc/PID/cwd past a 0700 directory.
t_nonroot_proc_cwd() {
	mkdir -m 0700 "$WORK/private"
	mkdir "$WORK/private/dir" "$WORK/private/mnt"
	echo secret >"$WORK/private/dir/file"
	chmod 0644 "$WORK/private/dir/file"
	chown nobody "$WORK/private/mnt" "$MNT"
	start_in_dir "$WORK/private/dir" sleep 300
	local file=/proc/$BG_PID/cwd/file
	start_in_dir "$WORK/private/mnt" sleep 300
	local mnt=/proc/$BG_PID/cwd
	start_server nrproccwd 0666
	run_helper_nobody src "$MNT" -t fuse.nrproccwd -o "backing=$file"
	check "OPEN through a root process's /proc/PID/cwd: EACCES" report_has "OPEN $file -> 13"
	check "so the server gave up: exit 1" [ "$RC" = 1 ]
	check "nothing mounted" bash -c "! grep -q ' $MNT ' /proc/self/mountinfo"
	start_server nrproccwd2 0666
	run_helper_nobody src "$mnt" -t fuse.nrproccwd2
	check "a mountpoint through it: EACCES" err_has "fuservicemount3: $mnt: Permission denied"
	check "refused: exit 1" [ "$RC" = 1 ]
	check "nothing mounted there" bash -c "! grep -q ' $WORK/private/mnt ' /proc/self/mountinfo"
}

# BLKBSZSET needs CAP_SYS_ADMIN, which the helper must not lend to nobody.
t_nonroot_bdev_blocksize() {
	truncate -s 8M "$WORK/img"
	local loop
	if ! fsvc_loop_attach loop "$WORK/img" 2>/dev/null; then
		echo "no loop device available: skipped"
		exit 77
	fi
	chmod 0666 "$loop"
	chown nobody "$MNT"
	start_server nrbdevbs 0666
	run_helper_nobody src "$MNT" -t fuse.nrbdevbs -o "bdev=$loop"
	check "nobody may open a 0666 block device" report_has "BDEV $loop -> 0"
	umount "$MNT"
	start_server nrbdevbs2 0666
	run_helper_nobody src "$MNT" -t fuse.nrbdevbs2 -o "bdev=$loop,blocksize=4096"
	check "but not set its block size: EACCES" report_has "BDEV $loop -> 13"
	umount "$MNT"
}

# euid0_syscalls STRACE_LOG: from an `strace -f` log of the setuid helper,
# print "startup" or "scoped", a tab and each system call made with euid 0
# (fsconfig with its command), following the effective uid through
# setresuid() and fork. "startup" is before the first switch away from
# euid 0. The switches themselves (set/getres[ug]id, setfs[ug]id, capget,
# prctl) are left out, and so is exit_group (a sanitizer build takes root
# back just before it, for LeakSanitizer: see util/fuservicemount.cpp).
# Only what follows the exec of the helper counts:
# strace -u sometimes shows its own switch to the user before it.
euid0_syscalls() {
	awk '
	function first_pid() { if (!(pid in euid)) euid[pid] = (npids++ == 0) ? 0 : euid[parent] }
	{
		pid = $1
		line = $0; sub(/^[0-9]+ +/, "", line) # strace pads short pids
		if (line ~ /resumed>/ || line !~ /^[a-z_0-9]+\(/) next
		name = line; sub(/\(.*/, "", name)
		first_pid()
		if (name == "execve" && line ~ / = 0$/) { euid[pid] = 0; switched = 0; execd = 1 }
		if (!execd) next
		if (euid[pid] == 0 && name !~ /^(setresuid|setresgid|getresuid|getresgid|setfsuid|setfsgid|capget|prctl|exit_group)$/) {
			if (name == "fsconfig") { a = line; sub(/^fsconfig\([0-9]+, /, "", a); sub(/,.*/, "", a); name = name ":" a }
			print (switched ? "scoped" : "startup") "\t" name
		}
		if (name == "setresuid" && line ~ / = 0$/) {
			split(substr(line, 11), ids, /, /)
			if (ids[2] != "-1") euid[pid] = ids[2] + 0
			if (euid[pid] != 0) switched = 1
		}
		if (name ~ /^(clone|clone3|fork|vfork)$/ && line ~ / = [0-9]+$/) {
			child = line; sub(/.* = /, "", child); euid[child] = euid[pid]
		}
	}' "$1"
}

# The helper runs as the caller by default and is root only
# in named scopes. This records every system call the setuid helper makes
# with euid 0 during a mount by nobody (strace -u runs it with its setuid
# bit honoured) and compares them with the list in util/privileges.h.
t_nonroot_euid0_syscalls() {
	echo data >"$WORK/backing"
	chmod 0644 "$WORK/backing"
	chown nobody "$MNT"
	chmod 0666 /dev/fuse
	start_activator euidzero 0666 "$SERVER"
	local h
	h=$(setuid_helper)
	traced -f -qq -o "$WORK/strace" -u nobody "$h" src "$MNT" -t fuse.euidzero -o "backing=$WORK/backing" \
		2>"$WORK/err"
	RC=$?
	check "mounted by nobody under strace" [ "$RC" = 0 ]
	check "it works" [ "$(as_nobody cat "$MNT/data")" = data ]
	euid0_syscalls "$WORK/strace" >"$WORK/euid0"
	echo "system calls made with euid 0 after the switch to the caller:"
	sed -n 's/^scoped\t/  /p' "$WORK/euid0"
	echo "distinct system calls made with euid 0 before it (start-up):"
	sed -n 's/^startup\t//p' "$WORK/euid0" | sort -u | tr '\n' ' '
	echo
	check "after the switch, euid 0 only for the documented scopes" \
		[ "$(sed -n 's/^scoped\t//p' "$WORK/euid0" | tr '\n' ' ')" = "fsopen fsconfig:FSCONFIG_CMD_CREATE fsmount move_mount " ]
	check "nothing done for the caller before the switch (no socket, connect, open of /dev/fuse, mount call)" \
		bash -c "! grep -qE '^startup\s(socket|connect|fsopen|fsconfig|fsmount|move_mount|mount|umount2|ioctl)$' '$WORK/euid0'"
	check "the switch happened" grep -q '^scoped' "$WORK/euid0"
	umount "$MNT"
	# The mount(2) fallback, and the detach of a mount whose server gave up.
	start_activator euidzerol 0666 "$SERVER" --no-goodbye
	traced -f -qq -o "$WORK/strace2" -e inject=fsopen:error=ENOSYS -u nobody \
		"$h" src "$MNT" -t fuse.euidzerol -o "backing=$WORK/backing" 2>"$WORK/err"
	euid0_syscalls "$WORK/strace2" >"$WORK/euid0b"
	echo "with mount(2) and a detach:"
	sed -n 's/^scoped\t/  /p' "$WORK/euid0b"
	check "mount(2) path: euid 0 only for fsopen, mount and the detach" \
		[ "$(sed -n 's/^scoped\t//p' "$WORK/euid0b" | tr '\n' ' ')" = "fsopen mount umount2 " ]
	check "mount(2) path: the mount was made and removed again" grep -q '^[0-9]* *umount2(.*MNT_DETACH) = 0' "$WORK/strace2"
	check "nothing left" nothing_left
}

# --- fuse.conf ----------------------------------------------------------------

t_conf_user_allow_other() {
	write_conf "# test" "user_allow_other"
	chown nobody "$MNT"
	start_activator confao 0666 "$SERVER"
	run_helper_nobody src "$MNT" -t fuse.confao -o allow_other
	check "helper exits 0" [ "$RC" = 0 ]
	check "mounted with allow_other" bash -c "grep ' $MNT ' /proc/self/mountinfo | grep -q allow_other"
	check "root reads a mount of nobody" [ "$(cat "$MNT/data")" = "hello" ]
	umount "$MNT"
	rm -f "$CONF"
	start_server confao2 0666
	run_helper_nobody src "$MNT" -t fuse.confao2
	check "without fuse.conf: the hello offers nobody nothing" report_has "HELLO allow_other=0 fuseblk=0"
	umount "$MNT"
	start_server confao3 0666
	write_conf "user_allow_other"
	run_helper_nobody src "$MNT" -t fuse.confao3
	check "with user_allow_other: the hello offers nobody ALLOW_OTHER" report_has "HELLO allow_other=1 fuseblk=0"
	umount "$MNT"
}

t_conf_mount_max() {
	write_conf "mount_max = 0"
	chown nobody "$MNT"
	start_activator maxm 0666 "$SERVER"
	run_helper_nobody src "$MNT" -t fuse.maxm
	check "refused: exit 1" [ "$RC" = 1 ]
	check "message" err_has "too many FUSE filesystems mounted; mount_max=N can be set in $CONF"
	check "no mount" bash -c "! grep -q ' $MNT ' /proc/self/mountinfo"
	check "nothing left" nothing_left
}

t_conf_bad_lines() {
	write_conf "# comment" "bogus_key" "  user_allow_other   # trailing" "mount_max = -7" "mount_max = 10"
	chown nobody "$MNT"
	start_server confbad 0666
	run_helper_nobody src "$MNT" -t fuse.confbad
	check "bad line reported with file and line" err_has "fuservicemount3: $CONF:2: unknown parameter 'bogus_key'"
	check "invalid mount_max reported" err_has "fuservicemount3: $CONF:4: invalid mount_max = -7"
	check "good lines still apply" report_has "HELLO allow_other=1 fuseblk=0"
	check "still exits 0" [ "$RC" = 0 ]
	umount "$MNT"
}

# only a regular fuse.conf that root alone controls counts, and a bad line
# is shown as a short excerpt.
t_conf_hardening() {
	local conf_dir
	conf_dir=$(dirname "$CONF")
	mkdir -p "$conf_dir"
	CONF_WRITTEN=1
	chown nobody "$MNT"
	printf 'user_allow_other\n' >"$WORK/real.conf"
	rm -f "$CONF"
	ln -s "$WORK/real.conf" "$CONF"
	start_server confsym 0666
	run_helper_nobody src "$MNT" -t fuse.confsym
	check "symlink: ignored" report_has "HELLO allow_other=0 fuseblk=0"
	check "symlink: message" err_has "fuservicemount3: $CONF:0: is a symbolic link; ignored"
	umount "$MNT"
	rm -f "$CONF"

	write_conf user_allow_other
	chown nobody "$CONF"
	start_server confown 0666
	run_helper_nobody src "$MNT" -t fuse.confown
	check "owned by nobody: ignored" report_has "HELLO allow_other=0 fuseblk=0"
	check "owned by nobody: message" err_has "$CONF:0: not owned by root or writable by others; ignored"
	umount "$MNT"

	write_conf user_allow_other
	chown root "$CONF"
	chmod 0664 "$CONF"
	start_server confgw 0666
	run_helper_nobody src "$MNT" -t fuse.confgw
	check "group-writable: ignored" report_has "HELLO allow_other=0 fuseblk=0"
	umount "$MNT"

	write_conf 'root:$y$j9T$SecretSaltAndHash:19000:0:99999:7:::' user_allow_other
	chmod 0644 "$CONF"
	start_server confsecret 0666
	run_helper_nobody src "$MNT" -t fuse.confsecret
	check "a bad line shows only its first word" err_has "fuservicemount3: $CONF:1: unknown parameter 'root...'"
	check "never the rest of it" bash -c "! grep -q Secret '$WORK/err'"
	check "good lines still apply" report_has "HELLO allow_other=1 fuseblk=0"
	umount "$MNT"
}

# --- opening files for the server ---------------------------------------------

# a failing fstat() is reported as itself, not judged from an unset struct.
t_bdev_fstat_fails() {
	echo x >"$WORK/img"
	start_server bdevfstat 0600
	# In a sanitized build the shim comes before the ASan runtime: allow it.
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		FSVC_SHIM_FSTAT_FAIL=$WORK/img LD_PRELOAD=$SHIM run_helper src "$MNT" -t fuse.bdevfstat -o "bdev=$WORK/img"
	check "fstat's EIO in the reply" report_has "BDEV $WORK/img -> 5"
	check "message" err_has "fuservicemount3: $WORK/img: Input/output error"
	umount "$MNT"
}

# SECURITY.md, finding 6: OPEN of a caller-named FIFO must not block the helper in open()
# past its timeouts. The outer timeout only guards the test run.
open_fifo_case() { # SUBTYPE HELPER [setpriv ARGS...]
	local sub=$1 h=$2
	shift 2
	mkfifo -m 0666 "$WORK/fifo"
	start_server "$sub" 0666
	echo x >"$WORK/file"
	chmod 0644 "$WORK/file"
	timeout 20 "$@" "$h" src "$MNT" -t "fuse.$sub" -o "file=$WORK/fifo,bdev=$WORK/fifo,backing=$WORK/file" \
		>"$WORK/out" 2>"$WORK/err"
	RC=$?
	check "$sub: the helper did not hang in open() (exit 0, not killed)" [ "$RC" = 0 ]
	check "$sub: OPEN of a FIFO: EINVAL, no fd" report_has "OPEN $WORK/fifo -> 22"
	check "$sub: BDEV of a FIFO: ENOTBLK, no fd" report_has "BDEV $WORK/fifo -> 15"
	check "$sub: message" err_has "fuservicemount3: $WORK/fifo: not a regular file, directory or block device"
	check "$sub: a regular file still opens" report_has "OPEN $WORK/file -> 0"
	umount "$MNT"
}

t_root_open_fifo() { open_fifo_case rootfifo "$HELPER"; }

t_nonroot_open_fifo() {
	chmod 0666 /dev/fuse
	chown nobody "$MNT"
	open_fifo_case nrfifo "$(setuid_helper)" setpriv --reuid=nobody --regid=nogroup --clear-groups
}

# SECURITY.md, finding 5: OPEN never hands the server the helper's own process: not its
# /proc/self or /proc/<pid> entries (an ASLR leak, a writable timer slack),
# nor its descriptors through /proc/self/fd, /dev/fd or /dev/std*. The
# caller names /proc/<pid> of the helper by exec'ing it from that pid.
open_proc_self_case() { # SUBTYPE HELPER [setpriv ARGS...]
	local sub=$1 h=$2 l
	shift 2
	start_server "$sub" 0666
	echo x >"$WORK/file"
	chmod 0644 "$WORK/file"
	# file=/opath= name the files the server asks for (opath: with O_PATH).
	timeout 20 "$@" bash -c 'exec "$0" src "$1" -t "fuse.$2" -o "file=/proc/self/maps,file=/proc/thread-self/maps,file=/proc/self/timerslack_ns,file=/proc/self/fd/0,opath=/proc/self/fd/3,file=/dev/fd/0,file=/dev/stdin,file=/proc/$$/maps,file=/proc/$$/fd/0,backing=$3"' \
		"$h" "$MNT" "$sub" "$WORK/file" >"$WORK/out" 2>"$WORK/err" </dev/null
	RC=$?
	check "$sub: exit 0" [ "$RC" = 0 ]
	for l in /proc/self/maps /proc/thread-self/maps /proc/self/timerslack_ns; do
		check "$sub: $l: EPERM, no fd" report_has "OPEN $l -> 1"
	done
	for l in /proc/self/fd/0 /proc/self/fd/3 /dev/fd/0 /dev/stdin; do
		check "$sub: $l: ELOOP (no magic links), no fd" report_has "OPEN $l -> 40"
	done
	check "$sub: /proc/<helper pid>/maps: EPERM, no fd" grep -qE '^OPEN /proc/[0-9]+/maps -> 1$' "$WORK/report"
	check "$sub: /proc/<helper pid>/fd/0: ELOOP, no fd" grep -qE '^OPEN /proc/[0-9]+/fd/0 -> 40$' "$WORK/report"
	check "$sub: message" err_has "fuservicemount3: /proc/self/maps: a file in procfs is not handed to a server"
	check "$sub: a regular file still opens" report_has "OPEN $WORK/file -> 0"
	umount "$MNT"
}

t_root_open_proc_self() { open_proc_self_case rootprocself "$HELPER"; }

t_nonroot_open_proc_self() {
	chmod 0666 /dev/fuse
	chown nobody "$MNT"
	open_proc_self_case nrprocself "$(setuid_helper)" setpriv --reuid=nobody --regid=nogroup --clear-groups
}

# --- the mountpoint -----------------------------------------------------------

# a mountpoint the kernel reports as deleted is refused.
t_mntp_deleted() {
	mkdir "$WORK/gone"
	start_in_dir "$WORK/gone" sleep 300
	local mnt=/proc/$BG_PID/cwd
	rmdir "$WORK/gone"
	start_activator mntpdel 0600 "$SERVER"
	run_helper src "$mnt" -t fuse.mntpdel
	check "refused: exit 1" [ "$RC" = 1 ]
	check "message" err_has "fuservicemount3: $mnt: mount point has been deleted"
	check "nothing left" nothing_left
}

# --- a server that vanishes after the mount -----------------------------------

t_no_goodbye_after_mount() {
	start_activator nobye 0600 "$SERVER" --no-goodbye
	run_helper src "$MNT" -t fuse.nobye
	check "exit 1" [ "$RC" = 1 ]
	check "message" err_has "fuse server exited without saying goodbye"
	check "the mount was removed again" nothing_left
}

# --- timeouts -----------------------------------------------------------------

t_timeout_root_only() {
	start_server tmonr 0666
	run_helper_nobody src "$MNT" -t fuse.tmonr --timeout=1
	check "exit 1" [ "$RC" = 1 ]
	check "message" err_has "fuservicemount3: --timeout: only root may change the server timeout"
	check "never connected" bash -c "! grep -q HELLO '$WORK/report'"
}

# --- command line -------------------------------------------------------------

t_argv_memfd() {
	start_server argv 0600
	run_helper src "$MNT" -o a=1,b --timeout=30 -t fuseblk.argv -n
	check "subtype first, -t pair and helper flags removed" report_has "ARGV argv|src|$MNT|-o|a=1,b|-n"
}

t_check_mode() {
	start_activator chk 0600 "$SERVER"
	run_helper -t fuse.chk --check
	check "root: socket exists" [ "$RC" = 0 ]
	run_helper -t fuse.chknone --check
	check "no socket" [ "$RC" = 1 ]
	run_helper_nobody -t fuse.chk --check
	check "nobody may not write to a 0600 socket" [ "$RC" = 1 ]
	run_helper_nobody src "$MNT" -t fuse.chk
	check "connect is done as the caller: EACCES on a 0600 socket" err_has "chk: Permission denied"
	chmod 0666 "$SOCKDIR/chk"
	run_helper_nobody -t fuse.chk --check
	check "nobody may use a 0666 socket" [ "$RC" = 0 ]
}

t_usage() {
	run_helper --help
	check "--help exits 0" [ "$RC" = 0 ]
	check "--help prints usage" grep -q "Usage: fuservicemount3 SOURCE MOUNTPOINT -t" "$WORK/out"
	run_helper --version
	check "--version" grep -q "fuservicemount3 version" "$WORK/out"
	run_helper src "$MNT"
	check "no type" err_has "fuservicemount3: cannot determine filesystem type"
	run_helper src "$MNT" -t fuse.a/b
	check "subtype with a slash" err_has "fs subtype cannot contain path separators"
	check "exit 1" [ "$RC" = 1 ]
	run_helper src "$MNT" -t fuse.nosuchservice
	check "no such service" err_has "fuservicemount3: no safe filesystem driver for nosuchservice available"
}

# --- setuid hygiene -----------------------------------------------------------

t_hygiene_process() {
	chown nobody "$MNT"
	# A slow server: the helper waits for it, connected, for 3 s.
	start_server hyg 0666 --delay=3000
	local h
	h=$(setuid_helper)
	chmod 0666 /dev/fuse
	echo junk >"$WORK/inherited"
	# The subshell becomes setpriv, then the helper: $! is the helper's pid.
	( exec 7<"$WORK/inherited"; umask 077; exec setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$h" src "$MNT" -t fuse.hyg >&- 2>"$WORK/err" ) &
	local pid=$! i
	for i in $(seq 1 200); do
		grep -q '^HELLO' "$WORK/report" && break
		sleep 0.05
	done
	check "the helper is talking to the server" grep -q '^HELLO' "$WORK/report"
	check "fd 1 reopened on /dev/null" [ "$(readlink "/proc/$pid/fd/1")" = /dev/null ]
	check "inherited fd 7 closed" [ ! -e "/proc/$pid/fd/7" ]
	check "umask fixed at 022" grep -q "^Umask:.*0022" "/proc/$pid/status"
	check "no core dumps" grep -q "^Max core file size *0 *0" "/proc/$pid/limits"
	wait $pid
	check "mounted after all" is_mounted "$MNT"
	umount "$MNT"
}

t_hygiene_env_and_utab() {
	echo hi >"$WORK/backing"
	start_activator envutab 0600 "$SERVER"
	unshare -m --propagation private env BUILD="$BUILD" WORK="$WORK" MNT="$MNT" HELPER="$HELPER" bash -c '
		mount -t tmpfs tmpfs /run/mount || exit 10
		LIBMOUNT_UTAB="$WORK/fake-utab" "$HELPER" src "$MNT" -t fuse.envutab -o x-fsvc-test=yes 2>"$WORK/err" || exit 11
		[ -e "$WORK/fake-utab" ] && exit 15
		grep -q "TARGET=$MNT .*x-fsvc-test=yes" /run/mount/utab || exit 12
		umount "$MNT"
		"$HELPER" src "$MNT" -t fuse.envutab -o x-fsvc-test=yes -n 2>>"$WORK/err" || exit 13
		grep -q "TARGET=$MNT " /run/mount/utab && exit 14
		umount "$MNT"
		exit 0'
	local rc=$?
	check "utab records x- options where the system keeps it (LIBMOUNT_UTAB in the caller's environment is ignored), -n suppresses it (rc=$rc)" [ $rc = 0 ]
}

t_installed_wrongly() {
	mkdir -p "$WORK/bad"
	chmod 755 "$WORK/bad"
	cp "$HELPER" "$WORK/bad/h1"
	chown nobody:nogroup "$WORK/bad/h1"
	chmod 4755 "$WORK/bad/h1"
	"$WORK/bad/h1" -t fuse.x --check 2>"$WORK/err"
	check "setuid to a non-root user refused" err_has "installed setuid or setgid to a user other than root"
	cp "$HELPER" "$WORK/bad/h2"
	chown root:root "$WORK/bad/h2"
	chmod 4757 "$WORK/bad/h2"
	as_nobody "$WORK/bad/h2" -t fuse.x --check 2>"$WORK/err"
	check "setuid and world-writable refused" err_has "installed setuid and writable by others"
}

# A file the helper creates for the caller (OPEN with O_CREAT) gets the
# caller's umask, not the helper's own 022.
t_nonroot_create_umask() {
	mkdir "$WORK/made"
	chown nobody "$WORK/made" "$MNT"
	start_activator nrumask 0666 "$SERVER"
	local h m
	h=$(setuid_helper)
	chmod 0666 /dev/fuse
	for m in 077:600 002:664; do
		(umask "${m%:*}" && exec timeout 120 setpriv --reuid=nobody --regid=nogroup --clear-groups \
			"$h" src "$MNT" -t fuse.nrumask -o "create=$WORK/made/f${m%:*}") 2>"$WORK/err"
		check "umask ${m%:*}: helper exits 0" [ $? = 0 ]
		check "umask ${m%:*}: created as nobody, mode ${m#*:}" \
			[ "$(stat -c %U:%a "$WORK/made/f${m%:*}")" = "nobody:${m#*:}" ]
		umount "$MNT"
	done
	check "nothing left" nothing_left
}

# With close_range() unavailable (a seccomp filter: ENOSYS), the fallback
# still closes an inherited fd far above 1024.
t_close_range_fallback() {
	start_activator nocr 0666 sleep 3
	local h pid i
	h=$(setuid_helper)
	chmod 0666 /dev/fuse
	echo junk >"$WORK/inherited"
	ulimit -n 4096
	(exec 3000<"$WORK/inherited" && exec "$NO_CLOSE_RANGE" setpriv --reuid=nobody --regid=nogroup \
		--clear-groups "$h" src "$MNT" -t fuse.nocr 2>"$WORK/err") &
	pid=$!
	# The helper waits for the server's hello (it sleeps instead): look at its fds.
	for i in $(seq 1 100); do
		find "/proc/$pid/fd" -lname 'socket:*' 2>/dev/null | grep -q . && break
		sleep 0.05
	done
	check "close_range is denied under the wrapper" grep -q '^Seccomp:[[:space:]]*2' "/proc/$pid/status"
	check "the helper is running, connected to the server" \
		bash -c "find /proc/$pid/fd -lname 'socket:*' | grep -q ."
	check "inherited fd 3000 closed" [ ! -e "/proc/$pid/fd/3000" ]
	wait "$pid"
	check "nothing left" nothing_left
}

# --- new mount API and mount(2) -----------------------------------------------

t_new_mount_api() {
	start_activator newapi 0600 "$SERVER"
	traced -f -o "$WORK/strace" -e trace=fsopen,fsconfig,fsmount,move_mount,mount \
		"$HELPER" src "$MNT" -t fuse.newapi -o ro 2>"$WORK/err"
	check "mounted" is_mounted "$MNT"
	check "fsopen used" grep -q 'fsopen("fuse"' "$WORK/strace"
	check "subtype set explicitly" grep -q 'fsconfig(.*"subtype", "newapi"' "$WORK/strace"
	check "moved onto the pinned fd" grep -q 'move_mount(.*MOVE_MOUNT_T_EMPTY_PATH' "$WORK/strace"
	check "no mount(2)" bash -c "! grep -q '^[0-9]* *mount(' '$WORK/strace'"
	check "ro applied" bash -c "grep ' $MNT ' /proc/self/mountinfo | grep -q '^[^ ]* [^ ]* [^ ]* [^ ]* [^ ]* ro,'"
	check "reads" [ "$(cat "$MNT/data")" = hello ]
	umount "$MNT"
	check "nothing left" nothing_left
}

t_legacy_fallback() {
	start_activator legacy 0600 "$SERVER"
	traced -f -o "$WORK/strace" -e trace=fsopen,mount -e inject=fsopen:error=ENOSYS \
		"$HELPER" src "$MNT" -t fuse.legacy 2>"$WORK/err"
	check "mount(2) used" grep -q 'mount("legacy", ".", "fuse.legacy", MS_NOSUID|MS_NODEV' "$WORK/strace"
	check "mounted with its subtype" bash -c "grep -q ' $MNT .* - fuse.legacy ' /proc/self/mountinfo"
	check "reads" [ "$(cat "$MNT/data")" = hello ]
	umount "$MNT"
	check "nothing left" nothing_left
}

t_legacy_detach_after_failure() {
	start_activator legnobye 0600 "$SERVER" --no-goodbye
	traced -f -o "$WORK/strace" -e trace=fsopen,mount,umount2 -e inject=fsopen:error=ENOSYS \
		"$HELPER" src "$MNT" -t fuse.legnobye 2>"$WORK/err"
	check "mount(2) used" grep -q 'mount("legnobye"' "$WORK/strace"
	check "detached again" grep -q 'umount2("/proc/self/fd/[0-9]*", MNT_DETACH) = 0' "$WORK/strace"
	check "nothing left" nothing_left
	# The same for a regular file covered by the new mount's root.
	echo x >"$WORK/file"
	start_activator legnobyef 0600 "$SERVER" --file-root --no-goodbye
	traced -f -o "$WORK/strace2" -e trace=fsopen,mount,umount2 -e inject=fsopen:error=ENOSYS \
		"$HELPER" src "$WORK/file" -t fuse.legnobyef 2>"$WORK/err"
	check "file: mount(2) used" grep -q 'mount("legnobyef", "/proc/self/fd/' "$WORK/strace2"
	check "file: detached again" grep -q 'umount2("/proc/self/fd/[0-9]*", MNT_DETACH) = 0' "$WORK/strace2"
	check "file: nothing left" nothing_left
}

# after mount(2), a parent directory swapped for a symlink must not make
# the helper detach someone else's mount of the same type when it cleans up.
t_legacy_detach_not_redirected() {
	mkdir -p "$WORK/victim/mnt" "$WORK/att/x/mnt"
	cat >"$WORK/srv.sh" <<SRV
#!/bin/bash
if [ -e "$WORK/attack" ]; then
	exec "$SERVER" --no-goodbye
fi
exec "$SERVER"
SRV
	chmod 755 "$WORK/srv.sh"
	start_activator redirect 0600 "$WORK/srv.sh"
	run_helper src "$WORK/victim/mnt" -t fuse.redirect
	check "the victim's mount" [ "$(cat "$WORK/victim/mnt/data")" = hello ]
	touch "$WORK/attack"
	# mount(2) forced; every readlink() returns 4 s late, leaving time to swap
	# a directory while the helper looks for its new mount.
	traced -f -o "$WORK/strace" -e trace=fsopen,mount,readlink,readlinkat,umount2 \
		-e inject=fsopen:error=ENOSYS -e inject=readlink,readlinkat:delay_exit=4000000 \
		"$HELPER" src "$WORK/att/x/mnt" -t fuse.redirect 2>"$WORK/err" &
	local h=$! i
	for i in $(seq 1 400); do
		is_mounted "$WORK/att/x/mnt" && break
		sleep 0.05
	done
	check "the attacker's mount was made with mount(2)" is_mounted "$WORK/att/x/mnt"
	sleep 1 # the helper is now inside its delayed readlink()
	mv "$WORK/att/x" "$WORK/att/x.old"
	ln -s ../victim "$WORK/att/x"
	wait $h
	RC=$?
	check "the helper failed (no goodbye)" [ "$RC" = 1 ]
	check "the victim's mount is still there" is_mounted "$WORK/victim/mnt"
	check "and still serves" [ "$(cat "$WORK/victim/mnt/data")" = hello ]
	check "the helper says it could not find its mount" err_has "cannot find the new mount again to remove it"
}

# OPTS of exactly LEN bytes that the new mount API accepts.
padded_opts() {
	local len=$1 s=""
	while [ $((${#s} + 20 + 28)) -le "$len" ]; do
		s+="default_permissions,"
	done
	local digits=$((len - ${#s} - 9))
	s+="max_read=$(printf "%0${digits}d" 131072)"
	printf %s "$s"
}

t_page_limit_legacy() {
	local opts
	opts=$(padded_opts 4068)
	start_activator pagelegacy 0600 "$SERVER"
	# The server passes the caller's options on as OPTS, as they are.
	traced -f -o "$WORK/strace" -e trace=fsopen,mount -e inject=fsopen:error=ENOSYS \
		"$HELPER" src "$MNT" -t fuse.pagelegacy -o "$opts" 2>"$WORK/err"
	RC=$?
	check "refused: exit 1" [ "$RC" = 1 ]
	check "message" err_has "fuservicemount3: mount options too long for mount(2)"
	check "mount(2) not even tried" bash -c "! grep -q '^[0-9]* *mount(' '$WORK/strace'"
	check "nothing mounted" bash -c "! grep -q ' $MNT ' /proc/self/mountinfo"
}

# --- the mount table (utab) ---------------------------------------------------

# utab_ns SCRIPT: run SCRIPT in a private mount namespace with an empty
# /run/mount of its own, so the host's utab is never read or written.
utab_ns() {
	unshare -m --propagation private env WORK="$WORK" MNT="$MNT" HELPER="$HELPER" \
		SETUID_HELPER="$(setuid_helper)" bash -c '
		mount -t tmpfs tmpfs /run/mount || exit 10
		nb() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
		'"$1"
}

# SECURITY.md, findings 2 and 3: a caller other than root never gets a utab record, so
# the setuid process it may signal never holds the utab lock, and x-*
# options of any length cannot fill /run. umount(8) and fusermount3 -u
# unmount such a mount without one (libmount's rule for FUSE: user_id=).
t_nonroot_no_utab() {
	echo data >"$WORK/backing"
	chmod 0644 "$WORK/backing"
	chown nobody "$MNT"
	chmod 0666 /dev/fuse
	start_activator nrutab 0666 "$SERVER"
	local big
	big=$(head -c 60000 /dev/zero | tr '\0' a)
	utab_ns '
		nb "$SETUID_HELPER" src "$MNT" -t fuse.nrutab -o "backing=$WORK/backing,x-a=1,x-big='"$big"'" 2>"$WORK/err" || exit 11
		grep -q " $MNT " /proc/self/mountinfo || exit 12
		[ -e /run/mount/utab ] && exit 13
		[ -e /run/mount/utab.lock ] && exit 14
		nb umount "$MNT" || exit 15
		grep -q " $MNT " /proc/self/mountinfo && exit 16
		nb "$SETUID_HELPER" src "$MNT" -t fuse.nrutab -o "backing=$WORK/backing,x-a=1" 2>>"$WORK/err" || exit 17
		nb fusermount3 -u "$MNT" || exit 18
		grep -q " $MNT " /proc/self/mountinfo && exit 19
		[ -e /run/mount/utab ] && exit 20
		exit 0'
	local rc=$?
	check "nobody: no utab record nor lock, even for 60 KB of x- options; umount and fusermount3 -u still work (rc=$rc)" [ $rc = 0 ]
	check "nothing left" nothing_left
}

# SECURITY.md, finding 2: root's record is written by a child whose ids are all 0, and
# waited for within the deadline: a utab lock held elsewhere cannot hang
# the helper (nor, through it, mount(8) and boot).
t_root_utab_bounded() {
	echo data >"$WORK/backing"
	start_activator rootutab 0600 "$SERVER"
	utab_ns '
		touch /run/mount/utab.lock
		flock /run/mount/utab.lock sleep 60 </dev/null >/dev/null 2>&1 &
		holder=$!
		sleep 0.3
		start=$(date +%s)
		timeout 30 "$HELPER" src "$MNT" -t fuse.rootutab --timeout=1 -o "backing=$WORK/backing,x-a=1" 2>"$WORK/err"
		rc=$?
		took=$(( $(date +%s) - start ))
		kill $(pgrep -P $holder) $holder
		echo "rc=$rc took=${took}s" >"$WORK/result"
		[ $rc = 0 ] || exit 11
		[ $took -le 8 ] || exit 12
		grep -q " $MNT " /proc/self/mountinfo || exit 13
		umount "$MNT"
		# Without the lock held, the record is written as before.
		"$HELPER" src "$MNT" -t fuse.rootutab -o "backing=$WORK/backing,x-b=2" 2>>"$WORK/err" || exit 14
		grep -q "TARGET=$MNT .*x-b=2" /run/mount/utab || exit 15
		umount "$MNT"
		exit 0'
	local rc=$?
	check "root: a held utab lock does not hang the helper past its deadline (rc=$rc, $(cat "$WORK/result" 2>/dev/null))" [ $rc = 0 ]
	check "message" err_has "fuservicemount3: $MNT: the mount table stayed locked; the mount was not recorded"
	check "nothing left" nothing_left
}

# --- the mount(8) front end ---------------------------------------------------

frontend_ns() { # SCRIPT: run in a private mount namespace where mount(8) finds our front end
	unshare -m --propagation private env BUILD="$BUILD" WORK="$WORK" MNT="$MNT" FRONTEND="$FRONTEND" bash -c '
		mount --bind "$FRONTEND" "$(readlink -f /sbin/mount.fuse)" || exit 10
		'"$1"
}

t_frontend_mount8() {
	echo "via mount8" >"$WORK/backing"
	start_activator fe8 0600 "$SERVER"
	frontend_ns '
		mount -t fuse.fe8 src "$MNT" -o "backing=$WORK/backing" 2>"$WORK/err" || exit 11
		[ "$(cat "$MNT/data")" = "via mount8" ] || exit 12
		grep " $MNT " /proc/self/mountinfo | grep -q nosuid || exit 13
		umount "$MNT" || exit 14'
	local rc=$?
	check "mount -t fuse.fe8 mounts through the service, nosuid unlike mount(8): the image is untrusted (rc=$rc)" [ $rc = 0 ]
	check "nothing left" nothing_left
}

t_frontend_fstab() {
	start_activator fefstab 0600 "$SERVER"
	echo "fstabsrc $MNT fuse.fefstab defaults,nofail,noexec 0 0" >"$WORK/fstab"
	frontend_ns '
		mount -T "$WORK/fstab" "$MNT" 2>"$WORK/err" || exit 11
		[ "$(cat "$MNT/data")" = "hello" ] || exit 12
		grep " $MNT " /proc/self/mountinfo | grep -q noexec || exit 13
		umount "$MNT" || exit 14'
	local rc=$?
	check "an fstab line mounts through the service (rc=$rc)" [ $rc = 0 ]
	check "nothing left" nothing_left
}

t_frontend_classic() {
	mkdir -p "$WORK/path"
	cat >"$WORK/path/fsvc-classic-probe" <<'PROBE'
#!/bin/sh
printf '%s\n' "$@" >"$PROBE_OUT"
PROBE
	chmod 755 "$WORK/path/fsvc-classic-probe"
	PATH=$WORK/path:$PATH PROBE_OUT=$WORK/probe "$FRONTEND" src "$MNT" -o foo,nofail,nosuid -t fuse.fsvc-classic-probe
	check "no socket: runs the program like mount.fuse3" \
		[ "$(tr '\n' ' ' <"$WORK/probe")" = "src $MNT -o foo,nosuid,dev " ]
	PATH=$WORK/path:$PATH PROBE_OUT=$WORK/probe2 "$FRONTEND" "fsvc-classic-probe#src2" "$MNT" -t fuse
	check "PROGRAM#SOURCE form" [ "$(tr '\n' ' ' <"$WORK/probe2")" = "src2 $MNT -o dev,suid " ]
}

# setuid= and drop_privileges never go to a service (as with mount.fuse3).
t_frontend_setuid() {
	mkdir -p "$WORK/path"
	chmod 755 "$WORK/path"
	cat >"$WORK/path/fesetuid" <<'PROBE'
#!/bin/sh
echo "uid=$(id -u) args=$*"
PROBE
	chmod 755 "$WORK/path/fesetuid"
	start_server fesetuid 0600
	PATH=$WORK/path:$PATH "$FRONTEND" src "$MNT" -o setuid=nobody,foo -t fuse.fesetuid \
		>"$WORK/probe" 2>"$WORK/err"
	check "setuid=: the classic program runs, as that user" \
		[ "$(cat "$WORK/probe")" = "uid=65534 args=src $MNT -o foo,dev,suid" ]
	check "setuid=: the service is not used" bash -c "! grep -q HELLO '$WORK/report'"
	PATH=$WORK/path:$PATH "$FRONTEND" src "$MNT" -o drop_privileges -t fuse.fesetuid \
		>"$WORK/probe2" 2>"$WORK/err"
	RC=$?
	check "drop_privileges: refused" [ "$RC" = 1 ]
	check "drop_privileges: message" err_has "mount.fuse-service: drop_privileges is not supported"
	check "drop_privileges: neither the service" bash -c "! grep -q HELLO '$WORK/report'"
	check "drop_privileges: nor the program" [ ! -s "$WORK/probe2" ]
}

if ! declare -F "t_$CASE" >/dev/null; then
	echo "unknown case $CASE" >&2
	exit 2
fi
"t_$CASE"
finish
