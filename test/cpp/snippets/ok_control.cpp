// The control: every misuse above, done right. Must compile.
#define FUSE_USE_VERSION 319
#include <fuse_service.hpp>

#include <fcntl.h>
#include <utility>

int main(int argc, char *argv[])
{
	fsvc::Accepted accepted = fsvc::accept();
	if (accepted.outcome() != fsvc::Accepted::Outcome::service)
		return accepted.error() != 0;
	fsvc::Service a = std::move(accepted).service();
	fsvc::Service b = std::move(a);
	auto args = b.args(argc, argv);
	if (!args)
		return 1;
	auto fd = b.request_file("/dev/null", O_RDONLY);
	if (!fd && !fd.error_detail().refused())
		return 1;
	auto dev = b.request_blockdev("/dev/loop0", O_RDONLY, 4096);
	fsvc::UniqueFD moved = fd ? std::move(*fd) : fsvc::UniqueFD();
	auto ready = std::move(b).finish_file_requests();
	auto opts = fsvc::parse_cmdline_opts(*args);
	if (!ready || !opts)
		return 1;
	fsvc::ReadyService r = std::move(*ready);
	if (auto st = r.mount(nullptr, *opts); !st)
		return fsvc::exit_status(st.error());
	auto bye = std::move(r).goodbye(0);
	return fsvc::exit_status(bye.error() + (dev ? 0 : 0) + moved.isValid());
}
