/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The request watchdog. A crafted image can make a request spin (a loop in
 * an extent tree or a directory that libext2fs does not catch); rather than
 * leave the caller hung in the kernel, the server ends itself when any
 * request runs longer than a bound, so the mount answers ENOTCONN.
 */
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

namespace fsvc::ext4
{

class Watchdog
{
public:
	/* Start the checker thread; a bound of 0 disables the watchdog. */
	explicit Watchdog(unsigned bound_seconds);
	~Watchdog();
	Watchdog(const Watchdog &) = delete;
	Watchdog &operator=(const Watchdog &) = delete;

	/* Marks the calling thread busy for its lifetime. */
	class Guard
	{
	public:
		explicit Guard(Watchdog &w, const char *op);
		~Guard();
		Guard(const Guard &) = delete;
		Guard &operator=(const Guard &) = delete;

	private:
		Watchdog &w_;
		unsigned slot_;
	};

private:
	static constexpr unsigned kSlots = 256;
	struct Slot {
		std::atomic<int64_t> start_ms{0}; /* 0: idle */
		std::atomic<const char *> op{nullptr};
	};
	unsigned slotOfThisThread();
	void run();

	unsigned bound_ms_;
	Slot slots_[kSlots];
	std::atomic<unsigned> next_slot_{0};
	std::atomic<bool> stop_{false};
	std::thread thread_;
};

} // namespace fsvc::ext4
