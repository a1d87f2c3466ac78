// expect: nodiscard
#define FUSE_USE_VERSION 319
#include <fuse_service.hpp>

int main(int argc, char *argv[])
{
	fsvc::Args args(argc, argv);
	fsvc::parse_cmdline_opts(args); // error-here
	return 0;
}
