/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file fuse_service_types.hpp
 * @brief The vocabulary types of the C++ API: an owning descriptor and a
 *        result that carries a value or a negative errno.
 *
 * These are the types the library itself is written with (its internal
 * headers include this one), so a server and the library share one owning
 * descriptor type and one error convention. Nothing here throws; every
 * type is usable with `-fno-exceptions`.
 *
 * Everything lives in namespace `fsvc` ("fuse service"). The name is not
 * `fuse_service`, which would clash with `struct fuse_service` of the C API.
 */
#ifndef FUSE_SERVICE_TYPES_HPP_
#define FUSE_SERVICE_TYPES_HPP_

#include <cassert>
#include <unistd.h>
#include <utility>
#include <variant>

namespace fsvc
{

/**
 * An owning file descriptor: closes it when destroyed. Move-only; a
 * moved-from or default-constructed object holds -1.
 */
class UniqueFD
{
public:
	UniqueFD() noexcept = default;
	/** Take ownership of @p fd (which may be -1). */
	explicit UniqueFD(int fd) noexcept : fd_(fd) {}
	UniqueFD(UniqueFD &&other) noexcept : fd_(other.release()) {}
	UniqueFD &operator=(UniqueFD &&other) noexcept
	{
		reset(other.release());
		return *this;
	}
	UniqueFD(const UniqueFD &) = delete;
	UniqueFD &operator=(const UniqueFD &) = delete;
	~UniqueFD() { reset(); }

	/** The descriptor, still owned by this object; -1 when empty. */
	[[nodiscard]] int get() const noexcept { return fd_; }
	/** Does the object hold a descriptor? */
	[[nodiscard]] bool isValid() const noexcept { return fd_ >= 0; }

	/** Give up ownership: the caller now closes the fd. */
	[[nodiscard]] int release() noexcept { return std::exchange(fd_, -1); }

	/** Close the held descriptor (if any) and hold @p fd instead. */
	void reset(int fd = -1) noexcept
	{
		int old = std::exchange(fd_, fd);
		if (old >= 0)
			::close(old);
	}

private:
	int fd_ = -1;
};

/** A failure: always a negative errno value. */
struct Error {
	int code;
};

/**
 * Errors as values: either a T or an error E (by default Error). E has an
 * `int code` member holding a negative errno.
 *
 * Reading value() of a result that holds an error is a programming error:
 * it terminates the process (std::get on the wrong alternative; with
 * `-fno-exceptions` that is abort()), it is never undefined behaviour.
 */
template <typename T, typename E = Error>
class [[nodiscard]] Result
{
public:
	/** A success holding @p value. */
	Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
	/** A failure; @p err.code must be a negative errno. */
	Result(E err) : v_(std::in_place_index<1>, err) { assert(err.code < 0); }

	/** Does the result hold a value? */
	[[nodiscard]] bool ok() const noexcept { return v_.index() == 0; }
	explicit operator bool() const noexcept { return ok(); }

	/** The negative errno; 0 when the result holds a value. */
	[[nodiscard]] int error() const noexcept { return ok() ? 0 : std::get<1>(v_).code; }
	/** The whole error; the result must hold one. */
	[[nodiscard]] const E &error_detail() const { return std::get<1>(v_); }

	T &value() & { return std::get<0>(v_); }
	const T &value() const & { return std::get<0>(v_); }
	T &&value() && { return std::get<0>(std::move(v_)); }
	T *operator->() { return &value(); }
	const T *operator->() const { return &value(); }
	T &operator*() & { return value(); }
	const T &operator*() const & { return value(); }

private:
	std::variant<T, E> v_;
};

/** A result without a value: success, or an error. */
template <typename E>
class [[nodiscard]] Result<void, E>
{
public:
	/** Success. */
	Result() noexcept = default;
	/** A failure; @p err.code must be a negative errno. */
	Result(E err) noexcept : err_(err), failed_(true) { assert(err.code < 0); }

	[[nodiscard]] bool ok() const noexcept { return !failed_; }
	explicit operator bool() const noexcept { return ok(); }
	/** The negative errno; 0 on success. */
	[[nodiscard]] int error() const noexcept { return failed_ ? err_.code : 0; }
	/** The whole error; meaningful only when !ok(). */
	[[nodiscard]] const E &error_detail() const noexcept { return err_; }

private:
	E err_{};
	bool failed_ = false;
};

/** The result of an operation that yields nothing but success or an errno. */
using Status = Result<void>;

/** Status from a C return value: 0 (or positive) is success, else the errno. */
[[nodiscard]] inline Status status_from(int ret) noexcept
{
	if (ret < 0)
		return Error{ret};
	return {};
}

} // namespace fsvc

#endif /* FUSE_SERVICE_TYPES_HPP_ */
