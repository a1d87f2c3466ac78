# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
#
# Boot a real systemd as PID 1 of fresh namespaces over an overlay of the host
# root, run commands inside it, and tear it all down. Sourced by
# test/systemd/run-units.sh and example/demo.sh.
#
#   sd_check_machine           -> prints why this machine cannot do it; 1 then
#   sd_init BUILD              -> makes SD_WORK (host work dir) and SD_STAGE (a
#                                 tree copied onto the new root before boot)
#   sd_stage_examples SRC GROUP LAYOUT
#                              -> stages the example units (build tree or
#                                 "meson install"), their chroot, the setuid
#                                 helper and the mount(8) front end; writes
#                                 the target fsvc-examples.target
#   sd_stage_ext4 GROUP LAYOUT -> after sd_stage_examples: the ext4-service
#                                 units and mount.fuse.ext2/3/4 links; writes
#                                 the target fsvc-ext4.target
#   sd_pick_controllers        -> sets SD_CGROUP_V1 so that systemd can enforce
#                                 MemoryMax=/TasksMax=; 1 if it cannot
#   sd_boot TARGET             -> boots, waits until systemd is up; with
#                                 SD_CGROUP_V1=yes systemd also gets the
#                                 host's cgroup v1 controller hierarchies
#                                 (see sd_v1_hierarchies)
#   sd_run CMD...              -> runs CMD inside all the namespaces
#   sd_teardown                -> powers off, kills what is left, removes the
#                                 cgroup and the work dir; safe to call twice
#
# Every run has its own work directory and cgroup; sd_teardown belongs in an
# EXIT trap. See /work/shared/SYSTEMD-IN-TESTS.md for the facts behind this.

SD_HARNESS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SD_SYSTEMD=/lib/systemd/systemd
SD_WORK=
SD_STAGE=
SD_BUILD=
SD_CGROUP=
SD_UNSHARE_PID=
SD_PID1=
SD_CGROUP_V1=${SD_CGROUP_V1:-no}
SD_V1_DIRS=()

# Where cgroup2 is mounted on the host ("" if nowhere).
sd_cgroup2_mount()
{
	awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts
}

sd_check_machine()
{
	if [ "$(id -u)" -ne 0 ]; then
		echo "needs root (it mounts, unshares and boots systemd)"
		return 1
	fi
	if [ -z "$(sd_cgroup2_mount)" ]; then
		echo "no cgroup2 hierarchy is mounted (systemd needs one)"
		return 1
	fi
	if ! grep -qw overlay /proc/filesystems && ! modprobe -q overlay 2>/dev/null; then
		echo "the kernel has no overlayfs (the namespace root is an overlay of /)"
		return 1
	fi
	local tool
	for tool in unshare nsenter pivot_root; do
		if ! command -v "$tool" >/dev/null; then
			echo "$tool is not installed"
			return 1
		fi
	done
	if [ ! -x "$SD_SYSTEMD" ]; then
		echo "$SD_SYSTEMD not found"
		return 1
	fi
	return 0
}

sd_log()
{
	printf '%s\n' "$*" >&2
}

sd_init()
{
	SD_BUILD=$(cd "$1" && pwd)
	SD_WORK=$(mktemp -d /tmp/fsvc-systemd.XXXXXX)
	chmod 0755 "$SD_WORK"
	SD_STAGE=$SD_WORK/stage
	mkdir -p "$SD_STAGE/etc/systemd/system"
	SD_CGROUP=$(sd_cgroup2_mount)/fsvc-test-$(basename "$SD_WORK")
}

# Stage the examples' units, their chroot, the setuid helper and the mount(8)
# front end (reachable as /usr/sbin/mount.fuse.SUBTYPE), and write the
# target fsvc-examples.target that starts the sockets. LAYOUT:
#   build      the generated units from the build tree, each service with a
#              drop-in that only points ExecStart at the build tree (bound
#              read-only at /opt/fsvc-build); the rest as meson installs it
#   installed  "meson install --destdir" of the whole build, units untouched
# GROUP, if not empty, is added to /etc/group and set as SocketGroup= of the
# sockets by a drop-in (SocketMode stays as generated). Sets SD_ROOT_DIR.
SD_EXAMPLES=(service_ll service_hl null tarfs)
SD_SANITIZER_DROPIN=60-sanitizer.conf

