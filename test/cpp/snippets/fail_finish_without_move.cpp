// expect: this. argument (to member function .finish_file_requests|discards qualifiers)
#define FUSE_USE_VERSION 319
#include <fuse_service.hpp>

#include <utility>

int main()
{
	fsvc::Service s = std::move(fsvc::accept()).service();
	auto ready = s.finish_file_requests(); // error-here
	return ready.ok();
}
