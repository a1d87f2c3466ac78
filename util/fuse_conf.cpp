/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "util/fuse_conf.h"

#include <cerrno>
#include <charconv>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/unique_fd.h"
#include "util/messages.h"

namespace fsvc::helper
{

namespace
{

/* Far larger than any real fuse.conf; keeps a hostile file from eating memory. */
constexpr size_t kMaxConfSize = 64 * 1024;

bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

std::string_view trim(std::string_view s)
{
	while (!s.empty() && is_space(s.front()))
		s.remove_prefix(1);
	while (!s.empty() && is_space(s.back()))
		s.remove_suffix(1);
	return s;
}

/*
 * What a message may show of a line we do not understand: its leading word,
 * short, and only harmless characters. Should the file ever be something
 * else (a link to /etc/shadow in a misbuilt setup), that is a user name, not
 * a password hash.
 */
std::string excerpt(std::string_view text)
{
	constexpr size_t kMaxShown = 24;
	size_t n = 0;
	while (n < text.size() && n < kMaxShown &&
	       ((text[n] >= 'a' && text[n] <= 'z') || (text[n] >= 'A' && text[n] <= 'Z') ||
		(text[n] >= '0' && text[n] <= '9') || text[n] == '_' || text[n] == '-' ||
		text[n] == '.'))
		n++;
	std::string shown(text.substr(0, n));
	if (n < text.size())
		shown += "...";
	return shown;
}

/* "mount_max = N" with any blanks around '='; N is a decimal integer >= -1. */
void parse_mount_max(std::string_view rest, int line, ParsedConf &out)
{
	rest = trim(rest);
	if (rest.empty() || rest.front() != '=') {
		out.problems.push_back({line, "expected 'mount_max = N'"});
		return;
	}
	rest = trim(rest.substr(1));
	int value = 0;
	auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), value);
	if (ec != std::errc() || end != rest.data() + rest.size()) {
		out.problems.push_back({line, "invalid mount_max value '" + excerpt(rest) + "'"});
		return;
	}
	if (value < -1) {
		out.problems.push_back({line, "invalid mount_max = " + std::to_string(value)});
		return;
	}
	out.conf.mount_max = value;
}

void parse_line(std::string_view text, int line, ParsedConf &out)
{
	if (auto hash = text.find('#'); hash != std::string_view::npos)
		text = text.substr(0, hash);
	text = trim(text);
	if (text.empty())
		return;
	if (text == "user_allow_other") {
		out.conf.user_allow_other = true;
		return;
	}
	constexpr std::string_view kMountMax = "mount_max";
	if (text.substr(0, kMountMax.size()) == kMountMax &&
	    (text.size() == kMountMax.size() || is_space(text[kMountMax.size()]) ||
	     text[kMountMax.size()] == '=')) {
		parse_mount_max(text.substr(kMountMax.size()), line, out);
		return;
	}
	out.problems.push_back({line, "unknown parameter '" + excerpt(text) + "'"});
}

} // namespace

ParsedConf parse_fuse_conf(std::string_view text)
{
	ParsedConf out;
	int line = 1;
	while (!text.empty()) {
		size_t nl = text.find('\n');
		std::string_view one = text.substr(0, nl);
		if (one.find('\0') != std::string_view::npos)
			out.problems.push_back({line, "line contains a NUL byte"});
		else
			parse_line(one, line, out);
		if (nl == std::string_view::npos)
			break;
		text.remove_prefix(nl + 1);
		line++;
	}
	return out;
}

FuseConf load_fuse_conf(const char *path)
{
	/*
	 * Read as root: only a file that root alone controls counts. No
	 * symlink, no FIFO to block on, nothing others could have written.
	 */
	UniqueFD fd(open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK));
	if (!fd.isValid()) {
		int err = errno;
		if (err == ELOOP)
			say("%s:0: is a symbolic link; ignored, using the defaults", path);
		else if (err != ENOENT)
			say("%s:0: cannot open: %s; using the defaults", path, errstr(err));
		return {};
	}
	struct stat st;
	if (fstat(fd.get(), &st) < 0 || !S_ISREG(st.st_mode)) {
		say("%s:0: not a regular file; ignored, using the defaults", path);
		return {};
	}
	if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		say("%s:0: not owned by root or writable by others; ignored, using the defaults",
		    path);
		return {};
	}
	std::string text;
	char buf[4096];
	for (;;) {
		ssize_t n = read(fd.get(), buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			say("%s:0: read failed: %s; using the defaults", path, errstr(errno));
			return {};
		}
		if (n == 0)
			break;
		text.append(buf, static_cast<size_t>(n));
		if (text.size() > kMaxConfSize) {
			say("%s:0: larger than %zu bytes; using the defaults", path, kMaxConfSize);
			return {};
		}
	}
	ParsedConf parsed = parse_fuse_conf(text);
	for (const ConfProblem &p : parsed.problems)
		say("%s:%d: %s", path, p.line, p.text.c_str());
	return parsed.conf;
}

} // namespace fsvc::helper
