/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Server side: the HELLO the helper sends first. */
#include <cerrno>

#include "core/protocol.h"
#include "fuzz_check.h"

using namespace fsvc;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const auto in = fuzz::bytes(data, size);
	auto hello = proto::decode_hello(in);
	if (!hello) {
		const int e = hello.error();
		FUZZ_CHECK(e == -EBADMSG || e == -EOPNOTSUPP || e == -EINVAL);
		return 0;
	}
	FUZZ_CHECK(size == proto::kHelloSize);
	FUZZ_CHECK(hello->min_version <= hello->max_version);
	FUZZ_CHECK(hello->min_version <= proto::kMaxProtoVersion);
	FUZZ_CHECK(hello->max_version >= proto::kMinProtoVersion);
	FUZZ_CHECK((hello->flags & ~proto::kHelloKnownFlags) == 0);
	FUZZ_CHECK(fuzz::same_bytes(proto::encode(*hello), in));
	return 0;
}
