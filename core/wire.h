/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Big-endian fields in and out of a byte buffer: the only code that turns
 * numbers and strings into wire bytes and back, for the packets
 * (core/protocol.cpp) and the argv memfd (core/argv_memfd.cpp).
 */
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/protocol.h"

namespace fsvc::proto
{

/* Appends big-endian fields; the only way bytes are produced. */
class Writer
{
public:
	Writer() = default;
	/* A packet: its magic number first. */
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
		if (s.empty())
			bad_ = true;
		return cstr(s);
	}
	/* Any string without a NUL inside (empty too), NUL-terminated. */
	Writer &cstr(std::string_view s)
	{
		if (s.find('\0') != std::string_view::npos)
			bad_ = true;
		for (char c : s)
			put(static_cast<uint8_t>(c));
		put(0);
		return *this;
	}
	[[nodiscard]] size_t size() const { return buf_.size(); }
	/* The bytes, or nothing when a string was refused or they exceed max_size. */
	Bytes take(size_t max_size = kMaxPacketSize)
	{
		if (bad_ || buf_.size() > max_size)
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

} // namespace fsvc::proto
