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

# --- root, end to end -------------------------------------------------------

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

# --- non-root ---------------------------------------------------------------

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

t_nonroot_fuseblk() {
	chown nobody "$MNT"
	start_fake nrblk hello files type:1 bye:0
	run_helper_nobody src "$MNT" -t fuse.nrblk
	wait_fake_done
	check "hello offers nothing to nobody" log_has "HELLO flags=0"
	check "fuseblk refused with EPERM" log_has "TYPE -> 1"
	check "message" err_has "fuservicemount3: fuseblk requires root privilege"
}

t_root_fuseblk_hello() {
	start_fake rootblk hello files type:1 bye:0
	run_helper src "$MNT" -t fuse.rootblk
	wait_fake_done
	check "root: ALLOW_OTHER|FUSEBLK" log_has "HELLO flags=3"
	check "root may ask for fuseblk" log_has "TYPE -> 0"
}

t_nonroot_allow_other() {
	chown nobody "$MNT"
	start_fake nrao hello files opts:allow_root opts:allow_other opts:default_permissions bye:0
	run_helper_nobody src "$MNT" -t fuse.nrao
	wait_fake_done
	check "allow_root refused" bash -c "[ \"\$(grep -c '^OPTS -> 1$' '$WORK/fake.log')\" = 2 ]"
	check "harmless options accepted" log_has "OPTS -> 0"
	check "message" err_has "fuservicemount3: option allow_other only allowed if 'user_allow_other' is set in $CONF"
}

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
	start_fake confao2 hello files bye:0
	write_conf "user_allow_other"
	run_helper_nobody src "$MNT" -t fuse.confao2
	wait_fake_done
	check "hello offers ALLOW_OTHER to nobody" log_has "HELLO flags=1"
}

t_conf_mount_max() {
	write_conf "mount_max = 0"
	chown nobody "$MNT"
	start_fake maxm hello files type:0 name:src "mntp:0x4000:$MNT" doit:6 bye:0
	run_helper_nobody src "$MNT" -t fuse.maxm
	wait_fake_done
	check "EUSERS" log_has "DOIT -> 87"
	check "message" err_has "too many FUSE filesystems mounted; mount_max=N can be set in $CONF"
	check "no mount" bash -c "! grep -q ' $MNT ' /proc/self/mountinfo"
}

t_conf_bad_lines() {
	write_conf "# comment" "bogus_key" "  user_allow_other   # trailing" "mount_max = -7" "mount_max = 10"
	chown nobody "$MNT"
	start_fake confbad hello files bye:0
	run_helper_nobody src "$MNT" -t fuse.confbad
	wait_fake_done
	check "bad line reported with file and line" err_has "fuservicemount3: $CONF:2: unknown parameter 'bogus_key'"
	check "invalid mount_max reported" err_has "fuservicemount3: $CONF:4: invalid mount_max = -7"
	check "good lines still apply" log_has "HELLO flags=1"
	check "still exits 0" [ "$RC" = 0 ]
}

nonroot_doit_case() { # SUBTYPE MOUNTPOINT FMT EXPECTED_LINE MESSAGE
	start_fake "$1" hello files type:0 name:src "mntp:$3:$2" doit:6 bye:0
	run_helper_nobody src "$2" -t "fuse.$1"
	wait_fake_done
	check "$1: $4" log_has "$4"
	check "$1: message" err_has "$5"
	check "$1: nothing mounted" bash -c "! grep -q ' $2 ' /proc/self/mountinfo"
}

t_nonroot_no_write_access() {
	chmod 0755 "$MNT"
	nonroot_doit_case nrnowrite "$MNT" 0x4000 "DOIT -> 1" "user has no write access to mountpoint $MNT"
}

t_nonroot_sticky_dir() {
	chmod 1777 "$MNT"
	nonroot_doit_case nrsticky "$MNT" 0x4000 "DOIT -> 1" "mountpoint $MNT not owned by user"
}

t_nonroot_procfs() {
	setpriv --reuid=nobody --regid=nogroup --clear-groups sleep 300 &
	local pid=$!
	nonroot_doit_case nrproc "/proc/$pid/comm" 0 "DOIT -> 1" "mounting over filesystem type 0x00009fa0 is forbidden"
	kill $pid
}

t_nonroot_mountpoint_lookup() {
	mkdir -m 0700 "$WORK/private"
	mkdir "$WORK/private/mnt"
	chown nobody "$WORK/private/mnt"
	start_fake nrlookup hello files "mntp:0x4000:$WORK/private/mnt" bye:0
	run_helper_nobody src "$WORK/private/mnt" -t fuse.nrlookup
	wait_fake_done
	check "the mountpoint is looked up as the caller: EACCES" log_has "MNTP -> 13"
}

