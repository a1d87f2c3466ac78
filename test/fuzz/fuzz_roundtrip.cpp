/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Both sides: build a message from structured input, encode it, and decode it
 * with the decoder of the receiving side. Whatever the encoder puts on the
 * wire must decode to the same value, and the encoder must refuse (empty
 * buffer) exactly what no decoder would accept.
 */
#include <cerrno>
#include <fuzzer/FuzzedDataProvider.h>
#include <string>

#include "core/protocol.h"
#include "fuzz_check.h"

using namespace fsvc;

namespace
{

/* Strings biased towards the interesting sizes: empty, small, near the cap. */
std::string fuzz_string(FuzzedDataProvider &in)
{
	std::string s = in.ConsumeRandomLengthString(256);
	if (in.ConsumeBool()) {
		const size_t pad = in.ConsumeIntegralInRange<size_t>(0, proto::kMaxPacketSize + 16);
		s.append(pad, static_cast<char>(in.ConsumeIntegralInRange<int>(1, 255)));
	}
	return s;
}

bool wire_string_ok(const std::string &s, size_t head)
{
	return !s.empty() && s.find('\0') == std::string::npos &&
	       head + s.size() + 1 <= proto::kMaxPacketSize;
}

void round_hello(FuzzedDataProvider &in)
{
	proto::Hello h;
	h.min_version = in.ConsumeIntegral<uint16_t>();
	h.max_version = in.ConsumeIntegral<uint16_t>();
	h.flags = in.ConsumeIntegral<uint32_t>();
	auto wire = proto::encode(h);
	FUZZ_CHECK(wire.size() == proto::kHelloSize);
	auto back = proto::decode_hello(wire);
	const bool versions_ok = h.min_version <= h.max_version &&
				 h.max_version >= proto::kMinProtoVersion &&
				 h.min_version <= proto::kMaxProtoVersion;
	if (!versions_ok) {
		FUZZ_CHECK(back.error() == -EOPNOTSUPP);
	} else if (h.flags & ~proto::kHelloKnownFlags) {
		FUZZ_CHECK(back.error() == -EINVAL);
	} else {
		FUZZ_CHECK(back.ok());
		FUZZ_CHECK(back->min_version == h.min_version &&
			   back->max_version == h.max_version && back->flags == h.flags);
	}
}

void round_hello_reply(FuzzedDataProvider &in)
{
	proto::HelloReply h;
	h.version = in.ConsumeIntegral<uint16_t>();
	auto wire = proto::encode(h);
	FUZZ_CHECK(wire.size() == proto::kHelloReplySize);
	auto back = proto::decode_hello_reply(wire);
	if (h.version < proto::kMinProtoVersion || h.version > proto::kMaxProtoVersion) {
		FUZZ_CHECK(back.error() == -EOPNOTSUPP);
	} else {
		FUZZ_CHECK(back.ok() && back->version == h.version);
	}
}

void round_simple_reply(FuzzedDataProvider &in)
{
	proto::SimpleReply s{in.ConsumeIntegral<uint32_t>()};
	auto back = proto::decode_simple_reply(proto::encode(s));
	FUZZ_CHECK(back.ok() && back->error == s.error);
}

void round_open_reply(FuzzedDataProvider &in)
{
	proto::OpenReply o;
	o.error = in.ConsumeIntegral<uint32_t>();
	o.path = fuzz_string(in);
	auto wire = proto::encode(o);
	if (!wire_string_ok(o.path, proto::kOpenReplyHead)) {
		FUZZ_CHECK(wire.empty());
		return;
	}
	auto back = proto::decode_open_reply(wire);
	FUZZ_CHECK(back.ok() && back->error == o.error && back->path == o.path);
}

/* A command the server sends, decoded by the helper's decode_command. */
void round_command(FuzzedDataProvider &in)
{
	proto::Command cmd;
	size_t head = 0;
	const std::string *str = nullptr;
	bool rule_ok = true;
	switch (in.ConsumeIntegralInRange<int>(0, 7)) {
	case 0: {
		proto::OpenCommand o;
		o.blockdev = in.ConsumeBool();
		o.open_flags = in.ConsumeIntegral<uint32_t>();
		o.create_mode = in.ConsumeIntegral<uint32_t>();
		o.request_flags = in.ConsumeIntegral<uint32_t>();
		o.block_size = in.ConsumeIntegral<uint32_t>();
		o.path = fuzz_string(in);
		rule_ok = (o.request_flags & ~proto::kOpenKnownFlags) == 0;
		cmd = std::move(o);
		head = proto::kOpenCmdHead;
		str = &std::get<proto::OpenCommand>(cmd).path;
		break;
	}
	case 1: {
		proto::FsopenCommand t{in.ConsumeIntegral<uint32_t>()};
		rule_ok = (t.fsopen_flags & ~proto::kFsopenKnownFlags) == 0;
		cmd = t;
		break;
	}
	case 2:
		cmd = proto::SourceCommand{fuzz_string(in)};
		head = proto::kStringCmdHead;
		str = &std::get<proto::SourceCommand>(cmd).value;
		break;
	case 3:
		cmd = proto::MntOptsCommand{fuzz_string(in)};
		head = proto::kStringCmdHead;
		str = &std::get<proto::MntOptsCommand>(cmd).value;
		break;
	case 4:
		cmd = proto::MtabOptsCommand{fuzz_string(in)};
		head = proto::kStringCmdHead;
		str = &std::get<proto::MtabOptsCommand>(cmd).value;
		break;
	case 5: {
		proto::MountpointCommand m;
		m.expected_fmt =
		    in.ConsumeBool()
			? in.PickValueInArray<uint16_t>({0, proto::kFmtDir, proto::kFmtReg})
			: in.ConsumeIntegral<uint16_t>();
		m.path = fuzz_string(in);
		rule_ok = m.expected_fmt == 0 || m.expected_fmt == proto::kFmtDir ||
			  m.expected_fmt == proto::kFmtReg;
		cmd = std::move(m);
		head = proto::kMountpointHead;
		str = &std::get<proto::MountpointCommand>(cmd).path;
		break;
	}
	case 6:
		cmd = proto::MountCommand{in.ConsumeIntegral<uint32_t>()};
		break;
	default:
		cmd = proto::ByeCommand{in.ConsumeIntegral<uint32_t>()};
		break;
	}

	auto wire = proto::encode(cmd);
	if (str && !wire_string_ok(*str, head)) {
		FUZZ_CHECK(wire.empty());
		return;
	}
	FUZZ_CHECK(!wire.empty());
	auto back = proto::decode_command(wire);
	if (!rule_ok) {
		FUZZ_CHECK(back.error() == -EINVAL);
		return;
	}
	FUZZ_CHECK(back.ok());
	FUZZ_CHECK(back->index() == cmd.index());
	/* Field-by-field equality, through the one canonical encoding. */
	auto again = proto::encode(*back);
	FUZZ_CHECK(again == wire);
	if (auto *o = std::get_if<proto::OpenCommand>(&cmd)) {
		auto &b = std::get<proto::OpenCommand>(*back);
		FUZZ_CHECK(b.blockdev == o->blockdev && b.open_flags == o->open_flags &&
			   b.create_mode == o->create_mode && b.request_flags == o->request_flags &&
			   b.block_size == o->block_size && b.path == o->path);
	} else if (auto *m = std::get_if<proto::MountpointCommand>(&cmd)) {
		auto &b = std::get<proto::MountpointCommand>(*back);
		FUZZ_CHECK(b.expected_fmt == m->expected_fmt && b.path == m->path);
	}
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FuzzedDataProvider in(data, size);
	switch (in.ConsumeIntegralInRange<int>(0, 4)) {
	case 0:
		round_hello(in);
		break;
	case 1:
		round_hello_reply(in);
		break;
	case 2:
		round_simple_reply(in);
		break;
	case 3:
		round_open_reply(in);
		break;
	default:
		round_command(in);
		break;
	}
	return 0;
}
