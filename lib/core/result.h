/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Errors as values. A Result<T> holds either a T or a negative errno; nothing
 * in this project throws, and the C boundary returns the errno unchanged.
 */
#pragma once

#include <cassert>
#include <utility>
#include <variant>

namespace fsvc
{

/* A failure: always a negative errno value. */
struct Error {
	int code;
};

template <typename T>
class [[nodiscard]] Result
{
public:
	Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
	Result(Error err) : v_(std::in_place_index<1>, err) { assert(err.code < 0); }

	[[nodiscard]] bool ok() const noexcept { return v_.index() == 0; }
	explicit operator bool() const noexcept { return ok(); }

	/* The negative errno; 0 when the result holds a value. */
	[[nodiscard]] int error() const noexcept { return ok() ? 0 : std::get<1>(v_).code; }

	T &value() & { return std::get<0>(v_); }
	const T &value() const & { return std::get<0>(v_); }
	T &&value() && { return std::get<0>(std::move(v_)); }
	T *operator->() { return &value(); }
	const T *operator->() const { return &value(); }
	T &operator*() & { return value(); }
	const T &operator*() const & { return value(); }

private:
	std::variant<T, Error> v_;
};

} // namespace fsvc
