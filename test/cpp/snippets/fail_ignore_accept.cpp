// expect: nodiscard
#define FUSE_USE_VERSION 319
#include <fuse_service.hpp>

int main()
{
	fsvc::accept(); // error-here
	return 0;
}
