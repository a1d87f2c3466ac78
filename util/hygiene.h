/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Process hygiene for a setuid program, done first thing in main(): nothing
 * the caller controls (environment, missing standard fds, umask, core dumps,
 * inherited descriptors) may influence what the privileged code does.
 */
#pragma once

#include "util/privileges.h"

namespace fsvc::helper
{

/*
 * Make fds 0-2 valid (on /dev/null when missing) and close every other
 * inherited fd, so no file we open later can become someone's stdout.
 * Returns false if that is impossible; the caller must exit silently.
 */
bool secure_standard_fds() noexcept;

/*
 * Clear the environment (keeping only a fixed PATH), set a fixed umask,
 * forbid core dumps and ptrace by the caller. Returns 0 or a negative errno.
 */
int sanitise_process() noexcept;

/*
 * Refuse to run elevated when installed wrongly: only setuid *root* is
 * supported, the binary must be owned by root, and not writable by group or
 * others. Prints the reason and returns false.
 */
bool installation_is_sane(const Caller &caller) noexcept;

} // namespace fsvc::helper