t_nonroot_file_needs_write() {
	echo x >"$WORK/file"
	chmod 0644 "$WORK/file"
	start_fake nrfilew hello files "mntp:0x8000:$WORK/file" bye:0
	run_helper_nobody src "$WORK/file" -t fuse.nrfilew
	wait_fake_done
	check "EACCES for a file nobody cannot write" log_has "MNTP -> 13"
}

t_nonroot_open_as_caller() {
	echo secret >"$WORK/secret"
	chmod 0600 "$WORK/secret"
	chown nobody "$MNT"
	start_fake nropen hello files "open:$WORK/secret" "open-quiet:$WORK/secret" bye:0
	run_helper_nobody src "$MNT" -t fuse.nropen -o "backing=$WORK/secret"
	wait_fake_done
	check "opened with nobody's rights: EACCES" log_has "OPEN $WORK/secret -> 13 fd=0"
	check "one message, none for QUIET" bash -c "[ \"\$(grep -c 'Permission denied' '$WORK/err')\" = 1 ]"
}

# --- protocol rules (scripted peer) -------------------------------------------

t_mntp_in_argv() {
	mkdir "$WORK/other" "$WORK/optval"
	start_fake mntpargv hello files "mntp:0x4000:$WORK/other" "mntp:0x4000:$WORK/optval" "mntp:0x4000:$MNT" bye:0
	run_helper src "$MNT" -t fuse.mntpargv -o "x=$WORK/optval"
	wait_fake_done
	check "a path not on the command line: EINVAL" bash -c "[ \"\$(grep -c '^MNTP -> 22$' '$WORK/fake.log')\" = 2 ]"
	check "the positional mountpoint: accepted" log_has "MNTP -> 0"
	check "message" err_has "fuservicemount3: mount point must be in command line arguments"
}

t_mntp_format() {
	echo x >"$WORK/file"
	start_fake mntpfmt hello files "mntp:0x8000:$MNT" bye:0
	run_helper src "$MNT" -t fuse.mntpfmt
	wait_fake_done
	check "file expected, dir given: EISDIR" log_has "MNTP -> 21"
	start_fake mntpfmt2 hello files "mntp:0x4000:$WORK/file" bye:0
	run_helper src "$WORK/file" -t fuse.mntpfmt2
	wait_fake_done
	check "dir expected, file given: ENOTDIR" log_has "MNTP -> 20"
	start_fake mntpfmt3 hello files "mntp:0:$WORK/nonexistent" bye:0
	run_helper src "$WORK/nonexistent" -t fuse.mntpfmt3
	wait_fake_done
	check "missing: ENOENT" log_has "MNTP -> 2"
}

t_open_policy() {
	for f in a b c d; do echo "$f" >"$WORK/$f"; done
	start_fake openpol hello files "open:$WORK/a" "open:$WORK/b" "open:$WORK/c" "open:$WORK/d" open:/etc/hostname bye:0
	run_helper src "$MNT" -t fuse.openpol -o "ro,backing=$WORK/a" "--name=$WORK/b" "-X$WORK/c" "$WORK/d"
	wait_fake_done
	check "-o name=PATH" log_has "OPEN $WORK/a -> 0 fd=1"
	check "--name=PATH" log_has "OPEN $WORK/b -> 0 fd=1"
	check "-XPATH" log_has "OPEN $WORK/c -> 0 fd=1"
	check "verbatim argument" log_has "OPEN $WORK/d -> 0 fd=1"
	check "anything else: EPERM, no fd" log_has "OPEN /etc/hostname -> 1 fd=0"
	check "message" err_has "fuservicemount3: /etc/hostname: file must be in command line arguments"
}

t_bdev_not_block() {
	echo x >"$WORK/img"
	start_fake bdevnb hello files "bdev:$WORK/img" bye:0
	run_helper src "$MNT" -t fuse.bdevnb -o "dev=$WORK/img"
	wait_fake_done
	check "ENOTBLK" log_has "OPEN $WORK/img -> 15 fd=0"
}

t_repeats() {
	start_fake repeats hello files type:0 type:0 name:a name:b opts:default_permissions opts:default_permissions \
		mtab:x-a=1 mtab:x-a=1 "mntp:0x4000:$MNT" "mntp:0x4000:$MNT" bye:0
	run_helper src "$MNT" -t fuse.repeats
	wait_fake_done
	local c
	for c in TYPE NAME OPTS MTAB MNTP; do
		check "$c first accepted" log_has "$c -> 0"
		check "$c repeated: EINVAL" log_has "$c -> 22"
	done
	check "message" err_has "respecified"
}

