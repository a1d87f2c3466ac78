/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "core/protocol.h"

#include <cerrno>
#include <cstdint>
#include <optional>

#include "core/wire.h"

namespace fsvc::proto
{

namespace
{

Bytes encode_string_cmd(uint32_t magic, const std::string &value)
{
	return Writer(magic).str(value).take();
}

/* A fixed-size packet: exact size and magic, or nothing. */
std::optional<Reader> fixed(std::span<const std::byte> p, size_t size, uint32_t magic)
{
	if (p.size() != size || p.size() > kMaxPacketSize)
		return std::nullopt;
	Reader r(p);
	if (r.u32() != magic)
		return std::nullopt;
	return r;
}

/*
 * A fixed-size packet decoded by fields(reader, message): -EBADMSG unless
 * size, magic and the fields read fill the packet exactly.
 */
template <typename Msg, typename Fields>
Result<Msg> decode_fixed(std::span<const std::byte> p, size_t size, uint32_t magic, Fields fields)
{
	auto r = fixed(p, size, magic);
	if (!r)
		return Error{err::kProtocol};
	Msg m;
	fields(*r, m);
	if (!r->at_end())
		return Error{err::kProtocol};
	return m;
}

/* A command whose body is one u32 field, with no bits outside known_bits set. */
template <typename Cmd>
Result<Command> decode_u32_cmd(Reader &r, uint32_t Cmd::*field, uint32_t known_bits = UINT32_MAX)
{
	Cmd c;
	c.*field = r.u32();
	if (!r.at_end() || (c.*field & ~known_bits))
		return Error{err::kBadCommand};
	return Command{c};
}

template <typename Cmd>
Result<Command> decode_string_cmd(Reader &r)
{
	auto s = r.rest_str();
	if (!s)
		return Error{err::kBadCommand};
	return Command{Cmd{std::move(*s)}};
}

/* One encoder per server command; encode(const Command &) is the public one. */
Bytes encode(const OpenCommand &m)
{
	return Writer(m.blockdev ? kOpenBdevCmd : kOpenCmd)
	    .u32(m.open_flags)
	    .u32(m.create_mode)
	    .u32(m.request_flags)
	    .u32(m.block_size)
	    .str(m.path)
	    .take();
}

Bytes encode(const FsopenCommand &m)
{
	return Writer(kFsopenCmd).u32(m.fsopen_flags).take();
}

Bytes encode(const SourceCommand &m)
{
	return encode_string_cmd(kSourceCmd, m.value);
}

Bytes encode(const MntOptsCommand &m)
{
	return encode_string_cmd(kMntOptsCmd, m.value);
}

Bytes encode(const MtabOptsCommand &m)
{
	return encode_string_cmd(kMtabOptsCmd, m.value);
}

Bytes encode(const MountpointCommand &m)
{
	return Writer(kMountpointCmd).u16(m.expected_fmt).u16(0).str(m.path).take();
}

Bytes encode(const MountCommand &m)
{
	return Writer(kMountCmd).u32(m.ms_flags).take();
}

Bytes encode(const ByeCommand &m)
{
	return Writer(kByeCmd).u32(m.exitcode).take();
}

} // namespace

Bytes encode(const Hello &m)
{
	return Writer(kHelloCmd).u16(m.min_version).u16(m.max_version).u32(m.flags).take();
}

Bytes encode(const HelloReply &m)
{
	return Writer(kHelloReply).u16(m.version).u16(0).take();
}

Bytes encode(const SimpleReply &m)
{
	return Writer(kSimpleReply).u32(m.error).take();
}

Bytes encode(const OpenReply &m)
{
	return Writer(kOpenReply).u32(m.error).str(m.path).take();
}

Bytes encode(const Command &m)
{
	return std::visit([](const auto &c) { return encode(c); }, m);
}

Result<Hello> decode_hello(std::span<const std::byte> p)
{
	auto h = decode_fixed<Hello>(p, kHelloSize, kHelloCmd, [](Reader &r, Hello &m) {
		m.min_version = r.u16();
		m.max_version = r.u16();
		m.flags = r.u32();
	});
	if (!h)
		return h;
	if (h->min_version > h->max_version || h->max_version < kMinProtoVersion ||
	    h->min_version > kMaxProtoVersion)
		return Error{err::kNoCommonVersion};
	if (h->flags & ~kHelloKnownFlags)
		return Error{err::kBadCommand};
	return h;
}

Result<HelloReply> decode_hello_reply(std::span<const std::byte> p)
{
	uint16_t padding = 0;
	auto h = decode_fixed<HelloReply>(p, kHelloReplySize, kHelloReply,
					  [&](Reader &r, HelloReply &m) {
						  m.version = r.u16();
						  padding = r.u16();
					  });
	if (!h)
		return h;
	if (h->version < kMinProtoVersion || h->version > kMaxProtoVersion)
		return Error{err::kNoCommonVersion};
	if (padding != 0)
		return Error{err::kBadCommand};
	return h;
}

Result<SimpleReply> decode_simple_reply(std::span<const std::byte> p)
{
	return decode_fixed<SimpleReply>(p, kSimpleReplySize, kSimpleReply,
					 [](Reader &r, SimpleReply &m) { m.error = r.u32(); });
}

Result<OpenReply> decode_open_reply(std::span<const std::byte> p)
{
	if (p.size() > kMaxPacketSize)
		return Error{err::kProtocol};
	Reader r(p);
	if (r.u32() != kOpenReply)
		return Error{err::kProtocol};
	OpenReply o;
	o.error = r.u32();
	auto path = r.rest_str();
	if (!path)
		return Error{err::kProtocol};
	o.path = std::move(*path);
	return o;
}

Result<Command> decode_command(std::span<const std::byte> p)
{
	if (p.size() < 4 || p.size() > kMaxPacketSize)
		return Error{err::kProtocol};
	Reader r(p);
	const uint32_t magic = r.u32();

	switch (magic) {
	case kOpenCmd:
	case kOpenBdevCmd: {
		OpenCommand c;
		c.blockdev = magic == kOpenBdevCmd;
		c.open_flags = r.u32();
		c.create_mode = r.u32();
		c.request_flags = r.u32();
		c.block_size = r.u32();
		auto path = r.rest_str();
		if (!path || (c.request_flags & ~kOpenKnownFlags))
			return Error{err::kBadCommand};
		c.path = std::move(*path);
		return Command{std::move(c)};
	}
	case kFsopenCmd:
		return decode_u32_cmd(r, &FsopenCommand::fsopen_flags, kFsopenKnownFlags);
	case kSourceCmd:
		return decode_string_cmd<SourceCommand>(r);
	case kMntOptsCmd:
		return decode_string_cmd<MntOptsCommand>(r);
	case kMtabOptsCmd:
		return decode_string_cmd<MtabOptsCommand>(r);
	case kMountpointCmd: {
		MountpointCommand c;
		c.expected_fmt = r.u16();
		uint16_t padding = r.u16();
		auto path = r.rest_str();
		if (!path || padding != 0)
			return Error{err::kBadCommand};
		if (c.expected_fmt != 0 && c.expected_fmt != kFmtDir && c.expected_fmt != kFmtReg)
			return Error{err::kBadCommand};
		c.path = std::move(*path);
		return Command{std::move(c)};
	}
	case kMountCmd:
		return decode_u32_cmd(r, &MountCommand::ms_flags);
	case kByeCmd:
		return decode_u32_cmd(r, &ByeCommand::exitcode);
	default:
		return Error{err::kUnknownCommand};
	}
}

uint32_t packet_magic(std::span<const std::byte> p) noexcept
{
	if (p.size() < 4)
		return 0;
	Reader r(p);
	return r.u32();
}

std::string open_command_path(std::span<const std::byte> p)
{
	const uint32_t magic = packet_magic(p);
	if (magic != kOpenCmd && magic != kOpenBdevCmd)
		return "?";
	Reader r(p);
	for (int i = 0; i < 5; i++)
		(void)r.u32();
	auto path = r.rest_str();
	return path ? *path : "?";
}

std::string magic_name(uint32_t magic)
{
	std::string s;
	for (int shift = 24; shift >= 0; shift -= 8) {
		char c = static_cast<char>((magic >> shift) & 0xff);
		s.push_back(c >= 0x20 && c < 0x7f ? c : '?');
	}
	return s;
}

} // namespace fsvc::proto
