/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "util/argument_policy.h"

#include <vector>

namespace fsvc::helper
{

std::vector<std::string> split_fuse_opts(std::string_view list)
{
	std::vector<std::string> out(1);
	for (size_t i = 0; i < list.size(); i++) {
		char c = list[i];
		if (c == '\\' && i + 1 < list.size()) {
			out.back().push_back(list[++i]);
		} else if (c == ',') {
			out.emplace_back();
		} else {
			out.back().push_back(c);
		}
	}
	return out;
}

namespace
{

bool value_matches(std::string_view opt, std::string_view path)
{
	auto eq = opt.find('=');
	return eq != std::string_view::npos && opt.substr(eq + 1) == path;
}

} // namespace

std::optional<std::string_view> mountpoint_argument(std::span<const std::string> args)
{
	std::vector<std::string_view> positional;
	bool options_done = false;
	for (size_t i = 0; i < args.size() && positional.size() < 2; i++) {
		const std::string &a = args[i];
		if (!options_done && a == "--") {
			options_done = true;
			continue;
		}
		if (!options_done && a == "-o") {
			i++; /* skip its value */
			continue;
		}
		if (!options_done && !a.empty() && a[0] == '-')
			continue;
		positional.emplace_back(a);
	}
	if (positional.empty())
		return std::nullopt;
	return positional.back();
}

bool is_mountpoint_argument(std::span<const std::string> args, std::string_view path)
{
	auto mp = mountpoint_argument(args);
	return mp && !path.empty() && *mp == path;
}

bool is_named_on_command_line(std::span<const std::string> args, std::string_view path)
{
	if (path.empty())
		return false;
	for (size_t i = 0; i < args.size(); i++) {
		const std::string &a = args[i];
		if (a == path)
			return true;
		std::string_view list;
		if (a == "-o" && i + 1 < args.size())
			list = args[i + 1];
		else if (a.size() > 2 && a[0] == '-' && a[1] == 'o')
			list = std::string_view(a).substr(2);
		if (!list.empty()) {
			for (const std::string &opt : split_fuse_opts(list))
				if (value_matches(opt, path))
					return true;
		}
		if (a.size() > 2 && a[0] == '-' && a[1] == '-' && value_matches(a, path))
			return true;
		if (a.size() > 2 && a[0] == '-' && a[1] != '-' &&
		    std::string_view(a).substr(2) == path)
			return true;
	}
	return false;
}

} // namespace fsvc::helper
