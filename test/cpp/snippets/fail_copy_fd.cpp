// expect: deleted (function|constructor).*UniqueFD
#define FUSE_USE_VERSION 319
#include <fuse_service.hpp>

#include <fcntl.h>
#include <utility>

int main()
{
	fsvc::Service s = std::move(fsvc::accept()).service();
	auto fd = s.request_file("/dev/null", O_RDONLY);
	if (!fd)
		return 1;
	fsvc::UniqueFD copy = *fd; // error-here
	return copy.get();
}
