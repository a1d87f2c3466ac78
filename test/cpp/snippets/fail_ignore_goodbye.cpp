// expect: nodiscard
#define FUSE_USE_VERSION 319
#include <fuse_service.hpp>

#include <utility>

int main()
{
	fsvc::Service s = std::move(fsvc::accept()).service();
	std::move(s).goodbye(1); // error-here
	return 0;
}
