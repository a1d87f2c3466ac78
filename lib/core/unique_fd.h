/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The one owning file descriptor type of the project. Every fd we open or
 * receive is wrapped in a UniqueFD the moment it exists, so no error path can
 * leak one.
 */
#pragma once

#include <unistd.h>
#include <utility>

namespace fsvc
{

class UniqueFD
{
public:
	UniqueFD() noexcept = default;
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

	[[nodiscard]] int get() const noexcept { return fd_; }
	[[nodiscard]] bool isValid() const noexcept { return fd_ >= 0; }

	/* Give up ownership: the caller now closes the fd. */
	[[nodiscard]] int release() noexcept { return std::exchange(fd_, -1); }

	void reset(int fd = -1) noexcept
	{
		int old = std::exchange(fd_, fd);
		if (old >= 0)
			::close(old);
	}

private:
	int fd_ = -1;
};

} // namespace fsvc
