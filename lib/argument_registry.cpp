/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "lib/argument_registry.h"

#include <algorithm>
#include <mutex>
#include <vector>

#include <fuse_opt.h>

namespace fsvc
{

void record_args(fuse_service &sf, const fuse_args &args)
{
	sf.args_seen_at = &args;
	sf.seen_args.clear();
	for (int i = 0; i < args.argc; i++)
		sf.seen_args.emplace_back(args.argv[i] ? args.argv[i] : "");
}

namespace
{
std::mutex registry_lock;
std::vector<fuse_service *> &registry()
{
	static std::vector<fuse_service *> contexts;
	return contexts;
}
} // namespace

void register_context(fuse_service *sf)
{
	std::lock_guard lock(registry_lock);
	registry().push_back(sf);
}

void unregister_context(fuse_service *sf)
{
	std::lock_guard lock(registry_lock);
	auto &r = registry();
	r.erase(std::remove(r.begin(), r.end(), sf), r.end());
}

void record_args_for(const fuse_args &args)
{
	std::lock_guard lock(registry_lock);
	for (fuse_service *sf : registry())
		if (sf->args_seen_at == &args)
			record_args(*sf, args);
}

} // namespace fsvc