t_doit_needs_name_and_mntp() {
	start_fake doitreq hello files doit:6 name:src doit:6 bye:0
	run_helper src "$MNT" -t fuse.doitreq
	wait_fake_done
	check "both refused" bash -c "[ \"\$(grep -c '^DOIT -> 22$' '$WORK/fake.log')\" = 2 ]"
	check "no source message" err_has "missing mount source parameter"
	check "no mountpoint message" err_has "missing mount point parameter"
}

t_malformed_commands() {
	start_fake malformed hello files \
		raw:545950450000000000 \
		raw:4f50454e00000000000000000000000000000000616263 \
		raw:4f50454e000000000000000000000002000000002f7800 \
		raw:4d4e545010000000"$(printf %s "$MNT" | xxd -p | tr -d '\n')"00 \
		raw:4d4e545040000001"$(printf %s "$MNT" | xxd -p | tr -d '\n')"00 \
		raw:4e414d45616263 \
		name:ok bye:0
	run_helper src "$MNT" -t fuse.malformed
	wait_fake_done
	check "malformed TYPE/MNTP/NAME: SIMPLE_REPLY EINVAL" bash -c "[ \"\$(grep -c '^RAW -> 22$' '$WORK/fake.log')\" = 4 ]"
	check "unterminated OPEN: OPEN_REPLY EINVAL for ?" log_has "RAW ? -> 22 fd=0"
	check "OPEN with unknown flags: OPEN_REPLY EINVAL for its path" log_has "RAW /x -> 22 fd=0"
	check "the conversation goes on" log_has "NAME -> 0"
	check "exit 0 after goodbye" [ "$RC" = 0 ]
}

fatal_packet_case() { # SUBTYPE STEP MESSAGE
	start_fake "$1" hello files "$2" wait-eof
	run_helper src "$MNT" -t "fuse.$1"
	wait_fake_done
	check "$1: helper hung up" log_has "EOF"
	check "$1: exit 1" [ "$RC" = 1 ]
	check "$1: message" err_has "$3"
}

t_unknown_magic() { fatal_packet_case unkmagic send-raw:5858585800000000 "unrecognized packet 0x58585858"; }
t_short_packet() { fatal_packet_case shortpkt send-raw:4142 "wrong command packet size 2"; }
t_big_packet() { fatal_packet_case bigpkt big:65537 "command packet larger than 65536 bytes"; }

t_hangup_without_goodbye() {
	start_fake hangup hello files
	run_helper src "$MNT" -t fuse.hangup
	check "exit 1" [ "$RC" = 1 ]
	check "message" err_has "fuservicemount3: fuse server exited without saying goodbye"
}

t_goodbye_codes() {
	start_fake byebad hello files bye:3
	run_helper src "$MNT" -t fuse.byebad
	check "BYEE 3: nonzero exit" [ "$RC" != 0 ]
	check "message" err_has "fuse server failed mount"
	start_fake byegood hello files bye:0
	run_helper src "$MNT" -t fuse.byegood
	check "BYEE 0: exit 0" [ "$RC" = 0 ]
}

t_no_goodbye_after_mount() {
	start_activator nobye 0600 "$SERVER" --no-goodbye
	run_helper src "$MNT" -t fuse.nobye
	check "exit 1" [ "$RC" = 1 ]
	check "message" err_has "fuse server exited without saying goodbye"
	check "the mount was removed again" nothing_left
}

t_bad_goodbye_after_mount() {
	chown nobody "$MNT"
	start_fake badbye hello files type:0 name:src "mntp:0x4000:$MNT" doit:6 bye:5
	run_helper_nobody src "$MNT" -t fuse.badbye
	wait_fake_done
	check "mount itself succeeded" log_has "DOIT -> 0"
	check "nonzero exit" [ "$RC" != 0 ]
	check "the mount was removed again" nothing_left
}

t_fd_push_refused() {
	start_fake fdpush hello files fdpush bye:0
	run_helper src "$MNT" -t fuse.fdpush
	wait_fake_done
	check "SO_PASSRIGHTS off: the server cannot send an fd (EPERM)" log_has "FDPUSH send=-1"
}

t_forbidden_kernel_options() {
	start_fake kopts hello files opts:fd=3 'opts:context="a,user_id=0"' opts:rootmode=40000 opts:subtype=evil opts:default_permissions bye:0
	run_helper src "$MNT" -t fuse.kopts
	wait_fake_done
	check "helper-owned options refused" bash -c "[ \"\$(grep -c '^OPTS -> 1$' '$WORK/fake.log')\" = 4 ]"
	check "others accepted" log_has "OPTS -> 0"
	check "message" err_has "mount option fd is set by the helper"
}

