/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "core/protocol.h"

#include <cerrno>
#include <optional>

namespace fsvc::proto
{

namespace
{

/* Appends big-endian fields; the only way bytes are produced. */
class Writer
{
public:
	explicit Writer(uint32_t magic) { u32(magic); }

	Writer &u16(uint16_t v)
	{
		put(static_cast<uint8_t>(v >> 8));
		put(static_cast<uint8_t>(v));
		return *this;
	}
	Writer &u32(uint32_t v)
	{
		u16(static_cast<uint16_t>(v >> 16));
		return u16(static_cast<uint16_t>(v));
	}
	/* A protocol string: non-empty, no NUL inside, NUL-terminated. */
	Writer &str(std::string_view s)
	{
		if (s.empty() || s.find('\0') != std::string_view::npos)
			bad_ = true;
		for (char c : s)
			put(static_cast<uint8_t>(c));
		put(0);
		return *this;
	}
	Bytes take()
	{
		if (bad_ || buf_.size() > kMaxPacketSize)
			return {};
		return std::move(buf_);
	}

private:
	void put(uint8_t b) { buf_.push_back(static_cast<std::byte>(b)); }

	Bytes buf_;
	bool bad_ = false;
};

/*
 * Reads big-endian fields from a packet. Every read is checked against the
 * end of the span; a failed read poisons the reader so that callers only need
 * to look at ok() once, at the end.
 */
class Reader
{
public:
	explicit Reader(std::span<const std::byte> p) : p_(p) {}

	uint16_t u16()
	{
		if (!need(2))
			return 0;
		uint16_t v = static_cast<uint16_t>((byte(0) << 8) | byte(1));
		pos_ += 2;
		return v;
	}
	uint32_t u32()
	{
		uint32_t hi = u16();
		uint32_t lo = u16();
		return (hi << 16) | lo;
	}
	/*
	 * The rest of the packet as a protocol string: non-empty, terminated by
	 * the packet's last byte, and with no other NUL.
	 */
	std::optional<std::string> rest_str()
	{
		if (!ok_ || pos_ >= p_.size()) {
			ok_ = false;
			return std::nullopt;
		}
		auto tail = p_.subspan(pos_);
		pos_ = p_.size();
		if (tail.size() < 2 || tail.back() != std::byte{0}) {
			ok_ = false;
			return std::nullopt;
		}
		std::string s(reinterpret_cast<const char *>(tail.data()), tail.size() - 1);
		if (s.find('\0') != std::string::npos) {
			ok_ = false;
			return std::nullopt;
		}
		return s;
	}
	[[nodiscard]] bool ok() const { return ok_; }
	[[nodiscard]] bool at_end() const { return ok_ && pos_ == p_.size(); }

private:
	bool need(size_t n)
	{
		if (!ok_ || p_.size() - pos_ < n)
			ok_ = false;
		return ok_;
	}
	uint32_t byte(size_t i) const { return static_cast<uint32_t>(p_[pos_ + i]); }

	std::span<const std::byte> p_;
	size_t pos_ = 0;
	bool ok_ = true;
};

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

template <typename Cmd>
Result<Command> decode_string_cmd(Reader &r)
{
	auto s = r.rest_str();
	if (!s)
		return Error{-EINVAL};
	return Command{Cmd{std::move(*s)}};
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

Bytes encode(const Command &m)
{
	return std::visit([](const auto &c) { return encode(c); }, m);
}

Result<Hello> decode_hello(std::span<const std::byte> p)
{
	auto r = fixed(p, kHelloSize, kHelloCmd);
	if (!r)
		return Error{-EBADMSG};
	Hello h;
	h.min_version = r->u16();
	h.max_version = r->u16();
	h.flags = r->u32();
	if (!r->at_end())
		return Error{-EBADMSG};
	if (h.min_version > h.max_version || h.max_version < kMinProtoVersion ||
	    h.min_version > kMaxProtoVersion)
		return Error{-EOPNOTSUPP};
	if (h.flags & ~kHelloKnownFlags)
		return Error{-EINVAL};
	return h;
}

Result<HelloReply> decode_hello_reply(std::span<const std::byte> p)
{
	auto r = fixed(p, kHelloReplySize, kHelloReply);
	if (!r)
		return Error{-EBADMSG};
	HelloReply h;
	h.version = r->u16();
	uint16_t padding = r->u16();
	if (!r->at_end())
		return Error{-EBADMSG};
	if (h.version < kMinProtoVersion || h.version > kMaxProtoVersion)
		return Error{-EOPNOTSUPP};
	if (padding != 0)
		return Error{-EINVAL};
	return h;
}

Result<SimpleReply> decode_simple_reply(std::span<const std::byte> p)
{
	auto r = fixed(p, kSimpleReplySize, kSimpleReply);
	if (!r)
		return Error{-EBADMSG};
	SimpleReply s;
	s.error = r->u32();
	if (!r->at_end())
		return Error{-EBADMSG};
	return s;
}

Result<OpenReply> decode_open_reply(std::span<const std::byte> p)
{
	if (p.size() > kMaxPacketSize)
		return Error{-EBADMSG};
	Reader r(p);
	if (r.u32() != kOpenReply)
		return Error{-EBADMSG};
	OpenReply o;
	o.error = r.u32();
	auto path = r.rest_str();
	if (!path)
		return Error{-EBADMSG};
	o.path = std::move(*path);
	return o;
}

Result<Command> decode_command(std::span<const std::byte> p)
{
	if (p.size() < 4 || p.size() > kMaxPacketSize)
		return Error{-EBADMSG};
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
			return Error{-EINVAL};
		c.path = std::move(*path);
		return Command{std::move(c)};
	}
	case kFsopenCmd: {
		FsopenCommand c;
		c.fsopen_flags = r.u32();
		if (!r.at_end() || (c.fsopen_flags & ~kFsopenKnownFlags))
			return Error{-EINVAL};
		return Command{c};
	}
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
			return Error{-EINVAL};
		if (c.expected_fmt != 0 && c.expected_fmt != kFmtDir && c.expected_fmt != kFmtReg)
			return Error{-EINVAL};
		c.path = std::move(*path);
		return Command{std::move(c)};
	}
	case kMountCmd: {
		MountCommand c;
		c.ms_flags = r.u32();
		if (!r.at_end())
			return Error{-EINVAL};
		return Command{c};
	}
	case kByeCmd: {
		ByeCommand c;
		c.exitcode = r.u32();
		if (!r.at_end())
			return Error{-EINVAL};
		return Command{c};
	}
	default:
		return Error{-ENOMSG};
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
