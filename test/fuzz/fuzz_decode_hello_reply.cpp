/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helper side: the server's answer to HELLO. */
#include <cerrno>

#include "core/protocol.h"
#include "fuzz_check.h"

using namespace fsvc;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const auto in = fuzz::bytes(data, size);
	auto reply = proto::decode_hello_reply(in);
	if (!reply) {
		const int e = reply.error();
		FUZZ_CHECK(e == -EBADMSG || e == -EOPNOTSUPP || e == -EINVAL);
		return 0;
	}
	FUZZ_CHECK(size == proto::kHelloReplySize);
	FUZZ_CHECK(reply->version >= proto::kMinProtoVersion &&
		   reply->version <= proto::kMaxProtoVersion);
	FUZZ_CHECK(fuzz::same_bytes(proto::encode(*reply), in));
	return 0;
}
