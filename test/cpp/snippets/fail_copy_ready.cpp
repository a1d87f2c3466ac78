// expect: deleted (function|constructor).*ReadyService
#define FUSE_USE_VERSION 319
#include <fuse_service.hpp>

#include <utility>

int main()
{
	fsvc::Service s = std::move(fsvc::accept()).service();
	auto ready = std::move(s).finish_file_requests();
	if (!ready)
		return 1;
	fsvc::ReadyService copy = *ready; // error-here
	return copy.valid();
}
