/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fs/ext4/watchdog.h"

#include "fs/ext4/filesystem.h"

#include <unistd.h>

namespace fsvc::ext4
{

namespace
{

int64_t nowMs()
{
	using namespace std::chrono;
	return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

} // namespace

Watchdog::Watchdog(unsigned bound_seconds) : bound_ms_(bound_seconds * 1000U)
{
	if (bound_ms_ > 0)
		thread_ = std::thread([this] { run(); });
}

Watchdog::~Watchdog()
{
	stop_ = true;
	if (thread_.joinable())
		thread_.join();
}

unsigned Watchdog::slotOfThisThread()
{
	/* Worker threads are few and long-lived; one slot each, shared past kSlots. */
	thread_local unsigned slot = next_slot_.fetch_add(1) % kSlots;
	return slot;
}

Watchdog::Guard::Guard(Watchdog &w, const char *op) : w_(w), slot_(w.slotOfThisThread())
{
	w_.slots_[slot_].op.store(op, std::memory_order_relaxed);
	w_.slots_[slot_].start_ms.store(nowMs(), std::memory_order_release);
}

Watchdog::Guard::~Guard()
{
	w_.slots_[slot_].start_ms.store(0, std::memory_order_release);
}

void Watchdog::run()
{
	const auto tick = std::chrono::milliseconds(std::max(10U, std::min(1000U, bound_ms_ / 4)));
	while (!stop_.load()) {
		std::this_thread::sleep_for(tick);
		int64_t now = nowMs();
		for (auto &s : slots_) {
			int64_t start = s.start_ms.load(std::memory_order_acquire);
			if (start != 0 && now - start > int64_t(bound_ms_)) {
				const char *op = s.op.load(std::memory_order_relaxed);
				logLine("watchdog: a %s request has run for over %u s (a looping "
					"structure on the image?); stopping the server",
					op ? op : "?", bound_ms_ / 1000U);
				/* No cleanup: other threads may hold the libext2fs lock.
				 * The kernel aborts the connection when /dev/fuse closes. */
				_exit(3);
			}
		}
	}
}

} // namespace fsvc::ext4