# Was the build configured with -Db_sanitize=...?
sd_build_is_sanitized()
{
	python3 - "$SD_BUILD/meson-info/intro-buildoptions.json" <<-'PY'
		import json, sys
		opts = {o["name"]: o["value"] for o in json.load(open(sys.argv[1]))}
		sys.exit(0 if opts.get("b_sanitize", "none") != "none" else 1)
	PY
}
sd_stage_examples()
{
	local src=$1 group=$2 layout=$3 n gid unit_file frontend
	local units=$SD_STAGE/etc/systemd/system
	mkdir -p "$SD_STAGE/usr/sbin"
	case "$layout" in
	build)
		for n in "${SD_EXAMPLES[@]}"; do
			cp "$SD_BUILD/example/$n.socket" "$SD_BUILD/example/$n@.service" "$units/" ||
				return 1
			mkdir -p "$units/$n@.service.d"
			cat >"$units/$n@.service.d/50-build-tree.conf" <<-EOF
				[Service]
				ExecStart=
				ExecStart=/opt/fsvc-build/example/$n
				BindReadOnlyPaths=/opt/fsvc-build
			EOF
		done
		unit_file=$SD_BUILD/example/service_ll@.service
		SD_ROOT_DIR=$(sed -n 's/^RootDirectory=//p' "$unit_file")
		[ -n "$SD_ROOT_DIR" ] || { sd_log "$unit_file has no RootDirectory="; return 1; }
		# The root the services chroot into, as "meson install" makes it.
		sh "$src/example/service-root.sh" "$SD_STAGE$SD_ROOT_DIR" || return 1
		mkdir -p "$SD_STAGE/usr/local/bin" "$SD_STAGE/usr/local/sbin"
		install -m 4755 -o root -g root "$SD_BUILD/util/fuservicemount3" \
			"$SD_STAGE/usr/local/bin/" || return 1
		install -m 0755 "$SD_BUILD/util/mount.fuse-service" "$SD_STAGE/usr/local/sbin/" ||
			return 1
		for n in "${SD_EXAMPLES[@]}"; do
			ln -s /usr/local/sbin/mount.fuse-service "$SD_STAGE/usr/sbin/mount.fuse.$n"
		done
		;;
	installed)
		meson install -C "$SD_BUILD" --no-rebuild --quiet --destdir "$SD_STAGE" >&2 || return 1
		unit_file=$(find "$SD_STAGE" -path '*/systemd/system/service_ll@.service' | head -n 1)
		[ -n "$unit_file" ] || { sd_log "meson install did not install service_ll@.service"; return 1; }
		SD_ROOT_DIR=$(sed -n 's/^RootDirectory=//p' "$unit_file")
		[ -d "$SD_STAGE$SD_ROOT_DIR" ] || { sd_log "meson install did not make $SD_ROOT_DIR"; return 1; }
		# mount(8) only looks in /sbin: link the installed front ends there
		# (a prefix=/usr install puts them there itself).
		for n in "${SD_EXAMPLES[@]}"; do
			frontend=$(find "$SD_STAGE" -name "mount.fuse.$n" | head -n 1)
			[ -n "$frontend" ] || { sd_log "meson install did not install mount.fuse.$n"; return 1; }
			frontend=${frontend#"$SD_STAGE"}
			[ -e "$SD_STAGE/usr/sbin/mount.fuse.$n" ] ||
				ln -s "$frontend" "$SD_STAGE/usr/sbin/mount.fuse.$n"
		done
		;;
	*)
		sd_log "sd_stage_examples: unknown layout $layout"
		return 1
		;;
	esac

	# A sanitized build: LeakSanitizer stops the process with ptrace(2) at
	# exit, which the units' system call filter forbids, so the leak check
	# (only that) is turned off here; the same servers are leak-checked in
	# the suites that run them outside the sandbox.
	if sd_build_is_sanitized; then
		for n in "${SD_EXAMPLES[@]}"; do
			mkdir -p "$units/$n@.service.d"
			printf '[Service]\nEnvironment=ASAN_OPTIONS=detect_leaks=0\n' \
				>"$units/$n@.service.d/$SD_SANITIZER_DROPIN"
		done
	fi

	if [ -n "$group" ]; then
		for n in "${SD_EXAMPLES[@]}"; do
			mkdir -p "$units/$n.socket.d"
			printf '[Socket]\nSocketGroup=%s\n' "$group" >"$units/$n.socket.d/50-group.conf"
		done
		gid=4242
		while getent group "$gid" >/dev/null; do gid=$((gid + 1)); done
		cp -a /etc/group "$SD_STAGE/etc/group"
		echo "$group:x:$gid:" >>"$SD_STAGE/etc/group"
	fi
	cat >"$units/fsvc-examples.target" <<-EOF
		[Unit]
		Description=fuse-service examples
		Requires=basic.target
		After=basic.target
		Wants=${SD_EXAMPLES[*]/%/.socket}
		After=${SD_EXAMPLES[*]/%/.socket}
	EOF
}

