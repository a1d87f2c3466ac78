/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "util/options.h"

#include <cerrno>
#include <charconv>
#include <cstdio>

#include "util/messages.h"
#include "util/paths.h"

namespace fsvc::helper
{

namespace
{

constexpr std::string_view kTimeoutFlag = "--timeout=";

bool starts_with(std::string_view s, std::string_view prefix)
{
	return s.substr(0, prefix.size()) == prefix;
}

std::optional<int> parse_seconds(std::string_view s)
{
	int v = 0;
	auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
	if (ec != std::errc() || end != s.data() + s.size() || v < 1 || v > kMaxTimeoutSeconds)
		return std::nullopt;
	return v;
}

} // namespace

std::optional<std::string> subtype_of(std::string_view type)
{
	std::string_view sub = type;
	if (starts_with(sub, "fuse."))
		sub.remove_prefix(5);
	else if (starts_with(sub, "fuseblk."))
		sub.remove_prefix(8);
	if (sub.empty() || sub == "fuse" || sub == "fuseblk") {
		say("%s: no filesystem subtype given", printable(type).c_str());
		return std::nullopt;
	}
	if (sub.find('/') != std::string_view::npos || sub == "." || sub == "..") {
		say("%s: fs subtype cannot contain path separators", printable(type).c_str());
		return std::nullopt;
	}
	for (char c : sub) {
		const auto u = static_cast<unsigned char>(c);
		if (u < 0x21 || u == 0x7f || c == ',') {
			say("%s: fs subtype contains a forbidden character",
			    printable(type).c_str());
			return std::nullopt;
		}
	}
	return std::string(sub);
}

void print_usage(bool to_stderr)
{
	std::FILE *out = to_stderr ? stderr : stdout;
	std::fprintf(
	    out,
	    "Usage: %s SOURCE MOUNTPOINT -t [fuse.|fuseblk.]SUBTYPE [-o OPTIONS]...\n"
	    "       %s -t TYPE --check\n"
	    "       %s --help | --version\n"
	    "\n"
	    "Mount a FUSE filesystem whose server runs as a socket-activated service.\n"
	    "\n"
	    "  -t TYPE          filesystem type; the service socket is %s/SUBTYPE\n"
	    "  -o OPTIONS       mount options, passed to the filesystem server\n"
	    "  --check          exit 0 if a service for TYPE exists and may be used\n"
	    "  --timeout=SECS   (root only) give up after SECS seconds of server silence\n"
	    "                   (default %d), or when the whole mount takes %d times that\n"
	    "  -h, --help       show this text\n"
	    "  -V, --version    show the version\n",
	    kProgramName, kProgramName, kProgramName, kSocketDir, kDefaultTimeoutMs / 1000,
	    kDeadlineFactor);
}

Result<Options> parse_options(int argc, const char *const *argv, const Caller &caller)
{
	Options o;
	bool check = false;
	bool have_type = false;
	bool helper_flags = true; /* until "--" */

	for (int i = 1; i < argc; i++) {
		const std::string_view a = argv[i] ? argv[i] : "";
		if (helper_flags && (a == "-h" || a == "--help")) {
			o.mode = Mode::Help;
			return o;
		}
		if (helper_flags && (a == "-V" || a == "--version")) {
			o.mode = Mode::Version;
			return o;
		}
		if (helper_flags && a == "--check") {
			check = true;
			continue;
		}
		if (helper_flags && starts_with(a, kTimeoutFlag)) {
			if (!caller.is_root()) {
				say("--timeout: only root may change the server timeout");
				return Error{-EPERM};
			}
			auto secs = parse_seconds(a.substr(kTimeoutFlag.size()));
			if (!secs) {
				say("--timeout: expected a number of seconds from 1 to %d",
				    kMaxTimeoutSeconds);
				return Error{-EINVAL};
			}
			o.timeout_ms = *secs * 1000;
			continue;
		}
		if (helper_flags && a == "-t") {
			if (i + 1 >= argc) {
				say("-t: missing filesystem type");
				return Error{-EINVAL};
			}
			if (have_type) {
				say("-t: filesystem type given twice");
				return Error{-EINVAL};
			}
			have_type = true;
			o.type = argv[++i];
			continue;
		}
		if (a == "--")
			helper_flags = false;
		o.args.emplace_back(a);
	}

	if (!have_type) {
		say("cannot determine filesystem type (no -t TYPE)");
		return Error{-EINVAL};
	}
	auto sub = subtype_of(o.type);
	if (!sub)
		return Error{-EINVAL};
	o.subtype = std::move(*sub);
	o.mount_opts = parse_caller_mount_options(o.args);

	if (check) {
		if (!o.args.empty()) {
			say("--check takes no other arguments than -t TYPE");
			return Error{-EINVAL};
		}
		o.mode = Mode::Check;
		return o;
	}
	if (o.args.empty()) {
		print_usage(true);
		return Error{-EINVAL};
	}
	return o;
}

} // namespace fsvc::helper
