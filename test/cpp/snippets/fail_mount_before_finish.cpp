// expect: no member named 'mount
#define FUSE_USE_VERSION 319
#include <fuse_service.hpp>

#include <utility>

int main()
{
	fsvc::Service s = std::move(fsvc::accept()).service();
	fsvc::CmdlineOpts opts;
	auto st = s.mount(nullptr, opts); // error-here
	return st.ok();
}
