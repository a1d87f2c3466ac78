/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "core/option_list.h"

namespace fsvc
{

std::vector<std::string> split_options(std::string_view list, Quoting quoting)
{
	std::vector<std::string> out(1);
	bool quoted = false;
	for (size_t i = 0; i < list.size(); i++) {
		const char c = list[i];
		if (quoting == Quoting::Backslash && c == '\\' && i + 1 < list.size()) {
			out.back().push_back(list[++i]);
			continue;
		}
		if (quoting == Quoting::DoubleQuotes && c == '"')
			quoted = !quoted;
		if (c == ',' && !quoted)
			out.emplace_back();
		else
			out.back().push_back(c);
	}
	return out;
}

std::string join_options(std::span<const std::string> tokens)
{
	std::string s;
	for (const std::string &t : tokens) {
		if (!s.empty())
			s += ',';
		s += t;
	}
	return s;
}

} // namespace fsvc
