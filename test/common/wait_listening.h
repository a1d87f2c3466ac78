/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Wait until a unix socket is bound at a path and listening. The file
 * appears at bind(), listen() comes just after: a connect in between gets
 * ECONNREFUSED. A probing connect would start a server (Accept=yes), so
 * /proc/net/unix is read instead. Same rule as activator.sh.
 */
#pragma once

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

namespace fsvc::test
{

inline bool unix_socket_listening(const std::string &path)
{
	std::ifstream in("/proc/net/unix");
	std::string line;
	while (std::getline(in, line)) {
		std::istringstream f(line);
		std::string num, refs, proto, flags, type, state, inode, p;
		if (f >> num >> refs >> proto >> flags >> type >> state >> inode >> p &&
		    flags == "00010000" && p == path)
			return true;
	}
	return false;
}

inline bool wait_listening(const std::string &path, std::chrono::milliseconds limit)
{
	const auto end = std::chrono::steady_clock::now() + limit;
	while (!unix_socket_listening(path)) {
		if (std::chrono::steady_clock::now() > end)
			return false;
		std::this_thread::sleep_for(std::chrono::milliseconds(5));
	}
	return true;
}

} // namespace fsvc::test
