/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The helper's command line:
 *
 *   fuservicemount3 SOURCE MOUNTPOINT -t [fuse.|fuseblk.]SUBTYPE [-o OPTIONS]...
 *   fuservicemount3 -t TYPE --check
 *   fuservicemount3 --help | --version
 *
 * plus the root-only `--timeout=SECONDS`. Everything except `-t TYPE` and
 * the helper's own flags goes to the server unchanged, in order.
 */
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "util/caller_options.h"
#include "util/privileges.h"

namespace fsvc::helper
{

/* Silence we accept from a server before giving up (hello and between commands). */
inline constexpr int kDefaultTimeoutMs = 30000;
/*
 * The whole conversation, hello to goodbye, may last this many silence
 * timeouts (2 minutes by default): a server that keeps talking without ever
 * finishing must not hold mount(8) or a boot forever either.
 */
inline constexpr int kDeadlineFactor = 4;
inline constexpr int kMaxTimeoutSeconds = 24 * 3600;

enum class Mode { Mount, Check, Help, Version };

struct Options {
	Mode mode = Mode::Mount;
	std::string type;    /* as given after -t */
	std::string subtype; /* type without fuse. / fuseblk. */
	/* argv[1..] without "-t TYPE" and the helper's own flags: the server's view */
	std::vector<std::string> args;
	int timeout_ms = kDefaultTimeoutMs;
	/* The caller's own -o options: the floor for the mount (see caller_options.h). */
	CallerMountOptions mount_opts;

	/* The limit for the whole conversation; root's --timeout scales it too. */
	[[nodiscard]] int deadline_ms() const noexcept { return timeout_ms * kDeadlineFactor; }
};

/* The subtype of a fs type, or nullopt (and a message) when it is unusable. */
std::optional<std::string> subtype_of(std::string_view type);

/*
 * Parse argv. Prints a one-line reason and returns -EINVAL on a bad command
 * line; -EPERM when a non-root caller uses a root-only flag.
 */
Result<Options> parse_options(int argc, const char *const *argv, const Caller &caller);

/* The --help text. */
void print_usage(bool to_stderr);

} // namespace fsvc::helper