# The ext4 server's units, like the examples': the generated ones with a
# drop-in pointing ExecStart at the build tree, or as "meson install" put
# them (sd_stage_examples already installed everything then).
sd_stage_ext4()
{
	local group=$1 layout=$2 subtype frontend
	local units=$SD_STAGE/etc/systemd/system
	case "$layout" in
	build)
		cp "$SD_BUILD/fs/ext4/units/ext4-service.socket" \
			"$SD_BUILD/fs/ext4/units/ext4-service@.service" "$units/" || return 1
		mkdir -p "$units/ext4-service@.service.d"
		cat >"$units/ext4-service@.service.d/50-build-tree.conf" <<-EOF
			[Service]
			ExecStart=
			ExecStart=/opt/fsvc-build/fs/ext4/ext4-service
			BindReadOnlyPaths=/opt/fsvc-build
		EOF
		for subtype in ext2 ext3 ext4; do
			ln -sfn /usr/local/sbin/mount.fuse-service "$SD_STAGE/usr/sbin/mount.fuse.$subtype"
		done
		;;
	installed)
		for subtype in ext2 ext3 ext4; do
			frontend=$(find "$SD_STAGE" -name "mount.fuse.$subtype" | head -n 1)
			[ -n "$frontend" ] || { sd_log "meson install did not install mount.fuse.$subtype"; return 1; }
			frontend=${frontend#"$SD_STAGE"}
			[ -e "$SD_STAGE/usr/sbin/mount.fuse.$subtype" ] ||
				ln -s "$frontend" "$SD_STAGE/usr/sbin/mount.fuse.$subtype"
		done
		;;
	*)
		sd_log "sd_stage_ext4: unknown layout $layout"
		return 1
		;;
	esac
	if sd_build_is_sanitized; then
		mkdir -p "$units/ext4-service@.service.d"
		printf '[Service]\nEnvironment=ASAN_OPTIONS=detect_leaks=0\n' \
			>"$units/ext4-service@.service.d/$SD_SANITIZER_DROPIN"
	fi
	if [ -n "$group" ]; then
		mkdir -p "$units/ext4-service.socket.d"
		printf '[Socket]\nSocketGroup=%s\n' "$group" >"$units/ext4-service.socket.d/50-group.conf"
	fi
	cat >"$units/fsvc-ext4.target" <<-EOF
		[Unit]
		Description=fuse-service ext4-service
		Requires=basic.target
		After=basic.target
		Wants=ext4-service.socket
		After=ext4-service.socket
	EOF
}

# Memory and pids controllers for the limits: cgroup2's if it has them, else
# the machine's v1 hierarchies (SD_CGROUP_V1=yes). Returns 1 if neither.
sd_pick_controllers()
{
	local cg2
	cg2=$(sd_cgroup2_mount)
	if grep -qw memory "$cg2/cgroup.controllers" 2>/dev/null &&
		grep -qw pids "$cg2/cgroup.controllers" 2>/dev/null; then
		SD_CGROUP_V1=no
	elif sd_v1_hierarchies | grep -q ' memory$' && sd_v1_hierarchies | grep -q ' pids$'; then
		SD_CGROUP_V1=yes
	else
		return 1
	fi
}

