/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The C++ API as a third-party server sees it: built by abi_test.sh with
 * only `c++ -std=c++20 -fno-exceptions file.cpp $(pkg-config --cflags
 * --libs fuse3-service)`, and run without socket activation, where accept()
 * must say "not activated" and nothing else.
 */
#define FUSE_USE_VERSION 319
#include <fuse_service.hpp>

#include <cstdio>
#include <utility>

int main(int argc, char *argv[])
{
	fsvc::Accepted accepted = fsvc::accept();
	switch (accepted.outcome()) {
	case fsvc::Accepted::Outcome::not_activated: {
		fsvc::Args args(argc, argv);
		std::printf("not activated, %zu argument(s)\n", args.size());
		return 0;
	}
	case fsvc::Accepted::Outcome::error:
		std::printf("error %d\n", accepted.error());
		return 1;
	case fsvc::Accepted::Outcome::service:
		break;
	}
	fsvc::Service service = std::move(accepted).service();
	auto args = service.args(argc, argv);
	if (!args)
		return 1;
	auto ready = std::move(service).finish_file_requests();
	return ready ? 0 : 1;
}