t_forbidden_ms_flags() {
	start_fake msflags hello files type:0 name:src "mntp:0x4000:$MNT" doit:0x1006 doit:0x26 bye:0
	run_helper src "$MNT" -t fuse.msflags
	wait_fake_done
	check "MS_BIND / MS_REMOUNT refused" bash -c "[ \"\$(grep -c '^DOIT -> 22$' '$WORK/fake.log')\" = 2 ]"
	check "nothing mounted" bash -c "! grep -q ' $MNT ' /proc/self/mountinfo"
}

t_mtab_user_forged() {
	chown nobody "$MNT"
	start_fake mtabuser hello files mtab:user=root mtab:user=nobody,x-a=1 bye:0
	run_helper_nobody src "$MNT" -t fuse.mtabuser
	wait_fake_done
	check "user= of someone else: EPERM" log_has "MTAB -> 1"
	check "user= of the caller: fine" log_has "MTAB -> 0"
}

# --- timeout --------------------------------------------------------------------

t_timeout_between_commands() {
	start_fake tmo hello files sleep:5000 bye:0
	run_helper src "$MNT" -t fuse.tmo --timeout=1
	check "exit 1" [ "$RC" = 1 ]
	check "message" err_has "fuservicemount3: fuse server sent nothing for 1 seconds; giving up"
}

t_timeout_hello() {
	start_fake tmohello sleep:5000
	run_helper src "$MNT" -t fuse.tmohello --timeout=1
	check "exit 1" [ "$RC" = 1 ]
	check "message" err_has "tmohello service did not answer the hello within 1 seconds"
}

t_timeout_root_only() {
	start_fake tmonr hello files bye:0
	run_helper_nobody src "$MNT" -t fuse.tmonr --timeout=1
	check "exit 1" [ "$RC" = 1 ]
	check "message" err_has "fuservicemount3: --timeout: only root may change the server timeout"
	check "never connected" bash -c "! grep -q HELLO '$WORK/fake.log'"
}

# --- command line -----------------------------------------------------------------

t_argv_memfd() {
	start_fake argv hello files bye:0
	run_helper src "$MNT" -o a=1,b --timeout=30 -t fuseblk.argv -n
	wait_fake_done
	check "subtype first, -t pair and helper flags removed" log_has "ARGV argv|src|$MNT|-o|a=1,b|-n"
}

