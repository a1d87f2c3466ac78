// expect: deleted (function|constructor).*Service
#define FUSE_USE_VERSION 319
#include <fuse_service.hpp>

#include <utility>

int main()
{
	fsvc::Service a = std::move(fsvc::accept()).service();
	fsvc::Service b = a; // error-here
	return b.valid();
}
