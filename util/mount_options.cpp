/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "util/mount_options.h"

#include <array>
#include <cerrno>
#include <sys/mount.h>

#include "util/messages.h"

#ifndef MOUNT_ATTR_NOSYMFOLLOW
#define MOUNT_ATTR_NOSYMFOLLOW 0x00200000
#endif
#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif

namespace fsvc::helper
{

namespace
{

/* Set by the helper from what it knows; a server must never choose them. */
constexpr std::array<std::string_view, 6> kHelperOwnedKeys = {"fd",       "rootmode", "user_id",
							      "group_id", "subtype",  "source"};

KernelOption make_option(std::string_view text)
{
	KernelOption o;
	auto eq = text.find('=');
	if (eq == std::string_view::npos) {
		o.key = std::string(text);
		return o;
	}
	o.key = std::string(text.substr(0, eq));
	std::string_view v = text.substr(eq + 1);
	if (v.size() >= 2 && v.front() == '"' && v.back() == '"')
		v = v.substr(1, v.size() - 2);
	o.value = std::string(v);
	o.has_value = true;
	return o;
}

std::vector<std::string_view> split_plain(std::string_view s)
{
	std::vector<std::string_view> out;
	size_t start = 0;
	for (size_t i = 0; i <= s.size(); i++) {
		if (i == s.size() || s[i] == ',') {
			out.push_back(s.substr(start, i - start));
			start = i + 1;
		}
	}
	return out;
}

/* The key of a token, with any quote characters dropped. */
std::string bare_key(std::string_view token)
{
	std::string key;
	for (char c : token.substr(0, token.find('='))) {
		if (c != '"' && c != ' ' && c != '\t')
			key.push_back(c);
	}
	return key;
}

/*
 * Superblock flags the kernel also reads from option data, where they would
 * undo a DOIT flag (an "async" after our "sync"). A server sets flags in DOIT.
 */
constexpr std::array<std::string_view, 4> kFlagUndoingKeys = {"rw", "async", "nolazytime",
							      "nomand"};

int check_key(const std::string &key, bool allow_other_ok, std::string *bad)
{
	for (std::string_view owned : kHelperOwnedKeys) {
		if (key == owned) {
			*bad = key;
			return -EPERM;
		}
	}
	for (std::string_view undo : kFlagUndoingKeys) {
		if (key == undo) {
			*bad = key;
			return -EPERM;
		}
	}
	if (!allow_other_ok && (key == "allow_other" || key == "allow_root")) {
		*bad = key;
		return -EPERM;
	}
	return 0;
}

} // namespace

std::vector<KernelOption> split_kernel_options(std::string_view opts)
{
	std::vector<KernelOption> out;
	size_t start = 0;
	bool quoted = false;
	for (size_t i = 0; i <= opts.size(); i++) {
		if (i < opts.size() && opts[i] == '"')
			quoted = !quoted;
		if (i == opts.size() || (opts[i] == ',' && !quoted)) {
			std::string_view tok = opts.substr(start, i - start);
			if (!tok.empty())
				out.push_back(make_option(tok));
			start = i + 1;
		}
	}
	return out;
}

int check_kernel_options(std::string_view opts, bool allow_other_ok, std::string *bad)
{
	/* Both readings: the kernel's parser may or may not honour quotes. */
	for (std::string_view tok : split_plain(opts)) {
		if (int r = check_key(bare_key(tok), allow_other_ok, bad); r < 0)
			return r;
	}
	for (const KernelOption &o : split_kernel_options(opts)) {
		if (int r = check_key(o.key, allow_other_ok, bad); r < 0)
			return r;
	}
	return 0;
}

bool is_flag_undoing_key(std::string_view key)
{
	for (std::string_view undo : kFlagUndoingKeys)
		if (key == undo)
			return true;
	return false;
}

int check_widening_options(std::string_view opts, bool allow_other, bool allow_root,
			   std::string *bad)
{
	auto check = [&](const std::string &key) {
		if ((key == "allow_other" && !allow_other) ||
		    (key == "allow_root" && !allow_root)) {
			*bad = key;
			return -EPERM;
		}
		return 0;
	};
	for (std::string_view tok : split_plain(opts))
		if (int r = check(bare_key(tok)); r < 0)
			return r;
	for (const KernelOption &o : split_kernel_options(opts))
		if (int r = check(o.key); r < 0)
			return r;
	return 0;
}

bool has_kernel_option(std::string_view opts, std::string_view key)
{
	for (const KernelOption &o : split_kernel_options(opts))
		if (o.key == key)
			return true;
	return false;
}

NewApiFlags translate_ms_flags(uint32_t f)
{
	NewApiFlags out;
	auto take = [&](uint32_t bit) {
		bool set = f & bit;
		f &= ~bit;
		return set;
	};
	if (take(MS_RDONLY)) {
		out.sb_flags.push_back("ro");
		out.attrs |= MOUNT_ATTR_RDONLY;
	}
	if (take(MS_SYNCHRONOUS))
		out.sb_flags.push_back("sync");
	if (take(MS_DIRSYNC))
		out.sb_flags.push_back("dirsync");
	if (take(MS_LAZYTIME))
		out.sb_flags.push_back("lazytime");
	if (take(MS_NOSUID))
		out.attrs |= MOUNT_ATTR_NOSUID;
	if (take(MS_NODEV))
		out.attrs |= MOUNT_ATTR_NODEV;
	if (take(MS_NOEXEC))
		out.attrs |= MOUNT_ATTR_NOEXEC;
	if (take(MS_NODIRATIME))
		out.attrs |= MOUNT_ATTR_NODIRATIME;
	if (take(MS_NOSYMFOLLOW))
		out.attrs |= MOUNT_ATTR_NOSYMFOLLOW;
	/* The atime modes are one field; strictatime wins, as in mount(2). */
	const bool noatime = take(MS_NOATIME);
	const bool strict = take(MS_STRICTATIME);
	(void)take(MS_RELATIME); /* the default: MOUNT_ATTR_RELATIME is 0 */
	/*
	 * Only asks the kernel to log less; the new API logs to the context fd
	 * anyway. Were it "inexpressible", a server could force mount(2).
	 */
	(void)take(MS_SILENT);
	if (strict)
		out.attrs |= MOUNT_ATTR_STRICTATIME;
	else if (noatime)
		out.attrs |= MOUNT_ATTR_NOATIME;
	out.leftover = f;
	return out;
}

} // namespace fsvc::helper
