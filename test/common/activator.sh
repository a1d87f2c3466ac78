# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
# Sourced by the shell tests and the bench: start and stop socket
# activators, and leave no mount behind.

# fsvc_wait_listening PATH [SECONDS]: wait until a unix socket is bound at
# PATH *and listening*. systemd-socket-activate creates the socket file at
# bind() and calls listen() just after; a helper that connects in between
# gets ECONNREFUSED, so the file's existence is not enough. Connecting to
# probe is no good either: with --accept every connection starts a server.
fsvc_wait_listening() {
	local path=$1 tries=$((${2:-10} * 100))
	while [ "$tries" -gt 0 ]; do
		# Flags 00010000 (__SO_ACCEPTCON) marks a listening socket.
		awk -v p="$path" '$4 == "00010000" && $8 == p { found = 1 } END { exit !found }' \
			/proc/net/unix && return 0
		sleep 0.01
		tries=$((tries - 1))
	done
	return 1
}

# fsvc_start_activator SOCKET LOG COMMAND...: serve SOCKET with COMMAND, one
# process per connection, in a process group of its own (so stopping it
# also stops the servers it started). Sets FSVC_ACTIVATOR to its pid;
# returns nonzero if it does not listen.
fsvc_start_activator() {
	local sock=$1 log=$2
	shift 2
	rm -f "$sock"
	setsid systemd-socket-activate --seqpacket --accept -l "$sock" "$@" >>"$log" 2>&1 &
	# shellcheck disable=SC2034 # the caller's result
	FSVC_ACTIVATOR=$!
	fsvc_wait_listening "$sock" || return 1
	# It says "Listening on SOCKET as 3." just after listen(): wait for the
	# line too, so a test that empties LOG next never finds it there later.
	local tries=200
	until grep -qF "Listening on $sock " "$log" 2>/dev/null; do
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || return 0
		sleep 0.01
	done
}

# fsvc_stop_activators PID...: stop activators and their servers, reap them.
fsvc_stop_activators() {
	local p
	for p in "$@"; do
		kill -TERM -- "-$p" 2>/dev/null
	done
	for p in "$@"; do
		wait "$p" 2>/dev/null
	done
	return 0
}

# fsvc_unmount_under DIR: unmount everything mounted at or below DIR,
# innermost first (lazily if it is busy).
fsvc_unmount_under() {
	local m
	for m in $(awk -v d="$1" '$5 == d || index($5, d "/") == 1 {print $5}' /proc/self/mountinfo | sort -r); do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
	done
	return 0
}
