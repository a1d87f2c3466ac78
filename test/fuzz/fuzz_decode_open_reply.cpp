/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Server side: the helper's answer to OPEN/BDEV (and the argv/fusedev files). */
#include <cerrno>
#include <cstring>

#include "core/protocol.h"
#include "fuzz_check.h"

using namespace fsvc;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const auto in = fuzz::bytes(data, size);
	auto reply = proto::decode_open_reply(in);
	if (!reply) {
		FUZZ_CHECK(reply.error() == -EBADMSG);
		return 0;
	}
	FUZZ_CHECK(size <= proto::kMaxPacketSize);
	FUZZ_CHECK(!reply->path.empty());
	FUZZ_CHECK(std::memchr(reply->path.data(), 0, reply->path.size()) == nullptr);
	FUZZ_CHECK(size == proto::kOpenReplyHead + reply->path.size() + 1);
	FUZZ_CHECK(fuzz::same_bytes(proto::encode(*reply), in));
	return 0;
}
