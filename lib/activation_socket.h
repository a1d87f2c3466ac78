/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The connection a socket unit with Accept=yes hands a server: exactly one
 * fd, a connected AF_UNIX SOCK_SEQPACKET socket, with a send buffer large
 * enough for the largest request.
 */
#pragma once

#include "core/result.h"
#include "core/unique_fd.h"

namespace fsvc
{

/* Check and take the one socket-activated connection (nfds from listen_fds()). */
Result<UniqueFD> take_activation_socket(int nfds);

} // namespace fsvc
