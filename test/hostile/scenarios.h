/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The hostile-server cases. Each is one meson test: the driver sets up a work
 * directory, starts the fake server behind a real socket activator, runs the
 * real helper against it and checks the outcome; the fake server plays the
 * scenario's part of the conversation and checks what the helper answers.
 */
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "hostile_peer.h"

namespace fsvc::hostile
{

enum class RunAs {
	Root,   /* the helper run by root, with --timeout */
	Nobody, /* a setuid-root copy of the helper run by nobody */
};

struct Scenario {
	const char *name;
	RunAs as;
	/* Helper arguments, relative to the work directory ("mnt", "./src"...);
	 * no source: the mountpoint is the only positional argument. */
	const char *source;
	const char *mountpoint;
	std::vector<std::string> extra_args; /* "@" is replaced by the work directory */
	/* What the helper's stderr must contain (besides the "fuservicemount3: " prefix);
	 * "" for a helper that succeeds and may say nothing. */
	const char *stderr_has;
	void (*serve)(HostilePeer &c);
	int timeout_s = 10;                 /* --timeout for root runs: bounds a hanging helper */
	const char *stderr_lacks = nullptr; /* ...and must not contain */
	bool succeeds = false;              /* the helper must exit 0, not fail */
};

const std::vector<Scenario> &all_scenarios();
const Scenario *find_scenario(std::string_view name);

} // namespace fsvc::hostile