t_check_mode() {
	start_activator chk 0600 "$FAKE" /dev/null
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

# --- setuid hygiene ---------------------------------------------------------------

t_hygiene_process() {
	chown nobody "$MNT"
	start_fake hyg hello files peer sleep:3000 bye:0
	local h
	h=$(setuid_helper)
	chmod 0666 /dev/fuse
	echo junk >"$WORK/inherited"
	( exec 7<"$WORK/inherited"; umask 077; exec setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$h" src "$MNT" -t fuse.hyg >&- 2>"$WORK/err" ) &
	local runner=$! i pid=""
	for i in $(seq 1 200); do
		pid=$(sed -n 's/^PEER pid=//p' "$WORK/fake.log")
		[ -n "$pid" ] && break
		sleep 0.05
	done
	check "fd 1 reopened on /dev/null" [ "$(readlink "/proc/$pid/fd/1")" = /dev/null ]
	check "inherited fd 7 closed" [ ! -e "/proc/$pid/fd/7" ]
	check "umask fixed at 022" grep -q "^Umask:.*0022" "/proc/$pid/status"
	check "no core dumps" grep -q "^Max core file size *0 *0" "/proc/$pid/limits"
	wait $runner
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

# --- new mount API and mount(2) ----------------------------------------------------

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

# --- the mount(8) front end ---------------------------------------------------------

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

# --- security review fixes ----------------------------------------------------------

# F1: the caller's rights are the effective ids, not only the filesystem ones:
# no CAP_SYS_PTRACE to walk a root process's /proc/PID/cwd past a 0700 directory.
t_nonroot_proc_cwd() {
	mkdir -m 0700 "$WORK/private"
	mkdir "$WORK/private/dir" "$WORK/private/mnt"
	echo secret >"$WORK/private/dir/file"
	chmod 0644 "$WORK/private/dir/file"
	chown nobody "$WORK/private/mnt"
	start_in_dir "$WORK/private/dir" sleep 300
	local file=/proc/$BG_PID/cwd/file
	start_in_dir "$WORK/private/mnt" sleep 300
	local mnt=/proc/$BG_PID/cwd
	start_fake nrproccwd hello files "open:$file" type:0 name:src "mntp:0x4000:$mnt" doit:6 bye:0
	run_helper_nobody src "$mnt" -t fuse.nrproccwd -o "backing=$file"
	wait_fake_done
	check "OPEN through a root process's /proc/PID/cwd: EACCES, no fd" log_has "OPEN $file -> 13 fd=0"
	check "MNTP through it: EACCES" log_has "MNTP -> 13"
	check "so no mount" log_has "DOIT -> 22"
	check "nothing mounted" bash -c "! grep -q ' $WORK/private/mnt ' /proc/self/mountinfo"
}

# F1: BLKBSZSET needs CAP_SYS_ADMIN, which the helper must not lend to nobody.
t_nonroot_bdev_blocksize() {
	truncate -s 8M "$WORK/img"
	local loop
	if ! fsvc_loop_attach loop "$WORK/img" 2>/dev/null; then
		echo "no loop device available: skipped"
		exit 77
	fi
	chmod 0666 "$loop"
	start_fake nrbdevbs hello files "bdev:$loop" "bdev-bs:4096:$loop" bye:0
	run_helper_nobody src "$MNT" -t fuse.nrbdevbs -o "dev=$loop"
	wait_fake_done
	check "nobody may open a 0666 block device" log_has "OPEN $loop -> 0 fd=1"
	check "but not set its block size: EACCES" log_has "OPEN $loop -> 13 fd=0"
}

# F6: a failing fstat() is reported as itself, not judged from an unset struct.
t_bdev_fstat_fails() {
	echo x >"$WORK/img"
	start_fake bdevfstat hello files "bdev:$WORK/img" bye:0
	# In a sanitized build the shim comes before the ASan runtime: allow it.
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		FSVC_SHIM_FSTAT_FAIL=$WORK/img LD_PRELOAD=$SHIM run_helper src "$MNT" -t fuse.bdevfstat -o "dev=$WORK/img"
	wait_fake_done
	check "fstat's EIO in the reply" log_has "OPEN $WORK/img -> 5 fd=0"
	check "message" err_has "fuservicemount3: $WORK/img: Input/output error"
}

# F2: setuid= and drop_privileges never go to a service (as with mount.fuse3).
t_frontend_setuid() {
	mkdir -p "$WORK/path"
	chmod 755 "$WORK/path"
	cat >"$WORK/path/fesetuid" <<'PROBE'
#!/bin/sh
echo "uid=$(id -u) args=$*"
PROBE
	chmod 755 "$WORK/path/fesetuid"
	start_fake fesetuid hello files bye:0
	PATH=$WORK/path:$PATH "$FRONTEND" src "$MNT" -o setuid=nobody,foo -t fuse.fesetuid \
		>"$WORK/probe" 2>"$WORK/err"
	check "setuid=: the classic program runs, as that user" \
		[ "$(cat "$WORK/probe")" = "uid=65534 args=src $MNT -o foo,dev,suid" ]
	check "setuid=: the service is not used" bash -c "! grep -q HELLO '$WORK/fake.log'"
	PATH=$WORK/path:$PATH "$FRONTEND" src "$MNT" -o drop_privileges -t fuse.fesetuid \
		>"$WORK/probe2" 2>"$WORK/err"
	RC=$?
	check "drop_privileges: refused" [ "$RC" = 1 ]
	check "drop_privileges: message" err_has "mount.fuse-service: drop_privileges is not supported"
	check "drop_privileges: neither the service" bash -c "! grep -q HELLO '$WORK/fake.log'"
	check "drop_privileges: nor the program" [ ! -s "$WORK/probe2" ]
}

# F3: a server that keeps talking but never finishes is cut off too.
t_timeout_overall() {
	start_fake tmoall hello files spam:300
	# The outer timeout only guards the test run; the helper must end by itself.
	timeout 60 "$HELPER" src "$MNT" -t fuse.tmoall --timeout=1 >"$WORK/out" 2>"$WORK/err"
	RC=$?
	wait_fake_done
	check "the helper gave up by itself: exit 1" [ "$RC" = 1 ]
	check "message" err_has "fuservicemount3: fuse server did not finish the mount within 4 seconds; giving up"
	check "the server was never silent for a whole second" \
		bash -c "[ \"\$(sed -n 's/^SPAM refused=//p' '$WORK/fake.log')\" -ge 2 ]"
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

# F4: MS_SILENT cannot force mount(2); long OPTS cannot push the helper's
# user_id/group_id past the one page mount(2) keeps.
t_page_limit_new_api() {
	chown nobody "$MNT"
	local opts
	opts=$(padded_opts 4048)
	start_fake pagesilent hello files type:0 name:src "mntp:0x4000:$MNT" "opts:$opts" doit:0x8006 bye:0
	run_helper_nobody src "$MNT" -t fuse.pagesilent
	wait_fake_done
	check "OPTS of ${#opts} bytes accepted" log_has "OPTS -> 0"
	check "mounted" log_has "DOIT -> 0"
	check "user_id/group_id are the caller's, whole" \
		bash -c "grep ' $MNT ' /proc/self/mountinfo | grep -q 'user_id=65534,group_id=65534'"
}

t_page_limit_legacy() {
	local opts
	opts=$(padded_opts 4068)
	start_fake pagelegacy hello files type:0 name:src "mntp:0x4000:$MNT" "opts:$opts" doit:6 bye:0
	traced -f -o "$WORK/strace" -e trace=fsopen,mount -e inject=fsopen:error=ENOSYS \
		"$HELPER" src "$MNT" -t fuse.pagelegacy 2>"$WORK/err"
	wait_fake_done
	check "mount(2) data over a page: EINVAL" log_has "DOIT -> 22"
	check "message" err_has "fuservicemount3: mount options too long for mount(2)"
	check "mount(2) not even tried" bash -c "! grep -q '^[0-9]* *mount(' '$WORK/strace'"
	check "nothing mounted" bash -c "! grep -q ' $MNT ' /proc/self/mountinfo"
}

# F5: after mount(2), a parent directory swapped for a symlink must not make
# the helper detach someone else's mount of the same type when it cleans up.
t_legacy_detach_not_redirected() {
	mkdir -p "$WORK/victim/mnt" "$WORK/att/x/mnt"
	cat >"$WORK/srv.sh" <<SRV
#!/bin/bash
if [ -e "$WORK/attack" ]; then
	exec "$FAKE" "$WORK/fake.log" hello files type:0 name:src "mntp:0x4000:$WORK/att/x/mnt" doit:6
fi
exec "$SERVER"
SRV
	chmod 755 "$WORK/srv.sh"
	: >"$WORK/fake.log"
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

# F8: a mountpoint the kernel reports as deleted is refused.
t_mntp_deleted() {
	mkdir "$WORK/gone"
	start_in_dir "$WORK/gone" sleep 300
	local mnt=/proc/$BG_PID/cwd
	rmdir "$WORK/gone"
	start_fake mntpdel hello files "mntp:0x4000:$mnt" bye:0
	run_helper src "$mnt" -t fuse.mntpdel
	wait_fake_done
	check "ENOENT" log_has "MNTP -> 2"
	check "message" err_has "fuservicemount3: $mnt: mount point has been deleted"
}

# F7: only a regular fuse.conf that root alone controls counts, and a bad line
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
	start_fake confsym hello files bye:0
	run_helper_nobody src "$MNT" -t fuse.confsym
	wait_fake_done
	check "symlink: ignored" log_has "HELLO flags=0"
	check "symlink: message" err_has "fuservicemount3: $CONF:0: is a symbolic link; ignored"
	rm -f "$CONF"

	write_conf user_allow_other
	chown nobody "$CONF"
	start_fake confown hello files bye:0
	run_helper_nobody src "$MNT" -t fuse.confown
	wait_fake_done
	check "owned by nobody: ignored" log_has "HELLO flags=0"
	check "owned by nobody: message" err_has "$CONF:0: not owned by root or writable by others; ignored"

	write_conf user_allow_other
	chown root "$CONF"
	chmod 0664 "$CONF"
	start_fake confgw hello files bye:0
	run_helper_nobody src "$MNT" -t fuse.confgw
	wait_fake_done
	check "group-writable: ignored" log_has "HELLO flags=0"

	write_conf 'root:$y$j9T$SecretSaltAndHash:19000:0:99999:7:::' user_allow_other
	chmod 0644 "$CONF"
	start_fake confsecret hello files bye:0
	run_helper_nobody src "$MNT" -t fuse.confsecret
	wait_fake_done
	check "a bad line shows only its first word" err_has "fuservicemount3: $CONF:1: unknown parameter 'root...'"
	check "never the rest of it" bash -c "! grep -q Secret '$WORK/err'"
	check "good lines still apply" log_has "HELLO flags=1"
}

# --- issue 8: a compromised server against its caller ----------------------------

# has_opt MOUNTPOINT OPTION: OPTION among the mount's or its superblock's options.
has_opt() { mount_opts "$1" | tr ',' '\n' | grep -qx -- "$2"; }

# Finding 1: the caller's options are a floor. The server drops every
# restriction (DOIT 0) and asks for allow_other, async and rw; none of it
# sticks, for root as for nobody.
options_floor_case() { # SUBTYPE RUNNER
	local o
	start_fake "$1" hello files opts:allow_other opts:allow_root opts:async opts:rw opts:max_read=131072 \
		type:0 name:src "mntp:0x4000:$MNT" doit:0 bye:0
	"$2" src "$MNT" -t "fuse.$1" -o ro,nosuid,nodev,noexec,noatime,nodiratime,sync,dirsync,default_permissions
	wait_fake_done
	check "$1: allow_other, allow_root, async, rw not asked for: EPERM" \
		bash -c "[ \"\$(grep -c '^OPTS -> 1$' '$WORK/fake.log')\" = 4 ]"
	check "$1: other options accepted" log_has "OPTS -> 0"
	check "$1: mounted" log_has "DOIT -> 0"
	for o in ro nosuid nodev noexec noatime nodiratime sync dirsync default_permissions; do
		check "$1: $o kept" has_opt "$MNT" "$o"
	done
	check "$1: no allow_other" bash -c "! grep ' $MNT ' /proc/self/mountinfo | grep -q allow_other"
	umount "$MNT"
	# No -o at all: nosuid,nodev all the same; suid,dev only when asked (root).
	start_fake "$1b" hello files type:0 name:src "mntp:0x4000:$MNT" doit:0 bye:0
	"$2" src "$MNT" -t "fuse.$1b"
	wait_fake_done
	check "$1: no options: mounted" log_has "DOIT -> 0"
	check "$1: no options: nosuid" has_opt "$MNT" nosuid
	check "$1: no options: nodev" has_opt "$MNT" nodev
	check "$1: message" err_has "fuservicemount3: unsafe option suid ignored"
	umount "$MNT"
}

t_root_options_floor() {
	options_floor_case rootfloor run_helper
	start_fake rootfloorc hello files type:0 name:src "mntp:0x4000:$MNT" doit:0 bye:0
	run_helper src "$MNT" -t fuse.rootfloorc -o nosuid,suid,dev
	wait_fake_done
	check "root asked for suid,dev: suid" bash -c "! grep ' $MNT ' /proc/self/mountinfo | grep -qw nosuid"
	check "root asked for suid,dev: dev" bash -c "! grep ' $MNT ' /proc/self/mountinfo | grep -qw nodev"
	umount "$MNT"
}

t_nonroot_options_floor() {
	chown nobody "$MNT"
	options_floor_case nrfloor run_helper_nobody
}

# Finding 4: MNTP only for the argument that is the mountpoint, never the
# source (a directory the server would cover) or another positional.
mntp_only_mountpoint_case() { # SUBTYPE RUNNER
	mkdir -p "$WORK/srcdir" "$WORK/extra"
	chown nobody "$WORK/srcdir" "$WORK/extra"
	start_fake "$1" hello files "mntp:0x4000:$WORK/srcdir" "mntp:0x4000:$WORK/extra" "mntp:0x4000:$MNT" bye:0
	"$2" "$WORK/srcdir" "$MNT" "$WORK/extra" -t "fuse.$1"
	wait_fake_done
	check "$1: source and third positional refused (EINVAL), the mountpoint accepted" \
		[ "$(grep '^MNTP' "$WORK/fake.log" | tr '\n' ' ')" = "MNTP -> 22 MNTP -> 22 MNTP -> 0 " ]
	check "$1: message" err_has "fuservicemount3: mount point must be in command line arguments"
	# A single positional argument is the mountpoint.
	start_fake "$1b" hello files "mntp:0x4000:$MNT" bye:0
	"$2" "$MNT" -t "fuse.$1b"
	wait_fake_done
	check "$1: a lone positional is the mountpoint" log_has "MNTP -> 0"
}

t_root_mntp_only_mountpoint() { mntp_only_mountpoint_case rootmntponly run_helper; }
t_nonroot_mntp_only_mountpoint() {
	chown nobody "$MNT"
	mntp_only_mountpoint_case nrmntponly run_helper_nobody
}

# Finding 6: OPEN of a caller-named FIFO must not block the helper in open()
# past its timeouts. The outer timeout only guards the test run.
open_fifo_case() { # SUBTYPE HELPER [setpriv ARGS...]
	local sub=$1 h=$2
	shift 2
	mkfifo -m 0666 "$WORK/fifo"
	start_fake "$sub" hello files "open:$WORK/fifo" "bdev:$WORK/fifo" "open:$WORK/file" bye:0
	echo x >"$WORK/file"
	chmod 0644 "$WORK/file"
	timeout 20 "$@" "$h" src "$MNT" -t "fuse.$sub" -o "backing=$WORK/fifo,file=$WORK/file" \
		>"$WORK/out" 2>"$WORK/err"
	RC=$?
	wait_fake_done
	check "$sub: the helper did not hang in open() (exit 0 after goodbye, not killed)" [ "$RC" = 0 ]
	check "$sub: OPEN of a FIFO: EINVAL, no fd" log_has "OPEN $WORK/fifo -> 22 fd=0"
	check "$sub: BDEV of a FIFO: ENOTBLK, no fd" log_has "OPEN $WORK/fifo -> 15 fd=0"
	check "$sub: message" err_has "fuservicemount3: $WORK/fifo: not a regular file, directory or block device"
	check "$sub: a regular file still opens" log_has "OPEN $WORK/file -> 0 fd=1"
}

t_root_open_fifo() { open_fifo_case rootfifo "$HELPER"; }
t_nonroot_open_fifo() {
	chmod 0666 /dev/fuse
	open_fifo_case nrfifo "$(setuid_helper)" setpriv --reuid=nobody --regid=nogroup --clear-groups
}

# Finding 5: OPEN never hands the server the helper's own process: not its
# /proc/self or /proc/<pid> entries (an ASLR leak, a writable timer slack),
# nor its descriptors through /proc/self/fd, /dev/fd or /dev/std*. The
# caller names /proc/<pid> of the helper by exec'ing it from that pid.
open_proc_self_case() { # SUBTYPE HELPER [setpriv ARGS...]
	local sub=$1 h=$2 l
	shift 2
	start_fake "$sub" hello files open:/proc/self/maps open:/proc/thread-self/maps \
		open:/proc/self/timerslack_ns open:/proc/self/fd/0 open-opath:/proc/self/fd/3 \
		open:/dev/fd/0 open:/dev/stdin open-peer:/maps open-peer:/fd/0 "open:$WORK/file" bye:0
	echo x >"$WORK/file"
	chmod 0644 "$WORK/file"
	timeout 20 "$@" bash -c 'exec "$0" src "$1" -t "fuse.$2" -o "a=/proc/$$/maps,b=/proc/$$/fd/0,c=$3" \
		/proc/self/maps /proc/thread-self/maps /proc/self/timerslack_ns /proc/self/fd/0 \
		/proc/self/fd/3 /dev/fd/0 /dev/stdin' "$h" "$MNT" "$sub" "$WORK/file" \
		>"$WORK/out" 2>"$WORK/err" </dev/null
	RC=$?
	wait_fake_done
	check "$sub: exit 0" [ "$RC" = 0 ]
	for l in /proc/self/maps /proc/thread-self/maps /proc/self/timerslack_ns; do
		check "$sub: $l: EPERM, no fd" log_has "OPEN $l -> 1 fd=0"
	done
	for l in /proc/self/fd/0 /proc/self/fd/3 /dev/fd/0 /dev/stdin; do
		check "$sub: $l: ELOOP (no magic links), no fd" log_has "OPEN $l -> 40 fd=0"
	done
	check "$sub: /proc/<helper pid>/maps: EPERM, no fd" grep -qE '^OPEN /proc/[0-9]+/maps -> 1 fd=0$' "$WORK/fake.log"
	check "$sub: /proc/<helper pid>/fd/0: ELOOP, no fd" grep -qE '^OPEN /proc/[0-9]+/fd/0 -> 40 fd=0$' "$WORK/fake.log"
	check "$sub: message" err_has "fuservicemount3: /proc/self/maps: a file in procfs is not handed to a server"
	check "$sub: a regular file still opens" log_has "OPEN $WORK/file -> 0 fd=1"
}

t_root_open_proc_self() { open_proc_self_case rootprocself "$HELPER"; }
t_nonroot_open_proc_self() {
	chmod 0666 /dev/fuse
	open_proc_self_case nrprocself "$(setuid_helper)" setpriv --reuid=nobody --regid=nogroup --clear-groups
}

# utab_ns SCRIPT: run SCRIPT in a private mount namespace with an empty
# /run/mount of its own, so the host's utab is never read or written.
utab_ns() {
	unshare -m --propagation private env WORK="$WORK" MNT="$MNT" HELPER="$HELPER" \
		SETUID_HELPER="$(setuid_helper)" bash -c '
		mount -t tmpfs tmpfs /run/mount || exit 10
		nb() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
		'"$1"
}

# Findings 2 and 3: a caller other than root never gets a utab record, so
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

# Finding 2: root's record is written by a child whose ids are all 0, and
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

# Finding 3: a record is small. Root's x- options (the only ones still
# recorded) are capped.
t_root_utab_capped() {
	local big
	big=$(head -c 2000 /dev/zero | tr '\0' a)
	start_fake utabcap hello files "mtab:x-big=$big" mtab:x-a=1 bye:0
	run_helper src "$MNT" -t fuse.utabcap
	wait_fake_done
	check "2 KB of mtab options: EINVAL" log_has "MTAB -> 22"
	check "small ones: fine" log_has "MTAB -> 0"
	check "message" err_has "fuservicemount3: mtab options longer than 1024 bytes"
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

# Deliver item 3: the helper runs as the caller by default and is root only
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

# --- issue 13: process hygiene ------------------------------------------------

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

if ! declare -F "t_$CASE" >/dev/null; then
	echo "unknown case $CASE" >&2
	exit 2
fi
"t_$CASE"
finish
