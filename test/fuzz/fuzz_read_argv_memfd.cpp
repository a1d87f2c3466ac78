/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Server side: the argv memfd the helper hands over. The input is written
 * into a real memfd (the reader stats and preads an fd, so that is what it
 * must be fed); whatever it accepts must survive a write/read round trip.
 */
#include <cerrno>
#include <cstring>
#include <string_view>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>

#include "core/argv_memfd.h"
#include "fuzz_check.h"

using namespace fsvc;

namespace
{

/* One memfd for the whole run: creating one per input would dominate. */
int scratch_fd()
{
	static const int fd = ::memfd_create("fuzz argv", MFD_CLOEXEC);
	FUZZ_CHECK(fd >= 0);
	return fd;
}

void fill(int fd, const uint8_t *data, size_t size)
{
	FUZZ_CHECK(::ftruncate(fd, 0) == 0);
	size_t done = 0;
	while (done < size) {
		ssize_t n = ::pwrite(fd, data + done, size - done, static_cast<off_t>(done));
		FUZZ_CHECK(n > 0);
		done += static_cast<size_t>(n);
	}
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const int fd = scratch_fd();
	fill(fd, data, size);

	auto args = read_argv_memfd(fd);
	if (!args) {
		FUZZ_CHECK(args.error() == -EBADMSG);
		return 0;
	}
	FUZZ_CHECK(!args->empty() && args->size() <= kMaxArgc);
	std::vector<std::string_view> views;
	for (const std::string &a : *args) {
		FUZZ_CHECK(std::memchr(a.data(), 0, a.size()) == nullptr);
		FUZZ_CHECK(a.size() + 1 <= kMaxArgLength);
		views.emplace_back(a);
	}

	/* The writer may refuse only what exceeds its (stricter, total) cap. */
	auto again = write_argv_memfd(views);
	if (!again) {
		FUZZ_CHECK(again.error() == -E2BIG);
		return 0;
	}
	auto back = read_argv_memfd(again->get());
	FUZZ_CHECK(back.ok());
	FUZZ_CHECK(*back == *args);
	return 0;
}
