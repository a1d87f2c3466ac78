/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "core/argv_memfd.h"

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/protocol.h"

namespace fsvc
{

namespace
{

constexpr size_t kHeaderSize = 8;
constexpr size_t kEntrySize = 8;

void put_u32(std::vector<std::byte> &buf, size_t off, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		buf[off + i] = static_cast<std::byte>(v >> (24 - 8 * i));
}

uint32_t get_u32(std::span<const std::byte> buf, size_t off)
{
	uint32_t v = 0;
	for (int i = 0; i < 4; i++)
		v = (v << 8) | static_cast<uint32_t>(buf[off + i]);
	return v;
}

int write_all(int fd, std::span<const std::byte> data)
{
	size_t done = 0;
	while (done < data.size()) {
		ssize_t n =
		    ::pwrite(fd, data.data() + done, data.size() - done, static_cast<off_t>(done));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		done += static_cast<size_t>(n);
	}
	return 0;
}

} // namespace

Result<UniqueFD> write_argv_memfd(std::span<const std::string_view> args)
{
	if (args.empty())
		return Error{-EINVAL};
	if (args.size() > kMaxArgc)
		return Error{-E2BIG};

	size_t total = kHeaderSize + args.size() * kEntrySize;
	for (std::string_view a : args) {
		if (a.find('\0') != std::string_view::npos)
			return Error{-EINVAL};
		if (a.size() + 1 > kMaxArgLength)
			return Error{-E2BIG};
		total += a.size() + 1;
	}
	if (total > kMaxArgvFileSize)
		return Error{-E2BIG};

	std::vector<std::byte> buf(total);
	put_u32(buf, 0, proto::kArgsMagic);
	put_u32(buf, 4, static_cast<uint32_t>(args.size()));
	size_t pos = kHeaderSize + args.size() * kEntrySize;
	for (size_t i = 0; i < args.size(); i++) {
		const size_t len = args[i].size() + 1;
		put_u32(buf, kHeaderSize + i * kEntrySize, static_cast<uint32_t>(pos));
		put_u32(buf, kHeaderSize + i * kEntrySize + 4, static_cast<uint32_t>(len));
		std::memcpy(buf.data() + pos, args[i].data(), args[i].size());
		pos += len; /* the NUL is already there */
	}

	UniqueFD fd(::memfd_create("fuse service argv", MFD_CLOEXEC | MFD_ALLOW_SEALING));
	if (!fd.isValid())
		return Error{-errno};
	if (int r = write_all(fd.get(), buf); r < 0)
		return Error{r};
	/* Seal it: the server reads exactly what we wrote, and cannot change it. */
	if (::fcntl(fd.get(), F_ADD_SEALS,
		    F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
		return Error{-errno};
	return fd;
}

Result<std::vector<std::string>> read_argv_memfd(int fd)
{
	struct stat st;
	if (::fstat(fd, &st) < 0)
		return Error{-errno};
	if (!S_ISREG(st.st_mode) || st.st_size < static_cast<off_t>(kHeaderSize) ||
	    st.st_size > static_cast<off_t>(kMaxArgvFileSize))
		return Error{-EBADMSG};

	/* One snapshot; every later check is against this buffer only. */
	std::vector<std::byte> buf(static_cast<size_t>(st.st_size));
	size_t got = 0;
	while (got < buf.size()) {
		ssize_t n =
		    ::pread(fd, buf.data() + got, buf.size() - got, static_cast<off_t>(got));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return Error{-errno};
		}
		if (n == 0)
			break;
		got += static_cast<size_t>(n);
	}
	buf.resize(got);
	const std::span<const std::byte> file(buf);
	if (file.size() < kHeaderSize || get_u32(file, 0) != proto::kArgsMagic)
		return Error{-EBADMSG};

	const uint64_t argc = get_u32(file, 4);
	if (argc == 0 || argc > kMaxArgc || kHeaderSize + argc * kEntrySize > file.size())
		return Error{-EBADMSG};

	std::vector<std::string> out;
	out.reserve(argc);
	for (uint64_t i = 0; i < argc; i++) {
		const uint64_t pos = get_u32(file, kHeaderSize + i * kEntrySize);
		const uint64_t len = get_u32(file, kHeaderSize + i * kEntrySize + 4);
		if (len == 0 || len > kMaxArgLength || pos + len > file.size())
			return Error{-EBADMSG};
		auto s = file.subspan(pos, len);
		if (s.back() != std::byte{0})
			return Error{-EBADMSG};
		std::string arg(reinterpret_cast<const char *>(s.data()), len - 1);
		if (arg.find('\0') != std::string::npos)
			return Error{-EBADMSG};
		out.push_back(std::move(arg));
	}
	return out;
}

} // namespace fsvc
