// expect: nodiscard
#define FUSE_USE_VERSION 319
#include <fuse_service.hpp>

#include <fcntl.h>
#include <utility>

int main()
{
	fsvc::Service s = std::move(fsvc::accept()).service();
	s.request_blockdev("/dev/loop0", O_RDONLY, 4096); // error-here
	return 0;
}
