/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Finding and reaching the service socket of a subtype: <socket dir>/<subtype>.
 * Both the lookup and the connect are done as the caller, so the socket's
 * own permissions (SocketMode=) decide who may ask for a mount.
 */
#pragma once

#include <optional>
#include <string>

#include "core/result.h"
#include "core/unique_fd.h"
#include "util/privileges.h"

namespace fsvc::helper
{

/* "<socket dir>/<subtype>", or nullopt if it does not fit sun_path. */
std::optional<std::string> service_socket_path(const std::string &subtype);

/* --check: is there a socket for subtype that the caller may write to? */
bool service_available(const Caller &caller, const std::string &subtype);

/*
 * Connect to the service, as the caller, then turn off SO_PASSRIGHTS so the
 * server can never push a descriptor into this process. Prints the reason on
 * failure (-ENOENT / -ECONNREFUSED: no such service).
 */
Result<UniqueFD> connect_service(const Caller &caller, const std::string &subtype, int timeout_ms);

} // namespace fsvc::helper
