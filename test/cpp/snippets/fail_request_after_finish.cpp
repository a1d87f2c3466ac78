// expect: no member named 'request_file
#define FUSE_USE_VERSION 319
#include <fuse_service.hpp>

#include <fcntl.h>
#include <utility>

int main()
{
	fsvc::Service s = std::move(fsvc::accept()).service();
	auto ready = std::move(s).finish_file_requests();
	if (!ready)
		return 1;
	auto fd = ready->request_file("/dev/null", O_RDONLY); // error-here
	return fd.ok();
}
