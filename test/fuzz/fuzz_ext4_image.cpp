/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A mutated ext2/3/4 image, mounted in-process the way the server does:
 * journal replay in memory (open_replayed), then the engine opens it and
 * everything reachable is walked and read. libFuzzer's -timeout bounds each
 * input, ASan/UBSan catch memory errors, -rss_limit_mb the memory.
 *
 * Seeds are stored without their trailing zero blocks; the memfd is
 * extended (sparsely) to the size the superblock declares, so a 3 MiB
 * image with a journal costs ~100 KiB of corpus.
 */
#include "fs/ext4/filesystem.h"
#include "fs/ext4/replay/open_replayed.h"
#include "fuzz_check.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

namespace
{

using namespace fsvc::ext4;

/* Bounds per input, so the fuzzer explores instead of walking huge trees. */
constexpr uint64_t kMaxImage = 64ull << 20;
constexpr size_t kMaxNodes = 512;
constexpr size_t kMaxRead = 256 * 1024;

fsvc::UniqueFD image_fd(const uint8_t *data, size_t size)
{
	fsvc::UniqueFD fd(memfd_create("fuzz-ext4", MFD_CLOEXEC));
	FUZZ_CHECK(fd.isValid());
	size_t off = 0;
	while (off < size) {
		ssize_t n = write(fd.get(), data + off, size - off);
		FUZZ_CHECK(n > 0);
		off += size_t(n);
	}
	/* The size the primary superblock claims (blocks count * block size). */
	uint64_t want = size;
	if (size >= 1024 + 32) {
		const uint8_t *sb = data + 1024;
		uint64_t blocks = uint64_t(sb[4]) | uint64_t(sb[5]) << 8 | uint64_t(sb[6]) << 16 |
				  uint64_t(sb[7]) << 24;
		uint32_t log = uint32_t(sb[24]) | uint32_t(sb[25]) << 8;
		if (log <= 6)
			want = std::max<uint64_t>(want, blocks << (10 + log));
	}
	want = std::min(want, kMaxImage);
	if (want > size)
		FUZZ_CHECK(ftruncate(fd.get(), off_t(want)) == 0);
	return fd;
}

void walk(Filesystem &fs)
{
	std::vector<ext2_ino_t> todo{EXT2_ROOT_INO};
	std::vector<std::byte> buf(kMaxRead);
	size_t nodes = 0;
	(void)fs.statfs();
	while (!todo.empty() && nodes < kMaxNodes) {
		ext2_ino_t ino = todo.back();
		todo.pop_back();
		nodes++;
		auto st = fs.getattr(ino);
		if (!st)
			continue;
		(void)fs.crtime(ino);
		if (auto names = fs.listxattr(ino))
			for (const std::string &n : *names)
				(void)fs.getxattr(ino, n);
		if (S_ISDIR(st->st_mode)) {
			auto dir = fs.openDir(ino);
			if (!dir)
				continue;
			/* A crafted directory may repeat a name: lookup finds the
			 * first entry, as the kernel does. */
			std::unordered_map<std::string, ext2_ino_t> first;
			for (const DirEntry &e : (*dir)->entries)
				first.try_emplace(e.name, e.ino);
			for (const DirEntry &e : (*dir)->entries) {
				if (e.name == "." || e.name == "..")
					continue;
				auto found = fs.lookup(ino, e.name);
				if (found)
					FUZZ_CHECK(*found == first[e.name]);
				if (todo.size() < kMaxNodes)
					todo.push_back(e.ino);
			}
		} else if (S_ISREG(st->st_mode)) {
			auto map = fs.openFile(ino);
			if (!map)
				continue;
			auto n = fs.read(**map, buf, 0);
			if (n)
				FUZZ_CHECK(*n <= buf.size());
			(void)fs.read(**map, std::span(buf).first(4096), uint64_t(st->st_size) / 2);
		} else if (S_ISLNK(st->st_mode)) {
			(void)fs.readlink(ino);
		}
	}
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* The engine logs a line per corrupt structure, thousands a second: ask
	 * libFuzzer to discard the target's stderr (its own reports, and the
	 * sanitizers', still go to the original stderr). FUZZ_EXT4_VERBOSE=1
	 * keeps the lines, to replay a finding. */
	static std::vector<char *> args;
	if (getenv("FUZZ_EXT4_VERBOSE"))
		return 0;
	args.assign(*argv, *argv + *argc);
	static char quiet[] = "-close_fd_mask=2";
	args.push_back(quiet);
	args.push_back(nullptr);
	*argc = int(args.size() - 1);
	*argv = args.data();
	return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2048)
		return 0;
	fsvc::UniqueFD fd = image_fd(data, size);

	/* The replay on its own: whatever it accepts must be coherent. */
	std::string why;
	auto replayed = open_replayed(fd.get(), why);
	if (replayed && replayed->overlay) {
		const JournalOverlay &o = *replayed->overlay;
		FUZZ_CHECK(!o.empty());
		FUZZ_CHECK(o.block_size() == replayed->fs->blocksize);
		FUZZ_CHECK(o.stats().blocks == o.size());
	} else if (!replayed) {
		FUZZ_CHECK(!why.empty());
		FUZZ_CHECK(why.find('\n') == std::string::npos);
	}
	replayed = fsvc::Error{-1}; /* close before the engine opens its own */

	fsvc::UniqueFD engine_fd(fcntl(fd.get(), F_DUPFD_CLOEXEC, 3));
	FUZZ_CHECK(engine_fd.isValid());
	auto fs = Filesystem::open(std::move(engine_fd), OpenOptions{});
	if (!fs) {
		/* Refused (perhaps a journal it will not replay): the in-place
		 * state is still worth walking. */
		engine_fd = fsvc::UniqueFD(fcntl(fd.get(), F_DUPFD_CLOEXEC, 3));
		FUZZ_CHECK(engine_fd.isValid());
		OpenOptions plain;
		plain.norecovery = true;
		fs = Filesystem::open(std::move(engine_fd), plain);
	}
	if (fs)
		walk(**fs);
	return 0;
}
