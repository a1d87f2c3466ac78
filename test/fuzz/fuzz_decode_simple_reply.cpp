/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Server side: the helper's answer to TYPE, NAME, OPTS, MTAB, MNTP, DOIT. */
#include <cerrno>

#include "core/protocol.h"
#include "fuzz_check.h"

using namespace fsvc;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const auto in = fuzz::bytes(data, size);
	auto reply = proto::decode_simple_reply(in);
	if (!reply) {
		FUZZ_CHECK(reply.error() == -EBADMSG);
		return 0;
	}
	FUZZ_CHECK(size == proto::kSimpleReplySize);
	FUZZ_CHECK(fuzz::same_bytes(proto::encode(*reply), in));
	return 0;
}
