/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The driver of one hostile case: work directory, socket activator, the real
 * helper (as root, or a setuid copy run by nobody), and the checks that hold
 * for every case: the fake server's verdict, a nonzero exit that is not a
 * crash, one-line "fuservicemount3: " messages, no mount left, no stray
 * process.
 */
#pragma once

#include <string>

#include "scenarios.h"

namespace fsvc::hostile
{

struct DriverConfig {
	std::string helper;     /* the built fuservicemount3-test */
	std::string socket_dir; /* the socket directory compiled into it */
	std::string self;       /* this program, started as the fake server */
	std::string wrapper;    /* FSVC_HELPER_WRAPPER: e.g. valgrind, root runs only */
};

/* 0 when every check passed, 1 otherwise, 77 when the case cannot run here. */
int run_scenario(const Scenario &s, const DriverConfig &cfg);

} // namespace fsvc::hostile
