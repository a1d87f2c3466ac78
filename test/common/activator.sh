# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced by the shell tests.
#
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
