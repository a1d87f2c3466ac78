/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Shared by the libFuzzer targets. A broken oracle must stop the fuzzer with
 * a readable reason, whatever the build type: assert() may be compiled out.
 */
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>

#define FUZZ_CHECK(cond)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			std::fprintf(stderr, "%s:%d: oracle failed: %s\n", __FILE__, __LINE__,     \
				     #cond);                                                       \
			std::abort();                                                              \
		}                                                                                  \
	} while (0)

namespace fsvc::fuzz
{

inline std::span<const std::byte> bytes(const uint8_t *data, size_t size)
{
	return {reinterpret_cast<const std::byte *>(data), size};
}

/* Re-encoding what a decoder accepted must give back the very same bytes:
 * the wire format has exactly one encoding per message. */
template <typename Buf>
bool same_bytes(const Buf &encoded, std::span<const std::byte> input)
{
	return encoded.size() == input.size() &&
	       std::equal(encoded.begin(), encoded.end(), input.begin());
}

} // namespace fsvc::fuzz
