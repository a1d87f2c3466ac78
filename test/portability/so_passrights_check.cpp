/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Compiled, never run, by test/portability/compile_check.sh: SO_PASSRIGHTS
 * as packet_io.h gives it for the architecture the compiler is told it
 * targets (-D__hppa__, -D__sparc__), or as a system header defines it.
 */
#include "core/packet_io.h"

static_assert(SO_PASSRIGHTS == FSVC_EXPECTED_SO_PASSRIGHTS,
	      "SO_PASSRIGHTS is not the kernel's number for this architecture");
