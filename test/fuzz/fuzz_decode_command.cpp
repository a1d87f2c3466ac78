/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helper side: every server command, plus the small functions the helper
 * uses on packets it refuses (the magic, the path echoed in a refusal, the
 * printable name of a magic).
 */
#include <cerrno>
#include <cstring>

#include "core/protocol.h"
#include "fuzz_check.h"

using namespace fsvc;

namespace
{

bool clean_string(const std::string &s)
{
	return !s.empty() && std::memchr(s.data(), 0, s.size()) == nullptr;
}

/* What a decoded command must look like, whatever bytes it came from. */
void check_command(const proto::Command &cmd)
{
	if (auto *o = std::get_if<proto::OpenCommand>(&cmd)) {
		FUZZ_CHECK(clean_string(o->path));
		FUZZ_CHECK((o->request_flags & ~proto::kOpenKnownFlags) == 0);
	} else if (auto *t = std::get_if<proto::FsopenCommand>(&cmd)) {
		FUZZ_CHECK((t->fsopen_flags & ~proto::kFsopenKnownFlags) == 0);
	} else if (auto *s = std::get_if<proto::SourceCommand>(&cmd)) {
		FUZZ_CHECK(clean_string(s->value));
	} else if (auto *m = std::get_if<proto::MntOptsCommand>(&cmd)) {
		FUZZ_CHECK(clean_string(m->value));
	} else if (auto *x = std::get_if<proto::MtabOptsCommand>(&cmd)) {
		FUZZ_CHECK(clean_string(x->value));
	} else if (auto *p = std::get_if<proto::MountpointCommand>(&cmd)) {
		FUZZ_CHECK(clean_string(p->path));
		FUZZ_CHECK(p->expected_fmt == 0 || p->expected_fmt == proto::kFmtDir ||
			   p->expected_fmt == proto::kFmtReg);
	}
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const auto in = fuzz::bytes(data, size);
	const uint32_t magic = proto::packet_magic(in);
	FUZZ_CHECK(size >= 4 || magic == 0);
	FUZZ_CHECK(proto::magic_name(magic).size() == 4);

	const std::string echoed = proto::open_command_path(in);
	FUZZ_CHECK(echoed == "?" || clean_string(echoed));

	auto cmd = proto::decode_command(in);
	if (!cmd) {
		const int e = cmd.error();
		FUZZ_CHECK(e == -EBADMSG || e == -ENOMSG || e == -EINVAL);
		FUZZ_CHECK((e == -EBADMSG) == (size < 4 || size > proto::kMaxPacketSize));
		return 0;
	}
	check_command(*cmd);
	/* A well-formed OPEN/BDEV is echoed with its own path. */
	if (auto *o = std::get_if<proto::OpenCommand>(&*cmd))
		FUZZ_CHECK(echoed == o->path);
	FUZZ_CHECK(proto::packet_magic(proto::encode(*cmd)) == magic);
	FUZZ_CHECK(fuzz::same_bytes(proto::encode(*cmd), in));
	return 0;
}