# The "memory" or "pids" file NAME (e.g. memory.max) of a live process's
# cgroup, as systemd in the namespace set it up; v1 names are translated
# (memory.max -> memory.limit_in_bytes, memory.current -> memory.usage_in_bytes).
sd_cgroup_file()
{
	local pid=$1 ctrl=$2 name=$3 path
	if [ "$SD_CGROUP_V1" = yes ]; then
		path=$(sd_run awk -F: -v c="$ctrl" '$2 == c { print $3 }' "/proc/$pid/cgroup")
		case $name in
		memory.max) name=memory.limit_in_bytes ;;
		memory.current) name=memory.usage_in_bytes ;;
		esac
		echo "/sys/fs/cgroup/$ctrl$path/$name"
	else
		path=$(sd_run awk -F: '$1 == 0 { print $3 }' "/proc/$pid/cgroup")
		echo "/sys/fs/cgroup$path/$name"
	fi
}

# The current PID 1 of our namespaces: the child of the unshare process.
sd_find_pid1()
{
	local children
	children=$(cat "/proc/$SD_UNSHARE_PID/task/$SD_UNSHARE_PID/children" 2>/dev/null) || return 1
	SD_PID1=${children%% *}
	[ -n "$SD_PID1" ]
}

sd_run()
{
	nsenter -t "$SD_PID1" -m -p -C -u -i -n -- "$@"
}

# Resource limits (MemoryMax=, TasksMax=) need controllers. On a machine whose
# controllers are all bound to cgroup v1 hierarchies (cgroup2 has none),
# systemd can still enforce them there, in its "hybrid" layout: cgroup2 for
# its own bookkeeping, v1 hierarchies for the controllers (MemoryMax= becomes
# memory.limit_in_bytes, TasksMax= pids.max). sd_v1_hierarchies prints
# "DIR OPTS" for every v1 controller hierarchy mounted on the host.
sd_v1_hierarchies()
{
	awk '$3 == "cgroup" {
		n = split($4, o, ",")
		opts = ""
		for (i = 1; i <= n; i++)
			if (o[i] !~ /^(rw|ro|relatime|noatime|nosuid|nodev|noexec|clone_children|xattr)$/ && o[i] !~ /^(name|release_agent)=/)
				opts = opts (opts == "" ? "" : ",") o[i]
		if (opts != "") print $2, opts
	}' /proc/self/mounts
}

