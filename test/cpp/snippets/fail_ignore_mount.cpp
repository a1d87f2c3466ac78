// expect: nodiscard
#define FUSE_USE_VERSION 319
#include <fuse_service.hpp>

#include <utility>

int main()
{
	fsvc::Service s = std::move(fsvc::accept()).service();
	auto ready = std::move(s).finish_file_requests();
	fsvc::CmdlineOpts opts;
	if (ready)
		ready->mount(nullptr, opts); // error-here
	return 0;
}