# Moves the calling process into a per-run child cgroup of its own cgroup in
# every v1 controller hierarchy, so that systemd in the new cgroup namespace
# sees that child as its root and creates nothing elsewhere on the host.
sd_enter_v1_cgroups()
{
	local dir opts ctrl cur child
	while read -r dir opts; do
		ctrl=${opts%%,*}
		cur=$(awk -F: -v c="$ctrl" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' /proc/self/cgroup)
		[ -n "$cur" ] || return 1
		child=$dir${cur%/}/$(basename "$SD_CGROUP")
		mkdir "$child" || return 1
		if [ -e "$child/cpuset.cpus" ]; then
			cat "$(dirname "$child")/cpuset.cpus" >"$child/cpuset.cpus" &&
				cat "$(dirname "$child")/cpuset.mems" >"$child/cpuset.mems" || return 1
		fi
		echo "$BASHPID" >"$child/cgroup.procs" || return 1
	done < <(sd_v1_hierarchies)
}

sd_boot()
{
	local target=$1 state i dir opts
	mkdir "$SD_CGROUP"
	SD_V1_DIRS=()
	if [ "$SD_CGROUP_V1" = yes ]; then
		while read -r dir opts; do
			SD_V1_DIRS+=("$dir/$(basename "$SD_CGROUP")")
		done < <(sd_v1_hierarchies)
	fi
	# The subshell moves itself into the run's cgroup, which becomes the
	# cgroup root of the new cgroup namespace, then turns into unshare.
	(
		echo "$BASHPID" >"$SD_CGROUP/cgroup.procs"
		if [ "$SD_CGROUP_V1" = yes ]; then
			sd_enter_v1_cgroups || { echo "cannot enter per-run v1 cgroups"; exit 1; }
			FSVC_CGROUP_V1=$(sd_v1_hierarchies | tr ' \n' ':;')
			export FSVC_CGROUP_V1
		fi
		exec unshare --pid --fork --mount --cgroup --uts --ipc --net --propagation private \
			-- /bin/bash "$SD_HARNESS_DIR/ns-init.sh" "$SD_WORK" "$SD_BUILD" "$target"
	) </dev/null >"$SD_WORK/init.log" 2>&1 &
	SD_UNSHARE_PID=$!

	for ((i = 0; i < 300; i++)); do
		if sd_find_pid1 && [ "$(cat "/proc/$SD_PID1/comm" 2>/dev/null)" = systemd ]; then
			state=$(sd_run systemctl is-system-running 2>/dev/null) || true
			case "$state" in
			running | degraded) return 0 ;;
			esac
		fi
		if ! kill -0 "$SD_UNSHARE_PID" 2>/dev/null; then
			sd_log "systemd did not start:"
			sed 's/^/    /' "$SD_WORK/init.log" >&2
			return 1
		fi
		sleep 0.1
	done
	sd_log "systemd did not reach running (state: ${state:-unknown})"
	sd_run systemctl --failed --no-pager >&2 || true
	return 1
}

# Processes still in the run's cgroup tree.
sd_cgroup_procs()
{
	[ -d "$SD_CGROUP" ] || return 0
	find "$SD_CGROUP" -name cgroup.procs -exec cat {} + 2>/dev/null
}

sd_teardown()
{
	local i
	if [ -n "$SD_UNSHARE_PID" ] && kill -0 "$SD_UNSHARE_PID" 2>/dev/null; then
		# Ask systemd to power off (SIGRTMIN+4); it stops every unit.
		if sd_find_pid1; then
			kill -s SIGRTMIN+4 "$SD_PID1" 2>/dev/null || true
		fi
		for ((i = 0; i < 100; i++)); do
			kill -0 "$SD_UNSHARE_PID" 2>/dev/null || break
			sleep 0.1
		done
		# Last resort: killing PID 1 takes the whole PID namespace with it.
		if kill -0 "$SD_UNSHARE_PID" 2>/dev/null; then
			sd_log "systemd did not power off: killing the namespace"
			sd_find_pid1 && kill -KILL "$SD_PID1" 2>/dev/null
			kill -KILL "$SD_UNSHARE_PID" 2>/dev/null || true
		fi
		wait "$SD_UNSHARE_PID" 2>/dev/null || true
	fi
	SD_UNSHARE_PID=
	if [ -n "$SD_CGROUP" ] && [ -d "$SD_CGROUP" ]; then
		for ((i = 0; i < 50; i++)); do
			[ -z "$(sd_cgroup_procs)" ] && break
			sleep 0.1
		done
		# Children first (depth-first), then the run's own directory.
		find "$SD_CGROUP" -depth -type d -exec rmdir {} + 2>/dev/null || true
		[ -d "$SD_CGROUP" ] && sd_log "could not remove cgroup $SD_CGROUP"
	fi
	# The per-run v1 cgroups (their path below the hierarchy's root is that
	# of the launching shell, so look for the run's name), children first.
	local v1 d
	for v1 in "${SD_V1_DIRS[@]}"; do
		while read -r d; do
			find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
			[ -d "$d" ] && sd_log "could not remove v1 cgroup $d"
		done < <(find "$(dirname "$v1")" -maxdepth 4 -type d -name "$(basename "$v1")")
	done
	SD_V1_DIRS=()
	if [ -n "$SD_WORK" ] && [ -d "$SD_WORK" ]; then
		rm -rf "$SD_WORK"
	fi
	SD_WORK=
}
